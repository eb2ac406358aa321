"""Name the mistake, not only the number: when an answer is wrong, try the wrong answers learners usually give.

A :class:`Suspect` is a plausible mistake written as code (the reference with one term dropped, an off-by-one,
the wrong axis) and a sentence saying what it is. :func:`check_with_suspects` runs ``check_function`` as usual;
when the learner's result differs from the reference on a case and equals a suspect's result there, the failure
message says which mistake it probably is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from simplex_edu.checks.core import Case, CheckResult, _copy, _is_arraylike, _to_numpy, check_function, compare


@dataclass(frozen=True)
class Suspect:
    """A recognisable mistake: ``compute`` returns what that mistake returns; ``message`` says what it is."""

    message: str        # completes "It looks like …", e.g. "the output bias is missing"
    compute: Callable   # same signature as the reference


def check_with_suspects(
    learner_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    suspects: Sequence[Suspect],
    *,
    exercise: str,
    hint: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    compare_fn: Callable[[Any, Any], str | None] | None = None,
    **options: Any,
) -> CheckResult:
    """``check_function`` whose failure message names the first suspect that reproduces the learner's result."""
    inputs: dict[str, Any] = {}

    def reference(*args: Any, **kwargs: Any) -> Any:
        # check_function calls the reference on a case just before comparing: remember that case's inputs.
        inputs["args"], inputs["kwargs"] = _copy(args), _copy(kwargs)
        return reference_fn(*args, **kwargs)

    def same(expected: Any, got: Any) -> str | None:
        return compare_fn(expected, got) if compare_fn else compare(expected, got, rtol=rtol, atol=atol)

    def explain(expected: Any, got: Any) -> str | None:
        problem = same(expected, got)
        if problem is None:
            return None
        for suspect in suspects:
            try:
                wrong = suspect.compute(*_copy(inputs["args"]), **_copy(inputs["kwargs"]))
                matches = same(_loosely(wrong), _loosely(got)) is None and same(expected, wrong) is not None
            except Exception:  # a suspect that cannot run on this case, or be compared, is not this mistake
                continue
            if matches:
                return f"It looks like {suspect.message}.\n({problem})"
        return problem

    return check_function(learner_fn, reference, cases, exercise=exercise, hint=hint, rtol=rtol, atol=atol,
                          compare_fn=explain, **options)


def _loosely(value: Any) -> Any:
    """Arrays and tensors as float64 numpy arrays: a suspect matches whatever dtype the learner's version had."""
    if _is_arraylike(value):
        array = _to_numpy(value)
        return array.astype(np.float64) if array.dtype.kind in "biuf" else array
    if isinstance(value, tuple):
        return tuple(_loosely(v) for v in value)
    return value
