"""The budget benchmark still runs (a smoke test: budgets are read from its table, never asserted here)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_measures_a_notebook():
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "scripts" / "benchmark.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    row = benchmark.run_notebook(ROOT / "solutions" / "00_welcome.ipynb")
    assert row["notebook"] == "00_welcome.ipynb"
    assert row["seconds"] > 0 and row["memory_mb"] > 20
    assert row["update_ms"] is not None and row["update_ms"] > 0  # lesson 00 has an explorer
    assert benchmark.verdict(70, 60, 30) == "OVER" and benchmark.verdict(20, 60, 30) == "ok"
