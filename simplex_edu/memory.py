"""Memory a finished lesson gives back: after every cell, freed memory goes back to the OS, not kept by malloc.

A lesson frees most of what it allocates (training batches, decoded chains), but glibc's malloc keeps freed
blocks in its heap for reuse: lesson 03's idle kernel held 481 MB, of which ~150 MB was free memory malloc had
not returned (measured: README "Performance"). ``malloc_trim(0)`` hands it back and costs well under a
millisecond, so ``release_after_each_cell`` (run once by ``import simplex_edu``) calls it after every cell in a
Jupyter kernel. It also pins malloc's mmap threshold at its default 128 KB: glibc raises it after each large
block freed, so batch-sized tensors then come from the heap and leave holes there (lesson 03: 24 MB more
heap when idle). Elsewhere (a script, macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Callable

_installed = False
M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value, kept fixed


def malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library this process already runs on
    except (OSError, AttributeError):
        return None


def release_memory() -> bool:
    """Return the memory malloc holds free to the OS now; True if some was returned."""
    trim = malloc_trim()
    return bool(trim(0)) if trim is not None else False


def release_after_each_cell() -> bool:
    """In a Jupyter kernel, trim malloc's free memory after every cell and fix the mmap threshold (once per
    kernel); True if installed."""
    global _installed
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    trim = malloc_trim()
    if _installed or shell is None or trim is None:
        return False

    def after_cell(result: object) -> None:
        trim(0)

    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass
    shell.events.register("post_run_cell", after_cell)
    _installed = True
    return True
