"""Memory a finished lesson gives back: after every cell, freed memory goes back to the OS, not kept by malloc.

A lesson frees most of what it allocates (training batches, decoded chains), but glibc's malloc keeps freed
blocks in its heap for reuse: lesson 03's idle kernel held 481 MB, of which ~150 MB was free memory malloc had
not returned (measured: README "Performance"). ``malloc_trim(0)`` hands it back and costs well under a
millisecond, so ``release_after_each_cell`` (run once by ``import simplex_edu``) calls it after every cell in a
Jupyter kernel. It also pins malloc's mmap threshold at its default 128 KB: glibc raises it after each large
block freed, so batch-sized tensors then come from the heap and leave holes there (lesson 03: 24 MB more
heap when idle). Outside a kernel (a script) it does nothing; without glibc (macOS, Windows, musl) it does not trim.

Before trimming it collects reference cycles, on every platform. A figure that was shown and closed is a cycle
(figure ↔ axes ↔ artists) holding its canvas's pixel buffer, several MB; Python's full collection, the only one
that reaches such old objects, waits until long-lived objects grow by a quarter, and a kernel that has imported
torch holds ~250 000 of them, so closed figures piled up (lesson 05's idle kernel: 7.6 MB, measured). A full
collection over all those objects costs ~0.12 s, too much after every cell, so after a cell that loaded a library
(``FREEZE_AFTER_MODULES`` new modules or more) what survives is frozen (``gc.freeze``): later collections walk
only what the lesson made since, a few ms. A cycle that was alive at that moment and dropped later waits for the
next such cell; lessons load their libraries in their first cells, so little else is alive then.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from typing import Callable

_installed = False
M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value, kept fixed
FREEZE_AFTER_MODULES = 50  # new modules that mean a library was loaded (torch alone brings ~770, a check module 1)


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


class CycleCollector:
    """Collects reference cycles after each cell, re-freezing the survivors whenever a library was loaded."""

    def __init__(self) -> None:
        self.modules_seen = len(sys.modules)

    def collect(self) -> int:
        """Collect unreachable cycles now; the number of objects freed."""
        if len(sys.modules) - self.modules_seen < FREEZE_AFTER_MODULES:
            return gc.collect()
        # A library was loaded: thaw first, so cycles among earlier frozen objects are not kept for ever, then
        # freeze what survives (mostly the new modules' functions and classes) out of every later collection's way.
        gc.unfreeze()
        freed = gc.collect()
        gc.freeze()
        self.modules_seen = len(sys.modules)
        return freed


def release_after_each_cell() -> bool:
    """In a Jupyter kernel, collect cycles and trim malloc's free memory after every cell, and fix the mmap
    threshold (once per kernel); True if installed."""
    global _installed
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if _installed or shell is None:
        return False
    trim, cycles = malloc_trim(), CycleCollector()

    def after_cell(result: object) -> None:
        cycles.collect()
        if trim is not None:
            trim(0)

    if trim is not None:
        try:
            ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        except (OSError, AttributeError):
            pass
    shell.events.register("post_run_cell", after_cell)
    _installed = True
    return True
