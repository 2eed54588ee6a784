"""Provenance of a run as flat (key, value) rows: shown by the scorecard, diffed by compare,
required by the gate. Keys are dotted paths into config.toml / manifest.json."""

from __future__ import annotations

import json
from typing import Any

from vt_eval.report.rundata import RunData

MODEL_KEYS = ("model", "model_path", "backend", "weights_sha256", "chat_template_sha256",
              "tokenizer_name", "dtype", "gguf_file")
UNSAFE_PREFIX = "UNSAFE"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict) and value:
        for key in sorted(value):
            _flatten(f"{prefix}.{key}", value[key], out)
    elif value not in (None, "", {}, []):
        out[prefix] = _text(value)


def sandbox_mode(run: RunData) -> str:
    """'on (bubblewrap)' | 'OFF (--unsafe-no-sandbox)' | 'not used (no code benchmarks)'."""
    unsafe = bool(run.manifest.grading.get("unsafe_no_sandbox")) or any(
        w.startswith(UNSAFE_PREFIX) for w in run.results.warnings)
    if unsafe:
        return "OFF (--unsafe-no-sandbox)"
    if any(tag.startswith("code") for tag in run.results.graders.values()):
        return "on (bubblewrap)"
    return "not used (no code benchmarks)"


def identity(run: RunData) -> dict[str, str]:
    """Every config and provenance field that could make two runs' scores differ."""
    out: dict[str, str] = {}
    if run.config is not None:
        config = run.config.model_dump(mode="json")
        config.get("run", {}).pop("out", None)
        _flatten("config", config, out)
    manifest = run.manifest
    _flatten("model", {k: manifest.model.get(k) for k in MODEL_KEYS}, out)
    _flatten("datasets", {name: {"revision": d.get("revision"), "sha256": d.get("sha256")}
                          for name, d in manifest.datasets.items()}, out)
    _flatten("effective_sampling", manifest.effective_sampling, out)
    _flatten("seeds", manifest.seeds.model_dump(mode="json"), out)
    _flatten("graders", dict(run.results.graders), out)
    _flatten("packages", manifest.packages, out)
    _flatten("git", {"commit": manifest.git.get("commit"), "dirty": manifest.git.get("dirty")}, out)
    out["sandbox"] = sandbox_mode(run)
    return out


def manifest_dict(run: RunData) -> dict[str, Any]:
    """The manifest plus the config, for required-field lookups (`config.sampling.seed`)."""
    data = run.manifest.model_dump(mode="json")
    data["config"] = run.config.model_dump(mode="json") if run.config is not None else {}
    return data


def provenance_rows(run: RunData) -> list[tuple[str, str]]:
    manifest, config = run.manifest, run.config
    rows: list[tuple[str, str]] = []
    if config is not None:
        rows.append(("model (requested)", f"{config.model.name} via {config.model.backend}"))
    for key in MODEL_KEYS:
        if manifest.model.get(key) not in (None, ""):
            rows.append((f"model.{key}", _text(manifest.model[key])))
    if not manifest.model:
        rows.append(("model provenance", "none recorded (run scored from samples only)"))
    for name, data in sorted(manifest.datasets.items()):
        rows.append((f"dataset {name}", f"revision {data.get('revision')}, sha256 "
                     f"{str(data.get('sha256'))[:16]}…, {data.get('source_kind')}"))
    sampling = manifest.sampling or (config.sampling if config is not None else None)
    if sampling is not None:
        rows.append(("sampling (requested)", _text(sampling.model_dump(mode="json"))))
    if manifest.effective_sampling:
        rows.append(("sampling (sent)", _text(manifest.effective_sampling)))
    rows.append(("seeds", f"scheme {manifest.seeds.scheme}, run seed {manifest.seeds.run_seed}"))
    rows.append(("graders", ", ".join(f"{b}: {t}" for b, t in sorted(run.results.graders.items()))))
    versions = {k: v for k, v in manifest.packages.items() if v}
    if versions:
        rows.append(("packages", ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))))
    commit = manifest.git.get("commit")
    rows.append(("git commit", f"{commit}{' (dirty)' if manifest.git.get('dirty') else ''}"
                 if commit else "not recorded"))
    rows.append(("sandbox", sandbox_mode(run)))
    rows.append(("scored at", run.results.scored_at))
    return rows
