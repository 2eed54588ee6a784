"""A memory + pids cgroup per sandbox, made by the host: totals, not per-process limits.

Created under this process's own cgroup (so whatever limits the host itself runs under still
apply above it): cgroup v2 where the memory and pids controllers are delegated to it, else the
cgroup v1 memory and pids hierarchies where they are writable. The whole bwrap process tree is
moved in before exec, so every program, its forks, its tmpfs pages and memfds are charged to it.
When neither can be created (e.g. not root), `create()` returns None and the sandbox falls back
to a budget the fork-server enforces itself (vtbox/watch.py Meter).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

V2_CONTROLLERS = ("memory", "pids")
PREFIX = "vt-eval-"


def _own_cgroups() -> dict[str, str]:
    """controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    out: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            out[name] = path
    return out


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(fstype, mount point, root within the hierarchy, super options) of cgroup mounts."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if tail and tail[0] in ("cgroup", "cgroup2"):
            found.append((tail[0], fields[4], fields[3], set(tail[2].split(",")) if len(tail) > 2
                          else set()))
    return found


def _under(mount: str, root: str, path: str) -> Path:
    rel = os.path.relpath(path, root) if root != "/" else path.lstrip("/")
    return Path(mount) / ("" if rel == "." else rel)


class CgroupBox:
    """One sandbox's cgroup(s): `dirs` maps a controller to its directory (v1), or both to one."""

    def __init__(self, kind: str, dirs: dict[str, Path]) -> None:
        self.kind = kind
        self.dirs = dirs
        self._memory_bytes: int | None = None

    @property
    def description(self) -> str:
        return f"{self.kind} memory+pids"

    @classmethod
    def create(cls) -> CgroupBox | None:
        name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            own, mounts = _own_cgroups(), _mounts()
        except (OSError, ValueError):
            return None
        box = cls._create_v2(name, own, mounts) or cls._create_v1(name, own, mounts)
        if box is not None:
            box.sweep_stale()
        return box

    def sweep_stale(self) -> None:
        """Remove empty groups left by vt-eval processes that died without closing."""
        for path in {p.parent for p in self.dirs.values()}:
            for old in path.glob(f"{PREFIX}*"):
                owner = old.name[len(PREFIX):].split("-")[0]
                if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                    try:
                        old.rmdir()
                    except OSError:
                        pass

    @classmethod
    def _create_v2(cls, name: str, own: dict[str, str], mounts: list) -> CgroupBox | None:
        for fstype, point, root, _ in mounts:
            if fstype != "cgroup2" or "" not in own:
                continue
            path = _under(point, root, own[""]) / name
            try:
                path.mkdir()
            except OSError:
                continue
            available = (path / "cgroup.controllers").read_text().split()
            if all(c in available for c in V2_CONTROLLERS):
                return cls("cgroup-v2", {"memory": path, "pids": path})
            path.rmdir()
        return None

    @classmethod
    def _create_v1(cls, name: str, own: dict[str, str], mounts: list) -> CgroupBox | None:
        dirs: dict[str, Path] = {}
        for controller in V2_CONTROLLERS:
            for fstype, point, root, options in mounts:
                if fstype == "cgroup" and controller in options and controller in own:
                    path = _under(point, root, own[controller]) / name
                    try:
                        path.mkdir()
                    except OSError:
                        continue
                    dirs[controller] = path
                    break
        box = cls("cgroup-v1", dirs)
        if len(dirs) < len(V2_CONTROLLERS):
            box.remove()
            return None
        return box

    # ---- use --------------------------------------------------------------------------------
    def attach(self, pid: int) -> None:
        """Move `pid` (in a preexec_fn: the future bwrap) into every controller's group."""
        for path in set(self.dirs.values()):
            (path / "cgroup.procs").write_text(str(pid))

    def _write(self, controller: str, name: str, value: str) -> None:
        (self.dirs[controller] / name).write_text(value)

    def set_pids(self, limit: int) -> None:
        self._write("pids", "pids.max", str(limit))

    def set_memory(self, limit_bytes: int) -> None:
        if limit_bytes == self._memory_bytes:
            return
        if self.kind == "cgroup-v2":
            self._write("memory", "memory.max", str(limit_bytes))
            if (self.dirs["memory"] / "memory.swap.max").exists():
                self._write("memory", "memory.swap.max", "0")
        else:
            self._set_v1_memory(limit_bytes)
        self._memory_bytes = limit_bytes

    def _set_v1_memory(self, limit_bytes: int) -> None:
        """memsw (memory + swap) must stay >= memory: raise memsw first, lower memory first."""
        value = str(limit_bytes)
        if not (self.dirs["memory"] / "memory.memsw.limit_in_bytes").exists():
            self._write("memory", "memory.limit_in_bytes", value)
            return
        try:
            self._write("memory", "memory.memsw.limit_in_bytes", value)
            self._write("memory", "memory.limit_in_bytes", value)
        except OSError:
            self._write("memory", "memory.limit_in_bytes", value)
            self._write("memory", "memory.memsw.limit_in_bytes", value)

    def usage(self) -> int:
        name = "memory.current" if self.kind == "cgroup-v2" else "memory.usage_in_bytes"
        return int((self.dirs["memory"] / name).read_text().split()[0])

    def oom_kills(self) -> int:
        name = "memory.events" if self.kind == "cgroup-v2" else "memory.oom_control"
        for line in (self.dirs["memory"] / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> None:
        for path in set(self.dirs.values()):
            try:
                path.rmdir()
            except OSError:
                pass
