"""A GGUF model as a normal checkpoint directory, for engines that cannot read GGUF (vLLM 0.32).

Converted once into the cache (`$XDG_CACHE_HOME/vt-eval/checkpoints/<gguf sha256>/`): transformers
dequantizes the GGUF, the quantizer is dropped, weights are cast to bfloat16 and saved with the
tokenizer (chat template included). A marker file written last records the source GGUF's sha256
and the versions used; a directory without it is an interrupted conversion and is redone. The run's
manifest records the source and the converted weights (`converted_from`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from vt_eval.errors import BackendError
from vt_eval.models import ModelRef, file_sha256
from vt_eval.util import package_versions, write_text_atomic

MARKER = "vt-eval-converted.json"
DTYPE = "bfloat16"


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vt-eval" / "checkpoints"


def as_checkpoint(ref: ModelRef, log: Any) -> tuple[ModelRef, dict[str, Any] | None]:
    """`ref` itself when it is a checkpoint directory; else the converted copy and its record."""
    if not ref.gguf_file or ref.path is None:
        return ref, None
    source = ref.path / ref.gguf_file
    digest = file_sha256(source)
    target = cache_root() / digest[:32]
    marker = target / MARKER
    if not marker.is_file():
        log(f"converting {source.name} to a checkpoint for vLLM (once) → {target}")
        _convert(source, target)
        record = {"source": str(source), "source_sha256": digest, "dtype": DTYPE,
                  **package_versions(["transformers", "gguf", "torch"])}
        write_text_atomic(marker, json.dumps(record, indent=1))
    record = json.loads(marker.read_text())
    if record.get("source_sha256") != digest:
        raise BackendError(f"{marker} names another source than {source}; delete {target}")
    return ModelRef(ref.name, target), {**record, "checkpoint": str(target)}


def _convert(source: Path, target: Path) -> None:
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise BackendError(f"converting a GGUF model needs transformers and torch: {exc}") from exc
    if target.exists():
        shutil.rmtree(target)  # an interrupted conversion (no marker)
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
        model.hf_quantizer = None  # "quantized with gguf": not serializable as such
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model = model.to(getattr(torch, DTYPE))
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    except (OSError, ValueError, RuntimeError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BackendError(f"could not convert {source} to a checkpoint: {exc}; pass a Hugging "
                           f"Face checkpoint directory with --model instead") from exc
    tmp.rename(target)
