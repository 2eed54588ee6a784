"""Finding and ending the processes of one test's own Ray cluster (by pid, never by name)."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def processes_of(marker: str) -> list[int]:
    """Pids whose command line names `marker` (this cluster's temp dir), and their descendants."""
    parents: dict[int, int] = {}
    roots = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        if marker in cmdline and int(entry.name) != os.getpid():
            roots.append(int(entry.name))
    found, frontier = set(roots), list(roots)
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier.extend(children)
    return sorted(found)


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
