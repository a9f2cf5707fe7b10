"""CPU time from /proc, for figures that survive a shared machine: user + system time of a process
or a thread (its ``stat`` file, fields 14 and 15), and a process's peak memory; and the whole
machine's busy time, which says whether a run had cores to spare."""

import os
from pathlib import Path


def stat_cpu_seconds(stat: Path) -> float:
    """CPU seconds in a ``/proc/.../stat`` file: a process's (``/proc/PID/stat``) or a thread's (``/proc/PID/task/TID/stat``)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()  # after the command name: field 3 on
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds the running process ``pid`` has used so far."""
    return stat_cpu_seconds(Path(f"/proc/{pid}/stat"))


def peak_rss_mib(pid: int) -> int:
    """The running process ``pid``'s peak resident memory so far (``VmHWM``), in MiB."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot: the first line of
    ``/proc/stat`` without idle and iowait (whose process made them busy is not told)."""
    user, nice, system, idle, iowait, *rest = map(int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:])
    return (user + nice + system + sum(rest[:2])) / os.sysconf("SC_CLK_TCK")  # + irq and softirq; guest time is inside user, steal (the host's) left out
