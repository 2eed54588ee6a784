"""Decontamination policy: detection parameters, when a match counts, and the CI gate.

Loaded from a TOML file (default: `decontam/policy.toml`, documented in `decontam/README.md`).
Every default below is the value the shipped policy uses; a key missing from a user's file falls
back to it, an unknown key is an error (so a typo cannot silently weaken a gate).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass

from vt_eval.errors import ConfigError
from vt_eval.resources import resource_dir
from vt_eval.util import sha256_bytes

POLICY_VERSIONS = (1,)
# strict: no bool for a number, no string for anything else; nan / inf are refused
_STRICT = ConfigDict(strict=True, allow_inf_nan=False)
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Cap = Annotated[int, Field(ge=0)]
NgramSize = Annotated[int, Field(ge=2, le=64)]


@dataclass(frozen=True, config=_STRICT)
class NgramParams:
    """Exact n-gram index. `sizes`: n values audited (the smallest also drives the hot path).
    An item n-gram is *countable* unless it is boilerplate: fewer than `min_content_fraction` of
    its tokens lie outside allow-listed phrases, or it occurs in `max_item_df` or more distinct
    benchmark items (a stock phrase of the benchmarks themselves)."""

    sizes: Annotated[tuple[NgramSize, ...], Field(min_length=1)] = (13, 8)
    min_content_fraction: Fraction = 0.5
    max_item_df: Annotated[int, Field(ge=1)] = 3
    allowlists: tuple[str, ...] = ("allowlist/stock_phrases.txt", "allowlist/latex_and_formulas.txt")


@dataclass(frozen=True, config=_STRICT)
class MinhashParams:
    """datasketch MinHash LSH over token shingles, pinned: permutation scheme `affine32`, shingle
    hash = low 32 bits of the 64-bit n-gram hash. LSH candidates are verified by the exact
    Jaccard of the shingle sets (`min_jaccard`) before they count."""

    enabled: bool = True
    num_perm: Annotated[int, Field(ge=2, le=4096)] = 128
    seed: Annotated[int, Field(ge=0, lt=1 << 32)] = 1
    shingle: Annotated[int, Field(ge=1, le=64)] = 3
    lsh_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.4
    min_jaccard: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5


@dataclass(frozen=True, config=_STRICT)
class CountRule:
    """A (benchmark item, training row) match counts as contamination when all given bounds hold.
    method `ngram` uses `n` with `min_shared` / `min_containment`; `minhash` uses `min_jaccard`."""

    method: Literal["ngram", "minhash"]
    n: NgramSize | None = None
    min_shared: Annotated[int, Field(ge=1)] | None = None
    min_containment: Fraction | None = None
    min_jaccard: Fraction | None = None

    def describe(self) -> str:
        parts = [f"{self.method}" + (f"{self.n}" if self.n else "")]
        for name in ("min_shared", "min_containment", "min_jaccard"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value}")
        return " ".join(parts)


@dataclass(frozen=True, config=_STRICT)
class Gate:
    """CI gate: per-benchmark share of contaminated items at most `max_rate`; `max_items` caps the
    count for named benchmarks; `max_skipped_rows` caps unreadable / invalid training rows."""

    max_rate: Fraction = 0.01
    max_items: dict[str, Cap] = field(default_factory=dict)
    max_skipped_rows: Cap = 0


DEFAULT_RULES = (
    CountRule("ngram", n=13, min_shared=1),
    CountRule("ngram", n=8, min_containment=0.5),
    CountRule("minhash", min_jaccard=0.5),
)


@dataclass(frozen=True)
class Policy:
    ngram: NgramParams = NgramParams()
    minhash: MinhashParams = MinhashParams()
    rules: tuple[CountRule, ...] = DEFAULT_RULES
    gate: Gate = Gate()
    source: str = "<built-in defaults>"
    sha256: str = ""
    base_dir: str = ""

    def detection_params(self) -> dict[str, Any]:
        """What the audit's numbers depend on (check refuses a policy that differs here)."""
        return {"ngram": asdict(self.ngram), "minhash": asdict(self.minhash)}

    def allowlist_paths(self) -> list[Path]:
        base = Path(self.base_dir) if self.base_dir else default_policy_path().parent
        return [base / p for p in self.ngram.allowlists]


def default_policy_path() -> Path:
    return resource_dir("decontam") / "policy.toml"


def _problems(exc: ValidationError) -> str:
    out = []
    for err in exc.errors()[:5]:
        key = ".".join(str(part) for part in err["loc"]) or "(table)"
        shown = f" = {err['input']!r}" if err["type"] != "missing" else ""
        out.append(f"{key}{shown}: {err['msg']}")
    return "; ".join(out)


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table, got {raw!r}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    try:
        return cls(**values)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_problems(exc)}") from exc


_RULE_FIELDS = {"ngram": {"n", "min_shared", "min_containment"}, "minhash": {"min_jaccard"}}


def _validate(policy: Policy) -> None:
    where = policy.source
    sizes = policy.ngram.sizes
    _check_bounds(policy)
    for rule in policy.rules:
        if rule.method == "ngram" and rule.n not in sizes:
            raise ConfigError(f"{where}: rule '{rule.describe()}' uses n={rule.n}, "
                              f"not one of ngram.sizes {sizes}")
        if rule.method == "minhash" and not policy.minhash.enabled:
            raise ConfigError(f"{where}: a minhash rule needs minhash.enabled = true")
        stray = sorted(f for f in set().union(*_RULE_FIELDS.values()) - _RULE_FIELDS[rule.method]
                       if getattr(rule, f) is not None)
        if stray:
            raise ConfigError(f"{where}: rule '{rule.describe()}': {stray} do not apply to method "
                              f"{rule.method!r}")


def _check_bounds(policy: Policy) -> None:
    """No threshold below the bound the audit records evidence at: MinHash evidence exists only
    for LSH candidates (`lsh_threshold`) whose exact Jaccard reaches `minhash.min_jaccard`, so a
    rule asking for less would pass rows it never saw. And a gate that cannot fail checks nothing."""
    where, minhash = policy.source, policy.minhash
    if minhash.enabled and minhash.min_jaccard < minhash.lsh_threshold:
        raise ConfigError(f"{where}: minhash.min_jaccard = {minhash.min_jaccard} is below "
                          f"minhash.lsh_threshold = {minhash.lsh_threshold}: pairs in between are "
                          f"rarely LSH candidates, so they would go unseen; raise min_jaccard or "
                          f"lower lsh_threshold")
    floor = max(minhash.min_jaccard, minhash.lsh_threshold)
    for rule in policy.rules:
        if rule.method == "minhash" and rule.min_jaccard is not None and rule.min_jaccard < floor:
            raise ConfigError(f"{where}: rule '{rule.describe()}' asks for min_jaccard = "
                              f"{rule.min_jaccard}, below the bound the audit records MinHash evidence "
                              f"at ({floor}: minhash.min_jaccard / lsh_threshold); matches between them "
                              f"are never recorded, so the rule could not see them. Lower "
                              f"[minhash] min_jaccard (and re-run the audit) or raise the rule's")
    if not policy.rules:
        raise ConfigError(f"{where}: rules = [] counts no match as contamination, so the policy "
                          f"checks nothing; give at least one [[rules]] table (or omit `rules` for "
                          f"the defaults)")
    if policy.gate.max_rate >= 1.0 and not policy.gate.max_items:
        raise ConfigError(f"{where}: gate.max_rate = {policy.gate.max_rate} with no gate.max_items "
                          f"cannot fail (no benchmark can exceed 100% contaminated), so the policy "
                          f"checks nothing; lower max_rate or cap a benchmark in [gate.max_items]")


def _version(raw: dict[str, Any], where: str) -> None:
    version = raw.get("version")
    if type(version) is not int or version not in POLICY_VERSIONS:
        got = "missing" if "version" not in raw else repr(version)
        raise ConfigError(f"{where}: version: {got}; this vt-eval reads policy version(s) "
                          f"{list(POLICY_VERSIONS)} (add `version = 1` at the top)")


def load_policy(path: Path | None = None) -> Policy:
    """Read a policy file (None: the shipped default). Raises ConfigError on any problem."""
    path = path or default_policy_path()
    try:
        data = path.read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"policy {path}: cannot read: {exc}") from exc
    where = str(path)
    unknown = sorted(set(raw) - {"version", "ngram", "minhash", "rules", "gate"})
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {unknown}")
    _version(raw, where)
    gate_raw = raw.get("gate", {})
    if isinstance(gate_raw, dict):
        gate_raw = {**gate_raw, "max_items": _build_items(gate_raw.get("max_items", {}), where)}
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        raise ConfigError(f"{where}: rules must be an array of tables ([[rules]]), got {rules_raw!r}")
    rules = tuple(_build(CountRule, r, f"{where} [[rules]] #{i + 1}") for i, r in enumerate(rules_raw))
    if "rules" not in raw:
        rules = DEFAULT_RULES
    policy = Policy(
        ngram=_build(NgramParams, raw.get("ngram", {}), f"{where} [ngram]"),
        minhash=_build(MinhashParams, raw.get("minhash", {}), f"{where} [minhash]"),
        rules=rules,
        gate=_build(Gate, gate_raw, f"{where} [gate]"),
        source=where,
        sha256=sha256_bytes(data),
        base_dir=str(path.resolve().parent),
    )
    _validate(policy)
    return policy


def _build_items(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} [gate]: max_items must be a table of benchmark = cap, got {raw!r}")
    return dict(raw)


def check_gate_names(policy: Policy, known: set[str], audited: set[str] | None = None) -> None:
    """Every `gate.max_items` name must be a known benchmark and (given `audited`) one the audit
    covered: a cap on a benchmark nobody audited cannot be vouched for."""
    unknown = sorted(set(policy.gate.max_items) - known)
    if unknown:
        raise ConfigError(f"{policy.source}: gate.max_items names unknown benchmark(s) {unknown}; "
                          f"known: {sorted(known)}")
    if audited is not None:
        missing = sorted(set(policy.gate.max_items) - audited)
        if missing:
            raise ConfigError(f"{policy.source}: gate.max_items caps {missing}, which the audit did not "
                              f"cover (audited: {sorted(audited)}); re-run the audit with them, or "
                              f"use a policy without these caps")


def rule_for(match: dict[str, Any], rules: tuple[CountRule, ...]) -> str | None:
    """The first rule under which a match counts as contamination (None: it does not)."""
    for rule in rules:
        if rule.method != match["method"]:
            continue
        if rule.method == "ngram":
            stats = match["ngram"].get(str(rule.n))
            if stats is None:
                continue
            if rule.min_shared is not None and stats["shared"] < rule.min_shared:
                continue
            if rule.min_containment is not None and stats["containment"] < rule.min_containment:
                continue
            if stats["shared"] == 0:
                continue
        elif rule.min_jaccard is not None and match["jaccard"] < rule.min_jaccard:
            continue
        return rule.describe()
    return None


def rules_from_record(records: list[dict[str, Any]]) -> tuple[CountRule, ...]:
    """The rules stored in a summary.json (ConfigError if they are not valid rules)."""
    return tuple(_build(CountRule, r, f"rule #{i + 1}") for i, r in enumerate(records))


def policy_record(policy: Policy) -> dict[str, Any]:
    """JSON-able form stored in summary.json."""
    return {
        "source": policy.source,
        "sha256": policy.sha256,
        **policy.detection_params(),
        "rules": [asdict(r) for r in policy.rules],
        "gate": asdict(policy.gate),
    }
