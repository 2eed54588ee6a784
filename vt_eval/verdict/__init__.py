"""The verdict: per benchmark, one line per question a reader asks of a score (claim vs measured,
training overlap, freshness, memorization probes, reproducibility), each with its numbers and one
of three states. `build.build_verdict` makes it (`model.Verdict`); `vt-eval verdict`, the
scorecard's panel and the gate's evidence rules read it."""
