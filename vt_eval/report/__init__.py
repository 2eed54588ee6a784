"""The scorecard: one run dir (+ optional audit and comparison run) -> scorecard.html / .md.

rundata (read and validate the run's files) -> integrity (results.json agrees with scores.jsonl)
-> assemble (one typed view model, `view`) -> plots (matplotlib, optional) -> render (jinja2
templates in `reports/`, autoescaped) and markdown (the twin for PR comments). `compare` and
`gate` reuse rundata, integrity and stats.
"""
