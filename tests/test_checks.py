"""The check machinery: stubs are 'not attempted', wrong answers fail with a specific message, bad values are named."""

import math

import numpy as np
import pytest
import torch

from simplex_edu.checks.core import Case, CheckFailed, check_function, check_value, compare


def reference(x):
    return np.asarray(x, dtype=float) * 2


CASES = [Case((np.arange(3.0),)), Case((np.zeros(0),), label="an empty array")]


def stub(x):
    raise NotImplementedError("fill me in")


def test_stub_is_not_attempted(capsys):
    result = check_function(stub, reference, CASES, exercise="Ex", hint="h")
    assert not result and result == False  # noqa: E712 (the result compares equal to the bool too)
    assert "not attempted" in capsys.readouterr().out


def test_grading_mode_fails_a_stub(monkeypatch):
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    with pytest.raises(CheckFailed, match="not attempted"):
        check_function(stub, reference, CASES, exercise="Ex", hint="h")


def test_correct_answer_passes(capsys):
    assert check_function(lambda x: x * 2.0, reference, CASES, exercise="Ex", hint="h")
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda x: x * 3.0, "differs from the expected value"),
    (lambda x: (x * 2.0)[None], "has shape (1, 3), expected (3,)"),
    (lambda x: (x * 2.0).tolist(), "is a list"),
    (lambda x: np.full_like(x, np.nan), "NaN"),
    (lambda x: (x * 2).astype(int), "floating point"),
    (lambda x: None, "forget a `return`"),
    (lambda x: 1 / 0, "ZeroDivisionError"),
    (lambda x: torch.tensor(x * 3.0), "expected 4, got 6"),
])
def test_wrong_answers_are_named(wrong, message):
    with pytest.raises(CheckFailed) as error:
        check_function(wrong, reference, CASES, exercise="Ex", hint="the hint")
    assert message in str(error.value)
    assert "Ex" in str(error.value)


def test_failure_renders_without_traceback():
    with pytest.raises(CheckFailed) as error:
        check_function(lambda x: x, reference, CASES, exercise="Ex", hint="the hint")
    rendered = error.value._render_traceback_()
    assert len(rendered) == 1 and "Hint: the hint" in rendered[0] and "Traceback" not in rendered[0]


def test_learner_cannot_corrupt_reference_inputs():
    def mutating(x):
        x[:] = 100.0
        return x * 0 + 2 * np.arange(3.0)[: len(x)]
    assert check_function(mutating, reference, [Case((np.arange(3.0),))], exercise="Ex", hint="h")


def test_not_a_function():
    with pytest.raises(CheckFailed, match="without calling it"):
        check_function(3.0, reference, CASES, exercise="Ex", hint="h")


def test_compare_structures():
    assert compare((1.0, {"a": np.ones(2)}), (1.0, {"a": np.ones(2)})) is None
    assert "missing the key" in compare({"a": 1.0}, {})
    assert "2 items" in compare((1, 2), (1,))
    assert "whole number" in compare(3, 3.5)
    assert compare(math.inf, math.inf) is None
    assert "True or False" in compare(True, 1)


def test_check_value(capsys):
    assert not check_value(..., 3.0, exercise="Ex", hint="h")
    assert check_value(3.0, 3.0, exercise="Ex", hint="h")
    with pytest.raises(CheckFailed, match="expected 3"):
        check_value(4.0, 3.0, exercise="Ex", hint="h")
