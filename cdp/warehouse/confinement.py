"""Confines the managed warehouse server's files and network with Landlock (Linux 5.13+), so no query
door reaches a file (docs/architecture.md, invariant "No door reaches a file").

The server runs in clickhouse-local's mode, where the scalar ``file()`` function reads any path
the process can read, whatever the user's grants or ``user_files_path``: a BI user (or any local
user, as passwordless ``default``) could read the master key or another user's files. Landlock
makes the kernel refuse it: once ``confine`` has run, the calling thread and every thread it
starts (all of ClickHouse's) may only read the directories and files named here and write its own
directories; with Landlock ABI 4+ it may bind only its two ports and connect nowhere (no ``url()``,
``remote()`` or ``s3()`` reaches the network, granted or not). Landlock also keeps it from reading
other processes' memory or environment through ``/proc``.

Landlock is stacked, unprivileged and per process; ``available`` says whether this kernel has it.
"""

import ctypes
import os
from pathlib import Path

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # syscall numbers (the same on x86-64 and arm64)
_CREATE_RULESET_VERSION = 1
_PR_SET_NO_NEW_PRIVS = 38
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2

_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_WRITING = sum(1 << bit for bit in range(4, 13))  # remove dir/file, make char/dir/reg/sock/fifo/block/sym
_REFER, _TRUNCATE = 1 << 13, 1 << 14  # ABI 2, 3
_BIND_TCP, _CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPort(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


class ConfinementUnavailable(Exception):
    pass


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 without Landlock."""
    version = _libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def available() -> bool:
    return abi_version() >= 1


def confine(read: list[Path], write: list[Path], ports: list[int]) -> int:
    """From now on this thread, and every thread it starts, may read only ``read`` (files or directory
    trees), read and write only ``write``, and (ABI 4+) bind only ``ports`` and connect nowhere.
    Returns the ABI version used; raises ``ConfinementUnavailable`` without Landlock."""
    abi = abi_version()
    if abi < 1:
        raise ConfinementUnavailable("this kernel has no Landlock (Linux 5.13+ with landlock among its security modules)")
    reading = _READ_FILE | _READ_DIR | _EXECUTE
    writing = reading | _WRITE_FILE | _WRITING | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    net = _BIND_TCP | _CONNECT_TCP if abi >= 4 else 0
    attr = _RulesetAttr(writing, net)
    ruleset = _call(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(_RulesetAttr) if net else 8), ctypes.c_uint32(0))
    try:
        for path in read:
            _allow_path(ruleset, path, reading)
        for path in write:
            _allow_path(ruleset, path, writing)
        for port in ports if net else ():
            rule = _NetPort(_BIND_TCP, port)
            _call(_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_NET_PORT), ctypes.byref(rule), ctypes.c_uint32(0))
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise ConfinementUnavailable(f"prctl(NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
        _call(_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return abi


def _allow_path(ruleset: int, path: Path, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # nothing there to allow
    try:
        if not path.is_dir():
            access &= _READ_FILE | _WRITE_FILE | _EXECUTE | _TRUNCATE  # the rights a file can hold
        rule = _PathBeneath(access, fd)
        _call(_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)


def _call(number: int, *args) -> int:
    result = _libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        raise ConfinementUnavailable(f"landlock syscall {number}: {os.strerror(ctypes.get_errno())}")
    return int(result)
