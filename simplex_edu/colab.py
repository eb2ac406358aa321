"""On Colab: install only the light libraries the lessons import that are missing or too old.

The setup cell installs the course package with ``--no-deps`` (so pip never swaps Colab's own torch or pulls a
JupyterLab Colab does not use), then calls ``install_missing()`` for the rest of what the lessons import.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

# Colab brings its own torch (often a CUDA build) and its own notebook front end: never replace those.
PROVIDED = {"torch", "jupyterlab"}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:>=\s*([0-9][0-9.]*))?\s*$")


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def requirements() -> list[tuple[str, str | None]]:
    """(name, lowest version) for each runtime dependency of the installed package, as its metadata declares."""
    found = []
    for line in metadata.requires("simplex-edu") or []:
        match = _REQUIREMENT.match(line)  # extras (`; extra == "test"`) and markers do not match: skipped
        if match:
            found.append((match.group(1).lower(), match.group(2)))
    return found


def missing() -> list[str]:
    """Requirements to install here: not installed, or older than declared; never one that Colab provides."""
    wanted = []
    for name, lowest in requirements():
        if name in PROVIDED:
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wanted.append(f"{name}>={lowest}" if lowest else name)
            continue
        if lowest and _release(installed) < _release(lowest):
            wanted.append(f"{name}>={lowest}")
    return wanted


def install_missing() -> list[str]:
    """Install what ``missing()`` lists with this kernel's pip; return it (empty when nothing was needed)."""
    wanted = missing()
    if wanted:
        print("installing", " ".join(wanted))
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *wanted])
    return wanted
