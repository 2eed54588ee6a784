"""Model-side contamination evidence: memorization probes and the post-cutoff freshness test.

A sibling of the stages (it imports none of them): texts and perturbations (`texts`, `perturb`),
overlap measures (`overlap`), the completion probe (`completion`), the likelihood probe
(`likelihood`), statistics (`stats`), benchmark-level comparison against post-cutoff controls
(`compare`), item dates (`dates`) and the freshness test (`freshness`). What every statistic means
and its limits: docs/probes.md. Everything here is evidence, not proof.
"""
