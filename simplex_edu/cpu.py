"""The course's CPU budget: how many threads torch and BLAS may use, from the CPU this process may really get.

torch sizes its thread pool from the cores it can see. In a Binder pod with a 1-CPU quota on a 32-core node, or
beside other learners' kernels on a shared VM, that pool is far larger than the CPU the kernel gets, and its
threads wait on each other: a lesson ran 5x slower beside two busy processes. ``apply_cpu_budget`` (run once
by ``import simplex_edu``) sizes the pool from the affinity mask and the cgroup CPU quota instead, capped at
:data:`MAX_THREADS`, and leaves any choice the learner made (``OMP_NUM_THREADS``, ``torch.set_num_threads``) alone.
It never imports torch: before torch loads it only sets environment variables, which torch and BLAS read then.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

# A second thread buys the course's tiny models ~20% on a quiet 2-core machine (lesson 04: 13.1 s vs 16.1 s) and
# costs several times over when the cores are shared (66 s vs 16 s beside two busy processes; on a busy 9-agent
# machine, over 9 min vs 64 s): one thread per kernel is the robust choice for a workshop. A machine of one's own
# can raise the cap with SIMPLEX_EDU_MAX_THREADS; the affinity mask and the cgroup quota still bound it.
MAX_THREADS = 1
CAP_VARIABLE = "SIMPLEX_EDU_MAX_THREADS"
# What torch (OpenMP, MKL) and numpy's BLAS (OpenBLAS) read when they load; the first is the learner's knob.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Set beside the thread variables when the course chose them, so a child process (a kernel started by
# `simplex-edu start`) knows they are not the learner's and works out its own budget.
MARKER = "SIMPLEX_EDU_CPU_BUDGET"

# What apply_cpu_budget decided, for `simplex_edu.cpu.status()` and the tests: None until it has run.
_applied: dict[str, object] | None = None


def _read(path: Path) -> str | None:
    """A small file's stripped text, or None when it is missing or unreadable."""
    try:
        return path.read_text().strip()
    except OSError:
        return None


def parse_cpu_max(text: str) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` line (``"max 100000"`` or ``"150000 100000"``); None = unlimited."""
    fields = text.split()
    if not fields or fields[0] == "max":
        return None
    period = float(fields[1]) if len(fields) > 1 else 100_000.0
    return float(fields[0]) / period if period > 0 else None


def parse_cfs(quota: str, period: str) -> float | None:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``; None when the quota is -1 (unlimited)."""
    quota_us, period_us = int(quota), int(period)
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def _cgroup_paths(proc_cgroup: str) -> tuple[str | None, str | None]:
    """This process's cgroup path in the v2 hierarchy and in v1's ``cpu`` controller, from /proc/self/cgroup."""
    v2 = v1 = None
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            v2 = path
        elif "cpu" in controllers.split(","):
            v1 = path
    return v2, v1


def _ancestors(base: Path, path: str | None) -> list[Path]:
    """``base/path`` and each parent up to ``base`` itself; a quota on any of them limits this process.

    In a container the hierarchy is usually mounted at the container's own cgroup, so ``path`` (seen from the
    host) may not exist under ``base``: then only the folders that do exist count, ``base`` always among them.
    """
    folders, parts = [base], [p for p in (path or "").split("/") if p]
    for depth in range(1, len(parts) + 1):
        folders.append(base.joinpath(*parts[:depth]))
    return [folder for folder in folders if folder.is_dir()]


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: str | None = None) -> float | None:
    """CPUs the cgroup quota allows this process (v2 ``cpu.max`` or v1 CFS quota; the tightest along its path).

    None when there is no quota (or no cgroup filesystem). ``root`` and ``proc_cgroup`` exist for tests.
    """
    if proc_cgroup is None:
        proc_cgroup = _read(Path("/proc/self/cgroup")) or ""
    v2_path, v1_path = _cgroup_paths(proc_cgroup)
    limits: list[float] = []
    if (root / "cgroup.controllers").exists():  # cgroup v2 (unified) mounted at root
        for folder in _ancestors(root, v2_path):
            text = _read(folder / "cpu.max")
            limit = parse_cpu_max(text) if text else None
            if limit is not None:
                limits.append(limit)
    for mount in (root / "cpu", root / "cpu,cpuacct", root / "cpuacct,cpu"):  # cgroup v1: one of these
        for folder in _ancestors(mount, v1_path) if mount.is_dir() else []:
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            limit = parse_cfs(quota, period) if quota and period else None
            if limit is not None:
                limits.append(limit)
    return min(limits) if limits else None


def affinity_cpus() -> int:
    """How many CPUs the scheduler may run this process on (its affinity mask; all CPUs where there is none)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def cpu_budget(affinity: int | None = None, quota: float | None = None, cap: int = MAX_THREADS) -> int:
    """Threads for the course's math: the affinity mask and the whole CPUs of the quota, at most ``cap``, at least 1.

    A fractional quota rounds down: two threads on 1.5 CPUs get throttled together every period.
    """
    cpus = affinity if affinity is not None else affinity_cpus()
    if quota is not None:
        cpus = min(cpus, math.floor(quota))
    return max(1, min(cpus, cap))


def explicit_setting(environ: "os._Environ[str] | dict[str, str]" = os.environ) -> str | None:
    """The learner's own thread setting, if any: the first thread variable set (e.g. ``OMP_NUM_THREADS=4``).

    Variables the course set itself (their value is the one :data:`MARKER` records) do not count.
    """
    ours = environ.get(MARKER)
    for name in THREAD_VARIABLES:
        value = environ.get(name, "").strip()
        if value and value != ours:
            return f"{name}={environ[name]}"
    return None


def _torch_default_threads() -> set[int]:
    """Thread counts torch picks by itself (physical or logical cores, or the affinity mask)."""
    counts = {os.cpu_count() or 1, affinity_cpus()}
    try:
        import psutil  # optional: gives physical cores, which torch's MKL builds default to

        counts.add(psutil.cpu_count(logical=False) or 1)
    except ImportError:
        pass
    return counts


def apply_cpu_budget(environ: "os._Environ[str] | dict[str, str] | None" = None, root: Path = CGROUP_ROOT,
                     proc_cgroup: str | None = None) -> dict[str, object]:
    """Size torch's and BLAS's thread pools to the CPU budget, unless the learner already chose; return what it did.

    Before torch loads: set the thread variables it and BLAS read at load time (no torch import here). If torch
    is already loaded and still on its own default, call ``torch.set_num_threads``; a count the learner set with
    ``torch.set_num_threads`` (one torch would not pick itself) is kept.
    """
    global _applied
    environ = os.environ if environ is None else environ
    cap = environ.get(CAP_VARIABLE, "").strip()
    threads = cpu_budget(quota=cgroup_cpu_limit(root, proc_cgroup),
                         cap=int(cap) if cap.isdigit() and int(cap) > 0 else MAX_THREADS)
    explicit = explicit_setting(environ)
    torch = sys.modules.get("torch")
    if explicit is not None:
        _applied = {"threads": None, "reason": f"kept the learner's {explicit}"}
        return _applied
    if torch is not None and hasattr(torch, "get_num_threads"):
        current = torch.get_num_threads()
        if current not in _torch_default_threads():
            _applied = {"threads": None, "reason": f"kept torch.set_num_threads({current}), set before"}
            return _applied
        if current <= threads:
            _applied = {"threads": current, "reason": "torch already within the CPU budget"}
            return _applied
        torch.set_num_threads(threads)
    for name in (*THREAD_VARIABLES, MARKER):
        environ[name] = str(threads)
    _applied = {"threads": threads, "reason": "CPU budget (affinity, cgroup quota, cap)"}
    return _applied


def status() -> str:
    """One line saying how many threads the course chose and why (for a learner who wonders)."""
    if _applied is None:
        return "the CPU budget has not been applied (simplex_edu not imported the usual way)"
    if _applied["threads"] is None:
        return str(_applied["reason"])
    return f"{_applied['threads']} thread(s): {_applied['reason']}"
