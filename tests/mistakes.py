"""The mistake catalogue's shape: plausible wrong answers a check must reject, and right answers it must accept.

Each topic's catalogue lives in ``tests/test_mistakes_<topic>.py`` as two lists, ``MISTAKES`` and
``ALTERNATIVES``, parametrized into tests there. The course site's instructor page reads the descriptions
and messages from the same lists (``catalogue()``), so what an instructor reads is what the tests prove.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

TESTS = Path(__file__).parent


@dataclass(frozen=True)
class Mistake:
    """A plausible learner mistake: ``check`` must raise CheckFailed on ``answer`` with ``message`` in its text."""

    check: str          # the check's name in simplex_edu.checks.<topic>, e.g. "check_truth_table"
    description: str    # what the learner did, in words an instructor reads ("forgets the output bias b2")
    answer: Callable    # the wrong implementation
    message: str        # a fragment the check's message must contain ("output bias")


@dataclass(frozen=True)
class Alternative:
    """A right answer written differently from the reference: ``check`` must accept it."""

    check: str
    description: str
    answer: Callable


def catalogue() -> dict[str, list[Mistake]]:
    """Every topic's mistakes, by check name, read from tests/test_mistakes_*.py."""
    found: dict[str, list[Mistake]] = {}
    for path in sorted(TESTS.glob("test_mistakes_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for mistake in getattr(module, "MISTAKES", []):
            found.setdefault(mistake.check, []).append(mistake)
    return found
