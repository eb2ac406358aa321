"""The mistake catalogue's shape: plausible wrong answers a check must reject, and right answers it must accept.

Each topic's catalogue lives in ``tests/test_mistakes_<topic>.py`` as two lists, ``MISTAKES`` and
``ALTERNATIVES``, parametrized into tests there. The course site's instructor page reads the descriptions
and messages from the same lists (``catalogue()``), so what an instructor reads is what the tests prove.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
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


def catalogue_tests(checks: ModuleType, mistakes: list[Mistake], alternatives: list[Alternative]) -> tuple:
    """The three tests every catalogue file runs, for ``checks`` (a ``simplex_edu.checks.<topic>`` module).

    Use as ``(test_mistake_is_rejected, test_alternative_is_accepted, test_alternative_is_accepted_under_grading,
    test_every_check_is_covered) = catalogue_tests(…)``.
    """
    import pytest

    from simplex_edu.checks.core import CheckFailed

    @pytest.mark.parametrize("mistake", mistakes, ids=[f"{m.check}: {m.description}" for m in mistakes])
    def test_mistake_is_rejected(mistake: Mistake, capsys) -> None:
        with pytest.raises(CheckFailed) as failure:
            getattr(checks, mistake.check)(mistake.answer)
        assert mistake.message in str(failure.value), str(failure.value)

    @pytest.mark.parametrize("alternative", alternatives, ids=[f"{a.check}: {a.description}" for a in alternatives])
    def test_alternative_is_accepted(alternative: Alternative, capsys) -> None:
        assert getattr(checks, alternative.check)(alternative.answer)
        assert "correct" in capsys.readouterr().out

    @pytest.mark.parametrize("alternative", alternatives, ids=[f"{a.check}: {a.description}" for a in alternatives])
    def test_alternative_is_accepted_under_grading(alternative: Alternative, monkeypatch, capsys) -> None:
        monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")  # adds the check's fresh seeded cases, if it has any
        assert getattr(checks, alternative.check)(alternative.answer)

    def test_every_check_is_covered() -> None:
        names = [name for name, value in vars(checks).items()
                 if name.startswith("check_") and getattr(value, "__module__", "") == checks.__name__]
        assert names
        for name in names:
            assert sum(m.check == name for m in mistakes) >= 3, f"{name}: fewer than 3 mistakes in the catalogue"
            assert any(a.check == name for a in alternatives), f"{name}: no correct alternative in the catalogue"

    return (test_mistake_is_rejected, test_alternative_is_accepted, test_alternative_is_accepted_under_grading,
            test_every_check_is_covered)
