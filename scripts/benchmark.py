"""Budget benchmark: run every solution notebook in a fresh kernel and print a table against COURSE.md's budgets.

    python scripts/benchmark.py [--quick] [--busy N] [NOTEBOOK ...]

For each notebook: wall seconds top to bottom, peak memory of its kernel (RSS, sampled every 20 ms), the memory
its kernel still holds once the lesson is over and idle (RSS and USS), the median latency of an explorer update
(compute + redraw, first control stepped through its range), and the same notebook again beside ``--busy`` (2)
processes that spin on the CPU, each in its own session like another learner's kernel, as a ratio to the time
alone (a workshop's shared CPU; goal <= 1.8x, fair share on 2 cores is 1.5x; medians of 3 for quick notebooks).
Kernels get the environment a learner has: no thread variables. Also the import cost of `simplex_edu` beyond torch.
``--quick`` measures only the two wall times. A benchmark, not a test: it prints, it does not fail the suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
IDLE_MB = 320.0  # a finished lesson's idle kernel: six of them, one at a time, in a 2 GB Binder pod
MARKER = "SIMPLEX_EDU_BENCHMARK "
PROBE = ("import json\nfrom simplex_edu.widgets import median_update_ms\n"
         f"print({MARKER!r} + json.dumps(median_update_ms()))")
# torch's thread count, without importing torch into a lesson that does not use it ("–" then).
THREADS_PROBE = ("import sys\n_torch = sys.modules.get('torch')\n"
                 f"print({MARKER!r} + (str(_torch.get_num_threads()) if _torch else '–'))")
# A learner's kernel has none of these (the tests and `simplex-edu execute` set them to 1; a learner does not).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "SIMPLEX_EDU_CPU_BUDGET")
IDLE_SETTLE_S = 1.0  # after the last cell, before the idle kernel is measured
BUSY_CODE = "while True: pass"
SHORT_S, SHORT_REPEATS = 5.0, 3  # a notebook this quick is timed this many times alone and shared (medians)


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


def learner_env() -> dict[str, str]:
    """This process's environment without thread variables: what a kernel in a learner's JupyterLab sees."""
    return {key: value for key, value in os.environ.items() if key not in THREAD_VARIABLES}


def probe_output(cell: dict) -> str | None:
    """The text a probe cell printed after the marker, or None."""
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    return text.split(MARKER, 1)[1].strip() if MARKER in text else None


def idle_memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, USS) of a kernel process in MB: everything it maps, and what only it holds."""
    info = psutil.Process(pid).memory_full_info()
    return info.rss / 2**20, info.uss / 2**20


def run_notebook(path: Path, quick: bool = False) -> dict:
    """Execute one notebook in a learner's kernel environment and return its measurements.

    Probe cells after the lesson read torch's thread count and, unless ``quick``, the idle kernel's memory and
    the explorers' update latency (in that order: timing the explorers draws figures).
    """
    notebook = nbformat.read(path, as_version=4)
    cells = len(notebook.cells)
    notebook.cells.append(nbformat.v4.new_code_cell(THREADS_PROBE))
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    row: dict = {"notebook": path.name}
    with client.setup_kernel(env=learner_env()):
        pid = client.km.provisioner.process.pid
        monitor = PeakMemory(pid)
        if not quick:  # sampling every 20 ms costs CPU that a shared run would take from the kernel under test
            monitor.start()
        start = time.perf_counter()
        for index, cell in enumerate(notebook.cells[:cells]):
            client.execute_cell(cell, index)
        row["seconds"] = time.perf_counter() - start
        threads = probe_output(client.execute_cell(notebook.cells[cells], cells))
        row["threads"] = threads
        monitor.running = False
        if not quick:
            row["memory_mb"] = monitor.peak / 2**20
            time.sleep(IDLE_SETTLE_S)
            row["idle_rss_mb"], row["idle_uss_mb"] = idle_memory_mb(pid)
            update = probe_output(client.execute_cell(notebook.cells[cells + 1], cells + 1))
            row["update_ms"] = json.loads(update) if update else None
    return row


@contextlib.contextmanager
def busy_processes(count: int):
    """``count`` Python processes spinning on the CPU (other learners' kernels), stopped on exit.

    Each starts its own session, as Jupyter starts every kernel: where Linux groups CPU time by session
    (autogroup), spinners sharing the benchmark's session would together get one share, the kernel under test
    another, and sharing would look almost free (measured: 1.01-1.13x against 1.5x fair share on 2 cores).
    """
    spinners = [subprocess.Popen([sys.executable, "-c", BUSY_CODE], start_new_session=True) for _ in range(count)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait(timeout=10)


def run_shared(path: Path, busy: int = 2, quick: bool = False) -> dict:
    """One notebook alone, then again beside ``busy`` spinning processes; the alone row plus the loaded time.

    A notebook done in under ``SHORT_S`` is timed ``SHORT_REPEATS`` times each way and the medians are compared:
    one run of a 1 s lesson gave anything from 1.4x to 1.8x.
    """
    row = run_notebook(path, quick=quick)
    repeats = SHORT_REPEATS if row["seconds"] < SHORT_S else 1
    alone = [row["seconds"]] + [run_notebook(path, quick=True)["seconds"] for _ in range(repeats - 1)]
    with busy_processes(busy):
        shared = [run_notebook(path, quick=True)["seconds"] for _ in range(repeats)]
    row["seconds"], row["busy_seconds"] = statistics.median(alone), statistics.median(shared)
    row["ratio"] = row["busy_seconds"] / row["seconds"]
    return row


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


def row_line(row: dict, quick: bool) -> str:
    """One table row: the budgets' verdicts beside the measurements."""
    ratio = f"{row['seconds']:.1f} | {row['busy_seconds']:.1f} | {row['ratio']:.2f}× {verdict(row['ratio'], 1.8)}"
    if quick:
        return f"| {row['notebook']} | {row['threads']} | {ratio} |"
    update = f"{row['update_ms']:.0f}" if row["update_ms"] is not None else "no explorer"
    return (f"| {row['notebook']} | {row['threads']} | {ratio} "
            f"| {row['memory_mb']:.0f} {verdict(row['memory_mb'], 1536, 1024)} "
            f"| {row['idle_rss_mb']:.0f} {verdict(row['idle_rss_mb'], IDLE_MB)} / {row['idle_uss_mb']:.0f} "
            f"| {update} {verdict(row['update_ms'], 100)} |")


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="solution notebooks (default: all of them)")
    parser.add_argument("--quick", action="store_true", help="wall times alone and shared only")
    parser.add_argument("--busy", type=int, default=2, help="spinning processes beside the shared run (default 2)")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"benchmark: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    print(f"machine: {psutil.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run, "
          f"python {sys.version.split()[0]}; kernels without thread variables; shared = beside {args.busy} "
          f"busy processes")
    header = f"| notebook | torch threads | wall s alone (≤ 60, aim 30) | wall s shared | shared / alone (≤ 1.8) |"
    if not args.quick:
        header += (f" peak kernel MB (≤ 1536, aim 1024) | idle kernel MB RSS (≤ {IDLE_MB:.0f}) / USS "
                   f"| explorer update median ms (≤ 100) |")
    print(header)
    print("|---" * header.count(" |") + "|")
    for path in paths:
        print(row_line(run_shared(path, args.busy, args.quick), args.quick), flush=True)
    if args.quick:
        return 0
    overhead = import_overhead()
    print(f"\n`import simplex_edu` beyond `import torch`: {overhead:.3f} s ({verdict(overhead, 0.5)}, budget 0.5 s)")
    shared = import_overhead(SHARED_MODULES)
    print(f"all shared modules (training, compute, checks, plots, widgets; pulls in matplotlib and ipywidgets) "
          f"beyond `import torch`: {shared:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
