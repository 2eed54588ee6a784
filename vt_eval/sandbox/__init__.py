"""A real sandbox for untrusted generated code: bubblewrap, a fork-server giving every test fresh
namespaces, a cgroup (or metered budget), seccomp; verdict facts judged on the host."""

from vt_eval.sandbox.client import Limits, Sandbox, SandboxDied
from vt_eval.sandbox.launcher import SandboxConfig, SandboxUnavailable, check_available, find_bwrap

__all__ = ["Limits", "Sandbox", "SandboxConfig", "SandboxDied", "SandboxUnavailable",
           "check_available", "find_bwrap"]
