"""The verdict: per benchmark, one line per question a reader asks of a score (claim vs measured,
training overlap, freshness, memorization probes, reproducibility), each with its numbers and one
of three states. `build_verdict` makes it; `vt-eval verdict`, the scorecard's panel and the gate's
evidence rules read it."""

from vt_eval.verdict.build import build_verdict
from vt_eval.verdict.model import QUESTIONS, BenchmarkVerdict, Line, Verdict

__all__ = ["QUESTIONS", "BenchmarkVerdict", "Line", "Verdict", "build_verdict"]
