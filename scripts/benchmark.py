"""Budget benchmark: run every solution notebook in a fresh kernel and print a table against COURSE.md's budgets.

    python scripts/benchmark.py [NOTEBOOK ...]

For each notebook: wall seconds top to bottom, peak memory of its kernel (RSS, sampled every 20 ms), and the
median latency of an explorer update (compute + redraw, first control stepped through its range). Also the
import cost of `simplex_edu` beyond torch. A benchmark, not a test: it prints, it does not fail the suite.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"seconds": 60.0, "aim_seconds": 30.0, "memory_mb": 1536.0, "aim_memory_mb": 1024.0, "update_ms": 100.0,
          "import_s": 0.5}
MARKER = "SIMPLEX_EDU_BENCHMARK "
PROBE = ("import json\nfrom simplex_edu.widgets import median_update_ms\n"
         f"print({MARKER!r} + json.dumps(median_update_ms()))")


class PeakMemory(threading.Thread):
    """Sample a process tree's resident memory until stopped; keep the peak."""

    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.process, self.interval, self.peak, self.running = psutil.Process(pid), interval, 0, True

    def run(self) -> None:
        while self.running:
            try:
                rss = sum(p.memory_info().rss for p in [self.process, *self.process.children(recursive=True)])
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            time.sleep(self.interval)


def run_notebook(path: Path) -> dict:
    """Execute one notebook (plus a probe cell timing its explorers) and return its measurements."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        monitor = PeakMemory(client.km.provisioner.process.pid)
        monitor.start()
        start = time.perf_counter()
        for index, cell in enumerate(notebook.cells[:-1]):
            client.execute_cell(cell, index)
        seconds = time.perf_counter() - start
        probe = client.execute_cell(notebook.cells[-1], len(notebook.cells) - 1)
        monitor.running = False
    text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
    update = json.loads(text.split(MARKER, 1)[1]) if MARKER in text else None
    return {"notebook": path.name, "seconds": seconds, "memory_mb": monitor.peak / 2**20, "update_ms": update}


SHARED_MODULES = "simplex_edu.training, simplex_edu.compute, simplex_edu.checks, simplex_edu.plots, simplex_edu.widgets"


def import_overhead(modules: str = "simplex_edu") -> float:
    """Seconds importing ``modules`` adds to `import torch` (median of three fresh interpreters)."""
    code = (f"import time, torch; t = time.perf_counter(); import {modules}; "
            "print(time.perf_counter() - t)")
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(3)]
    return sorted(runs)[1]


def verdict(value: float | None, budget: float, aim: float | None = None) -> str:
    """'ok', 'ok (over aim)' or 'OVER' for a measurement against its budget."""
    if value is None:
        return "–"
    if value > budget:
        return "OVER"
    return "ok" if aim is None or value <= aim else "ok (over aim)"


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    print(f"machine: {psutil.cpu_count()} cores, python {sys.version.split()[0]}")
    print("| notebook | wall s (≤ 60, aim 30) | peak kernel MB (≤ 1536, aim 1024) | explorer update median ms (≤ 100) |")
    print("|---|---|---|---|")
    for path in paths:
        row = run_notebook(path)
        update = f"{row['update_ms']:.0f}" if row["update_ms"] is not None else "no explorer"
        print(f"| {row['notebook']} | {row['seconds']:.1f} {verdict(row['seconds'], 60, 30)} "
              f"| {row['memory_mb']:.0f} {verdict(row['memory_mb'], 1536, 1024)} "
              f"| {update} {verdict(row['update_ms'], 100)} |", flush=True)
    overhead = import_overhead()
    print(f"\n`import simplex_edu` beyond `import torch`: {overhead:.3f} s ({verdict(overhead, 0.5)}, budget 0.5 s)")
    shared = import_overhead(SHARED_MODULES)
    print(f"all shared modules (training, compute, checks, plots, widgets; pulls in matplotlib and ipywidgets) "
          f"beyond `import torch`: {shared:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
