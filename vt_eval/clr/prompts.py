"""The CLR prompts, versioned. The report gives none; these are ours (docs/clr.md).

Never change a version in place: add a new one, so an old run's claims can be re-read and re-run.
Both prompts use the sample's own last user message as "the problem": it is exactly what the model
was asked (for GPQA it holds that sample's option order, which its claims refer to).
"""

from __future__ import annotations

from dataclasses import dataclass

from vt_eval.errors import ConfigError

OMITTED = "[... earlier part of the solution omitted ...]\n"


@dataclass(frozen=True)
class PromptVersion:
    name: str
    template: str


EXTRACT_V1 = PromptVersion("clr-extract/v1", """\
Below are a problem and a solution attempt. List the {m} claims in the solution that its final \
answer depends on most: intermediate results, key deductions and computed values. Write each \
claim as one self-contained statement that can be checked on its own, without the solution.

Problem:
{problem}

Solution:
{solution}

Reply in exactly this format and nothing else:
CLAIM 1: <first claim>
...
CLAIM {m}: <last claim>
FINAL ANSWER: <the solution's final answer>""")

VERIFY_V1 = PromptVersion("clr-verify/v1", """\
A solution to the problem below made the following claim. Check the claim on your own: try hard \
to find an error that makes it false, and confirm it only if it holds.

Problem:
{problem}

Claim:
{claim}

End your reply with exactly one line: "VERDICT: TRUE" if the claim is correct, or \
"VERDICT: FALSE" if it is wrong.""")

EXTRACT_PROMPTS = {p.name: p for p in (EXTRACT_V1,)}
VERIFY_PROMPTS = {p.name: p for p in (VERIFY_V1,)}


def _lookup(registry: dict[str, PromptVersion], name: str, what: str) -> PromptVersion:
    if name not in registry:
        raise ConfigError(f"[clr] unknown {what} prompt '{name}'; known: {', '.join(registry)}")
    return registry[name]


def problem_text(messages: list[dict[str, str]]) -> str:
    """The problem as the model saw it: the sample's last user message."""
    users = [m["content"] for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""


def clip_solution(response: str, max_chars: int) -> str:
    """The whole response, or (max_chars > 0) its last max_chars characters, marked as clipped."""
    if max_chars <= 0 or len(response) <= max_chars:
        return response
    return OMITTED + response[-max_chars:]


def extraction_messages(version: str, problem: str, solution: str, m: int) -> list[dict[str, str]]:
    template = _lookup(EXTRACT_PROMPTS, version, "extraction").template
    return [{"role": "user", "content": template.format(m=m, problem=problem, solution=solution)}]


def verification_messages(version: str, problem: str, claim: str) -> list[dict[str, str]]:
    template = _lookup(VERIFY_PROMPTS, version, "verification").template
    return [{"role": "user", "content": template.format(problem=problem, claim=claim)}]


def prompt_texts(extract: str, verify: str) -> dict[str, str]:
    """The exact templates of a configuration (recorded in clr.json)."""
    return {extract: _lookup(EXTRACT_PROMPTS, extract, "extraction").template,
            verify: _lookup(VERIFY_PROMPTS, verify, "verification").template}
