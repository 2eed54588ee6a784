"""The score gate's policy file (`gate.toml`; example: `reports/gate.example.toml`).

Strict: unknown keys, a bool or string where a number belongs, nan/inf and rates outside [0, 1]
are errors naming the key (exit 2), so a typo can never silently weaken the gate.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vt_eval.errors import ConfigError
from vt_eval.verdict.model import Question

POLICY_VERSIONS = (1,)
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


class Scores(_Strict):
    """Minimum avg@k per benchmark (fractions). `basis`: which number must reach it."""

    basis: Literal["ci_low", "point"] = "ci_low"
    min: dict[str, Fraction] = Field(default_factory=dict)


class Regression(_Strict):
    """With --baseline: fail when the run is worse than the baseline by more than `max_drop` and
    the paired test says so at level `alpha` (p < alpha). Without one: an error, unless
    `require_baseline = false` (then shown as not checked)."""

    max_drop: Fraction = 0.0
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.05
    require_baseline: bool = True


class Rates(_Strict):
    """Per benchmark, share of samples (None: not checked)."""

    max_truncation: Fraction | None = None
    max_ungraded: Fraction | None = None
    max_no_answer: Fraction | None = None


class Contamination(_Strict):
    """Delegated to `vt-eval decontam check`: `policy` is a decontam policy file (relative to the
    gate policy; "default" = the shipped decontam/policy.toml)."""

    policy: str = "default"
    require_audit: bool = True


class Provenance(_Strict):
    """Dotted paths into manifest.json (or `config.` + config.toml) that must be set; `*` matches
    every key (e.g. `datasets.*.revision`)."""

    required: list[str] = Field(default_factory=list)


class SandboxRule(_Strict):
    """[sandbox]: generated code must have run in the sandbox (the gate's rule, not the sandbox)."""

    required: bool = True


class Evidence(_Strict):
    """Rules on the verdict's lines (`vt-eval verdict`, the scorecard's panel), per benchmark of
    the run. `require`: these questions must have been checked (*not checked* fails);
    `fail_on`: *evidence found* on these questions fails (a line not checked is shown skipped).
    `claims`: published scores in percent for the claim line (default: the run's [claims], else
    the card's figure for this model)."""

    require: list[Question] = Field(default_factory=list)
    fail_on: list[Question] = Field(default_factory=list)
    claims: dict[str, Annotated[float, Field(ge=0.0, le=100.0)]] = Field(default_factory=dict)


class GatePolicy(_Strict):
    version: int
    scores: Scores = Scores()
    regression: Regression | None = None
    rates: Rates = Rates()
    contamination: Contamination | None = None
    provenance: Provenance = Provenance()
    sandbox: SandboxRule = SandboxRule()
    evidence: Evidence | None = None
    source: str = ""

    def decontam_policy_path(self) -> Path | None:
        if self.contamination is None or self.contamination.policy == "default":
            return None
        return Path(self.source).parent / self.contamination.policy


def _problems(exc: ValidationError) -> str:
    out = []
    for err in exc.errors()[:5]:
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        shown = f" = {err['input']!r}" if err["type"] not in ("missing",) else ""
        out.append(f"{key}{shown}: {err['msg']}")
    return "; ".join(out)


def load_gate_policy(path: Path) -> GatePolicy:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"gate policy {path}: cannot read: {exc}") from exc
    if "source" in raw:
        raise ConfigError(f"gate policy {path}: unknown key 'source'")
    version = raw.get("version")
    if type(version) is not int or version not in POLICY_VERSIONS:
        raise ConfigError(f"gate policy {path}: version = {version!r}; this vt-eval reads "
                          f"{list(POLICY_VERSIONS)} (put `version = 1` at the top)")
    try:
        return GatePolicy.model_validate({**raw, "source": str(path)})
    except ValidationError as exc:
        raise ConfigError(f"gate policy {path}: {_problems(exc)}") from exc
