"""CLR parsing: claims and verdicts out of real-looking replies; every outcome named."""

from __future__ import annotations

import pytest

from vt_eval.clr.parsing import MAX_CLAIM_CHARS, parse_claims, parse_verdict


def test_exactly_m_claims_and_the_final_answer() -> None:
    reply = ("CLAIM 1: 17_b = b + 7\nCLAIM 2: 97_b = 9b + 7\nCLAIM 3: b + 7 divides 56\n"
             "FINAL ANSWER: 70")
    parsed = parse_claims(reply, 3)
    assert parsed.claims == ("17_b = b + 7", "97_b = 9b + 7", "b + 7 divides 56")
    assert (parsed.status, parsed.rule, parsed.answer, parsed.extra_dropped) == \
        ("ok", "claim-lines", "70", 0)


def test_fewer_than_m_claims_is_counted_as_fewer() -> None:
    parsed = parse_claims("CLAIM 1: x = 2\nFINAL ANSWER: 2", 5)
    assert parsed.claims == ("x = 2",) and parsed.status == "fewer"


def test_more_than_m_claims_keeps_the_first_m_and_counts_the_rest() -> None:
    reply = "\n".join(f"Claim {i}: fact {i}" for i in range(1, 8))
    parsed = parse_claims(reply, 5)
    assert parsed.claims == tuple(f"fact {i}" for i in range(1, 6))
    assert parsed.status == "ok" and parsed.extra_dropped == 2


def test_empty_reply_is_none_and_text_without_claims_is_garbage() -> None:
    assert parse_claims("   \n", 5).status == "none"
    garbage = parse_claims("The solution's final answer is 207.", 5)
    assert garbage.status == "garbage" and garbage.claims == () and garbage.rule == "none"


def test_markdown_think_blocks_continuations_and_repeats() -> None:
    reply = ("<think>CLAIM 1: a thought, not a claim</think>\n"
             "**Claim 1:** the sum is\n  over all b\n"
             "**CLAIM 2**: the sum is over all b\n"  # a repeat (folded) is dropped
             "- CLAIM 3) b = 21 or b = 49\n\nFINAL ANSWER: **70**")
    parsed = parse_claims(reply, 5)
    assert parsed.claims == ("the sum is over all b", "b = 21 or b = 49")
    assert parsed.status == "fewer" and parsed.answer == "70"


def test_numbered_list_is_the_fallback_rule() -> None:
    parsed = parse_claims("Here are the claims:\n1. a = 3\n2) b = 4\n- c = 5\nFINAL ANSWER: 12", 3)
    assert parsed.claims == ("a = 3", "b = 4", "c = 5") and parsed.rule == "list"


def test_a_runaway_claim_is_bounded() -> None:
    parsed = parse_claims("CLAIM 1: " + "x" * 10_000, 5)
    assert len(parsed.claims[0]) == MAX_CLAIM_CHARS


@pytest.mark.parametrize(("reply", "value", "status"), [
    ("The claim holds.\nVERDICT: TRUE", 1, "true"),
    ("Checking... VERDICT: **FALSE**", 0, "false"),
    ("verdict = correct", 1, "true"),
    ("Verdict: incorrect.", 0, "false"),
    ('The answer format is "VERDICT: TRUE" or "VERDICT: FALSE".\nVERDICT: TRUE', 1, "true"),
    ("<think>VERDICT: FALSE</think>VERDICT: TRUE", 1, "true"),
    ("<think>VERDICT: TRUE</think>I am not sure.", None, "unparsable"),
    ("It is true.", None, "unparsable"),
    ("", None, "unparsable"),
    ("VERDICT: maybe", None, "unparsable"),
])
def test_verdicts(reply: str, value: int | None, status: str) -> None:
    parsed = parse_verdict(reply, "stop")
    assert (parsed.value, parsed.status) == (value, status)


def test_a_truncated_verification_is_not_trusted() -> None:
    assert parse_verdict("VERDICT: TRUE and then", "length").status == "truncated"
    assert parse_verdict("VERDICT: TRUE and then", "length").value is None
