"""One gate rule's outcome, and the gate's exit code from all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EXIT_OK, EXIT_VIOLATED, EXIT_ERROR = 0, 1, 2
Status = Literal["pass", "fail", "error", "skipped"]


@dataclass(frozen=True)
class RuleResult:
    name: str
    status: Status
    message: str


def exit_code(results: list[RuleResult]) -> int:
    """0 every rule passed; 1 a rule was violated; 2 an error, or no rule at all (fail closed)."""
    if any(r.status == "error" for r in results) or not results:
        return EXIT_ERROR
    return EXIT_VIOLATED if any(r.status == "fail" for r in results) else EXIT_OK
