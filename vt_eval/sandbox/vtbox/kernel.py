"""Linux system calls the fork-server needs and Python's os module lacks (ctypes, stdlib only).

unshare/setns/mount for a fresh pid + mount + ipc namespace per test, capset to drop every
capability, and a seccomp filter assembled here as classic BPF (no libseccomp needed: the kernel
takes the raw program through prctl).
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import struct

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWTIME = 0x00000080
NAMESPACE_FLAGS = (CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
                   | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWTIME)
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 4, 38, 22
SECCOMP_MODE_FILTER = 2

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0),
                       ctypes.c_ulong(0), ctypes.c_ulong(0)), f"prctl {option}")


def drop_all_capabilities() -> None:
    """capset(2) with empty effective/permitted/inheritable sets (version 3: two 32-bit words)."""
    header = struct.pack("=Ii", 0x20080522, 0)
    data = bytes(24)
    _check(_libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(data)), "capset")


# ---- seccomp ----------------------------------------------------------------------------------
AUDIT_ARCH_X86_64 = 0xC000003E
X32_BIT = 0x40000000
RET_ALLOW, RET_KILL_PROCESS, RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
LD_W_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
# x86_64 numbers of what an algorithm never needs: namespaces and mounts, tracing other processes,
# kernel keyrings, BPF, perf, modules, io_uring, userfaultfd, clocks, swap, reboot, accounting.
DENIED_X86_64 = {
    "ptrace": 101, "syslog": 103, "vhangup": 153, "pivot_root": 155,
    "adjtimex": 159, "chroot": 161, "acct": 163, "settimeofday": 164, "mount": 165, "umount2": 166,
    "swapon": 167, "swapoff": 168, "reboot": 169, "iopl": 172, "ioperm": 173, "init_module": 175,
    "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212, "clock_settime": 227,
    "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272,
    "perf_event_open": 298, "fanotify_init": 300, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "clock_adjtime": 305, "setns": 308, "process_vm_readv": 310,
    "process_vm_writev": 311, "kcmp": 312, "finit_module": 313, "kexec_file_load": 320, "bpf": 321,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
    "fspick": 433, "pidfd_getfd": 438, "mount_setattr": 442, "memfd_secret": 447,
}
# Memory a process can hold without it showing in any RSS: denied when no cgroup counts it.
UNCOUNTED_MEMORY_X86_64 = {"memfd_create": 319, "shmget": 29}
SYS_CLONE, SYS_CLONE3 = 56, 435
EPERM, ENOSYS = 1, 38


def seccomp_supported() -> bool:
    return platform.machine() == "x86_64"


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


@functools.lru_cache(maxsize=2)
def seccomp_program(deny_uncounted_memory: bool) -> bytes:
    """Classic BPF: other ABIs are killed, denied calls fail with EPERM, clone3 with ENOSYS (so
    libc falls back to clone, whose flags are visible), clone with any namespace flag with EPERM."""
    numbers = sorted(DENIED_X86_64.values())
    if deny_uncounted_memory:
        numbers += sorted(UNCOUNTED_MEMORY_X86_64.values())
    n = len(numbers)
    # layout: 0 ld arch, 1 jeq arch, 2 ld nr, 3 jge x32, 4..4+n-1 jeq denied, 4+n jeq clone3,
    # 5+n jeq clone, 6+n ld arg0, 7+n jset flags, 8+n ALLOW, 9+n EPERM, 10+n ENOSYS, 11+n KILL
    allow, eperm, enosys, kill = 8 + n, 9 + n, 10 + n, 11 + n
    prog = [_insn(LD_W_ABS, 0, 0, 4), _insn(JEQ, 0, kill - 2, AUDIT_ARCH_X86_64),
            _insn(LD_W_ABS, 0, 0, 0), _insn(JGE, eperm - 4, 0, X32_BIT)]
    for i, nr in enumerate(numbers):
        pc = 4 + i
        prog.append(_insn(JEQ, eperm - pc - 1, 0, nr))
    prog.append(_insn(JEQ, enosys - (4 + n) - 1, 0, SYS_CLONE3))
    prog.append(_insn(JEQ, 0, allow - (5 + n) - 1, SYS_CLONE))
    prog.append(_insn(LD_W_ABS, 0, 0, 16))  # args[0], low 32 bits (little endian)
    prog.append(_insn(JSET, eperm - (7 + n) - 1, allow - (7 + n) - 1, NAMESPACE_FLAGS))
    prog += [_insn(RET, 0, 0, RET_ALLOW), _insn(RET, 0, 0, RET_ERRNO | EPERM),
             _insn(RET, 0, 0, RET_ERRNO | ENOSYS), _insn(RET, 0, 0, RET_KILL_PROCESS)]
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def any_shared_mount() -> bool:
    """Would a mount made in a copy of this mount namespace propagate back? (bwrap: no)"""
    with open("/proc/self/mountinfo") as f:
        return any("shared:" in line.split(" - ")[0] for line in f)


def install_seccomp(deny_uncounted_memory: bool) -> None:
    """Load the filter into this process (inherited by everything it forks; cannot be removed)."""
    program = seccomp_program(deny_uncounted_memory)
    fprog = _SockFprog(len(program) // 8, program)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    _check(_libc.prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER),
                       ctypes.byref(fprog), ctypes.c_ulong(0), ctypes.c_ulong(0)), "seccomp")
