"""The budget benchmark still runs (a smoke test: budgets are read from its table, never asserted here)."""

import importlib.util
import os
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "scripts" / "benchmark.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    return benchmark


def test_benchmark_measures_a_notebook():
    benchmark = _benchmark()
    row = benchmark.run_notebook(ROOT / "solutions" / "00_welcome.ipynb")
    assert row["notebook"] == "00_welcome.ipynb"
    assert row["seconds"] > 0 and row["memory_mb"] > 20
    assert row["update_ms"] is not None and row["update_ms"] > 0  # lesson 00 has an explorer
    assert 20 < row["idle_uss_mb"] <= row["idle_rss_mb"] <= row["memory_mb"] * 1.2
    assert row["threads"] == "–"  # lesson 00 never loads torch, and the probe must not load it either
    assert benchmark.verdict(70, 60, 30) == "OVER" and benchmark.verdict(20, 60, 30) == "ok"


def test_kernels_get_a_learners_environment(monkeypatch):
    """The tests set thread variables (conftest.py); a learner's kernel has none, so the benchmark drops them."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    env = _benchmark().learner_env()
    assert not {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"} & set(env)
    assert env["PATH"] == os.environ["PATH"]


def test_busy_processes_spin_and_are_stopped():
    benchmark = _benchmark()
    with benchmark.busy_processes(2) as spinners:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(psutil.Process(s.pid).cpu_times().user > 0.2
                                                       for s in spinners):
            time.sleep(0.2)
        assert all(psutil.Process(s.pid).cpu_times().user > 0.2 for s in spinners), "the busy processes do not spin"
        if hasattr(os, "getsid"):  # each its own session, like a kernel, so the scheduler shares the CPU per process
            assert all(os.getsid(s.pid) == s.pid != os.getsid(0) for s in spinners)
    assert all(s.poll() is not None for s in spinners)


def test_shared_run_gives_a_ratio():
    row = _benchmark().run_shared(ROOT / "solutions" / "00_welcome.ipynb", busy=1, quick=True)
    assert row["busy_seconds"] > 0 and abs(row["ratio"] - row["busy_seconds"] / row["seconds"]) < 1e-9
