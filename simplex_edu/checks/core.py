"""The machinery every exercise check shares: run the learner's function, compare with the reference, explain.

A check never crashes a lesson for an unattempted stub: it prints one friendly line and returns ``False``.
A wrong answer raises :class:`CheckFailed`, whose message says what was expected, what came back and a hint,
and which IPython renders as that message alone (no wall of traceback).
"""

from __future__ import annotations

import math
import os
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np


class CheckFailed(AssertionError):
    """A learner's answer is wrong; the message is everything they need to fix it."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing the traceback: the learner sees the explanation only.
        return ["\x1b[31m✗ " + str(self).replace("\n", "\n  ") + "\x1b[0m"]


@dataclass
class Case:
    """One input to try: positional and keyword arguments, and a label the learner will recognise."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    def describe(self) -> str:
        """A short readable description of the input, for failure messages."""
        if self.label:
            return self.label
        parts = [_short(a) for a in self.args] + [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return f"({', '.join(parts)})"


def _short(value: Any, width: int = 60) -> str:
    text = repr(_to_numpy(value)) if _is_arraylike(value) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _is_arraylike(value: Any) -> bool:
    return isinstance(value, np.ndarray) or type(value).__module__.startswith("torch")


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    return value.detach().cpu().numpy()  # a torch tensor


def _copy(value: Any) -> Any:
    """A defensive copy, so a learner's function that mutates its input cannot change the reference's input."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value).__module__.startswith("torch") and hasattr(value, "clone"):
        return value.clone()
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def compare(expected: Any, got: Any, rtol: float = 1e-6, atol: float = 1e-8, where: str = "the result") -> str | None:
    """Return ``None`` if ``got`` matches ``expected``, else a one-paragraph explanation of the difference."""
    if got is None and expected is not None:
        return f"{where} is None. Did you forget a `return` statement?"
    if isinstance(expected, (tuple, list)) and not _is_arraylike(got):
        if not isinstance(got, (tuple, list)):
            return f"{where} should be a {type(expected).__name__} of {len(expected)} items, got {type(got).__name__}."
        if len(got) != len(expected):
            return f"{where} should have {len(expected)} items, got {len(got)}."
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = compare(e, g, rtol, atol, where=f"item {i} of {where}")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{where} should be a dict, got {type(got).__name__}."
        missing = set(expected) - set(got)
        if missing:
            return f"{where} is missing the key(s) {sorted(missing)}."
        for key in expected:
            problem = compare(expected[key], got[key], rtol, atol, where=f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            return f"{where} should be True or False, got {type(got).__name__} {_short(got)}."
        return None if bool(got) == bool(expected) else f"{where}: expected {bool(expected)}, got {bool(got)}."
    if isinstance(expected, str):
        return None if got == expected else f"{where}: expected {expected!r}, got {_short(got)}."
    if _is_arraylike(expected):
        return _compare_arrays(_to_numpy(expected), got, rtol, atol, where)
    if isinstance(expected, (int, float, np.number)):
        if _is_arraylike(got) and np.size(_to_numpy(got)) == 1:
            got = _to_numpy(got).item()
        if not isinstance(got, (int, float, np.number)) or isinstance(got, (bool, np.bool_)):
            return f"{where} should be a number, got {type(got).__name__} {_short(got)}."
        if isinstance(expected, (int, np.integer)) and not isinstance(expected, bool) and float(got) != int(got):
            return f"{where} should be a whole number, got {got!r}."
        if math.isnan(float(got)):
            return f"{where} is NaN (not a number). Look for a 0/0, a log of 0, or a NaN in the input that spread."
        if not math.isclose(float(got), float(expected), rel_tol=rtol, abs_tol=atol):
            return f"{where}: expected {float(expected):.10g}, got {float(got):.10g}."
        return None
    return None if got == expected else f"{where}: expected {_short(expected)}, got {_short(got)}."


def _compare_arrays(expected: np.ndarray, got: Any, rtol: float, atol: float, where: str) -> str | None:
    if not _is_arraylike(got):
        if isinstance(got, (list, tuple)):
            return f"{where} is a {type(got).__name__}; return an array (np.asarray / torch.tensor) of shape {expected.shape}."
        if expected.ndim == 0 and isinstance(got, (int, float, np.number)):
            got = np.asarray(got)
        else:
            return f"{where} should be an array of shape {expected.shape}, got {type(got).__name__} {_short(got)}."
    got_np = _to_numpy(got)
    if got_np.shape != expected.shape:
        return f"{where} has shape {got_np.shape}, expected {expected.shape}. Check which axis you sum or index over."
    if expected.dtype.kind in "fc" and got_np.dtype.kind not in "fc":
        return f"{where} has dtype {got_np.dtype}, expected floating point ({expected.dtype})."
    if expected.dtype.kind in "iub" and got_np.dtype.kind in "fc" and not np.all(got_np == np.round(got_np)):
        return f"{where} should hold whole numbers ({expected.dtype}), got non-integer values of dtype {got_np.dtype}."
    if got_np.dtype.kind in "fc":
        bad = ~np.isfinite(got_np) & np.isfinite(expected)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            return (f"{where} contains NaN or infinity (first at index {idx}, where {expected[idx]:.6g} was expected). "
                    "Look for a division by zero, a log of 0, or an overflow.")
    if not np.allclose(got_np, expected, rtol=rtol, atol=atol, equal_nan=True):
        diff = np.abs(got_np.astype(float) - expected.astype(float))
        idx = tuple(int(i) for i in np.unravel_index(np.nanargmax(diff), diff.shape)) if diff.ndim else ()
        return (f"{where} differs from the expected value: at index {idx} expected {expected[idx]:.6g}, "
                f"got {got_np[idx]:.6g} (largest difference {np.nanmax(diff):.3g}).")
    return None


class CheckResult:
    """What a check returns: truthy when the answer is right, falsy when not attempted; shows nothing itself."""

    def __init__(self, exercise: str, correct: bool):
        self.exercise, self.correct = exercise, correct

    def __bool__(self) -> bool:
        return self.correct

    def __eq__(self, other: object) -> bool:
        return self.correct == other if isinstance(other, bool) else NotImplemented

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"CheckResult({self.exercise!r}, correct={self.correct})"

    def _ipython_display_(self) -> None:
        """The check already printed its message; don't echo the result as a cell output too."""


def grading() -> bool:
    """True when a grader runs the notebook: nbgrader (it sets NBGRADER_EXECUTION) or SIMPLEX_EDU_GRADING=1."""
    # nbgrader sets NBGRADER_EXECUTION to "autograde" or "validate" around the kernel it starts (nbgrader 0.7+).
    return (os.environ.get("NBGRADER_EXECUTION", "") != ""
            or os.environ.get("SIMPLEX_EDU_GRADING", "") not in ("", "0"))


def not_attempted(exercise: str) -> CheckResult:
    """Print the friendly line for an exercise that is still a stub; the result is falsy.

    Under a grader (see :func:`grading`) an unattempted exercise raises instead, so it earns no points; under
    ``nbgrader validate`` the message tells the student what to do before submitting.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "validate":
        raise CheckFailed(f"{exercise}: not attempted yet. Fill in the function above before you submit: "
                          "as it is, this exercise earns no points.")
    if grading():
        raise CheckFailed(f"{exercise}: not attempted.")
    print(f"○ {exercise}: not attempted yet — fill in the function above and run this cell again. "
          "(The lesson goes on with the library's own version, so you can come back later.)")
    return CheckResult(exercise, False)


def passed(exercise: str, detail: str = "") -> CheckResult:
    """Print the success line for an exercise; the result is truthy."""
    print(f"✓ {exercise}: correct{' — ' + detail if detail else ''}.")
    return CheckResult(exercise, True)


def _call(fn: Callable, case: Case, exercise: str) -> Any:
    """Call the learner's function on one case, turning unexpected exceptions into a named problem."""
    try:
        return fn(*_copy(case.args), **_copy(case.kwargs))
    except NotImplementedError:
        raise
    except Exception as error:  # any learner bug: name it, point at their line, no wall of traceback
        frames = traceback.extract_tb(error.__traceback__)
        learner_frames = [f for f in frames if "simplex_edu" not in f.filename]
        line = f" (line {learner_frames[-1].lineno}: `{learner_frames[-1].line}`)" if learner_frames else ""
        raise CheckFailed(f"{exercise}: your function raised {type(error).__name__}: {error}{line}\n"
                          f"on input {case.describe()}.") from None


def check_function(
    learner_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    *,
    exercise: str,
    hint: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    compare_fn: Callable[[Any, Any], str | None] | None = None,
) -> CheckResult:
    """Run ``learner_fn`` on every case against ``reference_fn``; True if all match, False if not attempted.

    Raises :class:`CheckFailed` with expected value, returned value and ``hint`` on the first mismatch.
    """
    if not callable(learner_fn):
        raise CheckFailed(f"{exercise}: expected a function, got {type(learner_fn).__name__}. "
                          "Pass the function itself, without calling it (no parentheses).")
    for case in cases:
        try:
            got = _call(learner_fn, case, exercise)
        except NotImplementedError:
            return not_attempted(exercise)
        expected = reference_fn(*_copy(case.args), **_copy(case.kwargs))
        problem = (compare_fn(expected, got) if compare_fn else compare(expected, got, rtol=rtol, atol=atol))
        if problem:
            raise CheckFailed(f"{exercise}: on input {case.describe()}:\n{problem}\nHint: {hint}")
    return passed(exercise, f"{len(cases)} cases match the reference")


def check_value(
    got: Any,
    expected: Any,
    *,
    exercise: str,
    hint: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> CheckResult:
    """Check a value (not a function) the learner computed; ``Ellipsis`` (``...``) means not attempted yet."""
    if got is Ellipsis:
        return not_attempted(exercise)
    problem = compare(expected, got, rtol=rtol, atol=atol, where="your value")
    if problem:
        raise CheckFailed(f"{exercise}: {problem}\nHint: {hint}")
    return passed(exercise)
