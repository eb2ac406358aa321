"""Collect every notebook for nbval: solutions are compared against their stored outputs, lessons only run.

Kernels get one thread each, so two notebooks can run side by side on a 2-core machine and the numbers a
solution notebook stores are the ones a test run reproduces.
"""

from pathlib import Path

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

from nbval.plugin import IPyNbFile  # noqa: E402

ROOT = Path(__file__).parent
NOTEBOOK_FOLDERS = {"solutions": True, "lessons": False}  # folder -> compare stored outputs?


def pytest_configure(config):
    """Use the course's sanitize file and run kernels in this environment (no separately installed kernel)."""
    option = config.option
    if getattr(option, "nbval_sanitize_with", None) is None:
        option.nbval_sanitize_with = str(ROOT / "tests" / "nbval_sanitize.cfg")
    option.nbval_current_env = True
    if not getattr(option, "nbval_cell_timeout", None):
        option.nbval_cell_timeout = 300


def pytest_collect_file(file_path, parent):
    """Solutions: strict nbval. Lessons: run top to bottom with every exercise unattempted (lax)."""
    option = parent.config.option
    folder = file_path.parent.name
    if file_path.suffix != ".ipynb" or folder not in NOTEBOOK_FOLDERS or option.nbval or option.nbval_lax:
        return None
    if file_path.parent.parent != ROOT:
        return None
    collector = IPyNbFile.from_parent(parent, path=file_path)
    collector.compare_outputs = NOTEBOOK_FOLDERS[folder]
    return collector
