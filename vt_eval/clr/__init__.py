"""CLR (Claim-Level Reliability) test-time scaling, SPEC.md section 3; docs/clr.md.

Pure helpers of the CLR stage (vt_eval/stages/clr.py), each testable without a model:
- `prompts`: the versioned extraction and verification prompts;
- `parsing`: claims and verdicts out of model replies, every outcome named and counted;
- `aggregation`: reliabilities, draws, the cluster choice and the per-benchmark metrics;
- `files`: the records of claims.jsonl and verifications.jsonl, and resuming them;
- `calls`: the model requests of each step and how their replies become records;
- `report`: clr.json's method description and the one-line summaries.
"""
