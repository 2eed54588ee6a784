"""Reading one choice of an OpenAI-compatible response: text and, when asked, log-probabilities.

Chat: choices[0].message (a reasoning parser's `reasoning_content` is folded back as <think>...),
log-probabilities from choices[0].logprobs.content[].logprob. Legacy completions (raw text):
choices[0].text, log-probabilities from choices[0].logprobs.token_logprobs / tokens; with
`echo: true` these cover the prompt and then the completion (vLLM, llama.cpp). A server that
drops what was asked for raises BackendError naming the capability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vt_eval.backends.base import Capability, Request
from vt_eval.errors import BackendError


@dataclass(frozen=True)
class ParsedChoice:
    text: str
    token_logprobs: tuple[float, ...] | None = None
    prompt_logprobs: tuple[float | None, ...] | None = None
    prompt_tokens: tuple[str, ...] | None = None


def missing(capability: Capability, field: str) -> BackendError:
    return BackendError(f"the server returned no {field}: it does not support {capability} "
                        f"(use a server that does, e.g. vLLM or llama.cpp, or another backend)")


def parse_chat_choice(request: Request, choice: dict[str, Any]) -> ParsedChoice:
    message = choice.get("message") or {}
    text = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if reasoning:  # servers with a reasoning parser split the thinking off
        text = f"<think>{reasoning}</think>{text}"
    if not request.logprobs:
        return ParsedChoice(text)
    content = (choice.get("logprobs") or {}).get("content")
    if not isinstance(content, list):
        raise missing("logprobs", "choices[0].logprobs.content")
    return ParsedChoice(text, tuple(float(entry["logprob"]) for entry in content))


def parse_text_choice(request: Request, choice: dict[str, Any], usage: dict[str, Any]) -> ParsedChoice:
    text = choice.get("text") or ""
    if not (request.logprobs or request.prompt_logprobs):
        return ParsedChoice(text)
    block = choice.get("logprobs") or {}
    values, tokens = block.get("token_logprobs"), block.get("tokens")
    if not isinstance(values, list) or not isinstance(tokens, list) or len(values) != len(tokens):
        wanted: Capability = "prompt_logprobs" if request.prompt_logprobs else "logprobs"
        raise missing(wanted, "choices[0].logprobs.token_logprobs")
    if not request.prompt_logprobs:
        return ParsedChoice(text, tuple(float(v) for v in values))
    prompt = request.text or ""
    count = prompt_length(prompt, text, block, usage)
    if count is None or count == 0 or count > len(values):
        raise missing("prompt_logprobs", "prompt log-probabilities (echo: true was ignored)")
    completion_values = tuple(float(v) for v in values[count:]) if request.logprobs else None
    prompt_values = (None, *(float(v) for v in values[1:count]))
    return ParsedChoice(text[len(prompt):] if text.startswith(prompt) else text, completion_values,
                        prompt_values, tuple(str(t) for t in tokens[:count]))


def prompt_length(prompt: str, text: str, block: dict[str, Any], usage: dict[str, Any]) -> int | None:
    """How many of the echoed tokens are the prompt's: usage.prompt_tokens when the counts add up,
    else the tokens whose text_offset falls inside the echoed prompt; None if echo was ignored."""
    total = len(block.get("token_logprobs") or [])
    prompt_tokens, completion_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(prompt_tokens, int):
        if isinstance(completion_tokens, int):
            return prompt_tokens if prompt_tokens + completion_tokens == total else None
        return prompt_tokens if prompt_tokens <= total else None
    offsets = block.get("text_offset")
    if isinstance(offsets, list) and len(offsets) == total and text.startswith(prompt):
        return sum(1 for offset in offsets if offset < len(prompt))
    return None
