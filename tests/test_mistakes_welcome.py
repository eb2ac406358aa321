"""Lesson 00's mistake catalogue: plausible wrong answers each check rejects by name, and right answers it accepts."""

from __future__ import annotations

import math

import pytest

from simplex_edu.checks import welcome as checks
from simplex_edu.checks.core import CheckFailed
from mistakes import Alternative, Mistake  # tests/ is on sys.path (pytest puts it there)


def _bisect(a: float, high: float | None = None, swap: bool = False, tol: float = 1e-10,
            iterations: int | None = None, endless: bool = False) -> float:
    """A learner's bisection with one knob per mistake."""
    low, high = 0.0, (max(1.0, a) if high is None else high)
    steps = 0
    while (high - low > 0) if endless else (high - low > tol):
        if iterations is not None and steps == iterations:
            break
        middle = 0.5 * (low + high)
        if (middle * math.exp(middle) < a) != swap:
            low = middle
        else:
            high = middle
        steps += 1
    return 0.5 * (low + high)


def _newton(a: float) -> float:
    x = math.log1p(a)  # below the root for a > 0 and convex f: Newton's steps stay on one side and converge
    for _ in range(100):
        step = (x * math.exp(x) - a) / ((1 + x) * math.exp(x))
        x -= step
        if abs(step) < 1e-13:
            break
    return x


def _break_even(ua: float, pa: float, ub: float, pb: float) -> float:
    """A correct break-even written as a closed-form case analysis (another way than the reference's)."""
    if pa < pb:
        return float(max(0, math.ceil((ua - ub) / (pb - pa))))
    return 0.0 if ua <= ub and pa == pb else math.inf


def _counting(ua: float, pa: float, ub: float, pb: float) -> float:
    """A correct break-even by counting up; only the impossible cases are decided by the per-query prices."""
    if pa > pb or (pa == pb and ua > ub):
        return math.inf
    q = 0
    while ua + q * pa > ub + q * pb:
        q += 1
    return float(q)


MISTAKES = [
    Mistake("check_solve_by_bisection", "brackets the root in [0, 1] only", lambda a: _bisect(a, high=1.0),
            "the bracket stops at 1"),
    Mistake("check_solve_by_bisection", "moves the wrong end of the bracket", lambda a: _bisect(a, swap=True),
            "the ends move the wrong way"),
    Mistake("check_solve_by_bisection", "stops after 20 halvings, whatever the width",
            lambda a: _bisect(a, iterations=20), "the loop stops too early"),
    Mistake("check_solve_by_bisection", "uses a loose tolerance (1e-5) instead of tol",
            lambda a: _bisect(a, tol=1e-5), "the loop stops too early"),
    Mistake("check_solve_by_bisection", "loops while high − low > 0: never ends once the ends are adjacent floats",
            lambda a: _bisect(a, endless=True), "did not return within 3 s on input a = 1"),
    Mistake("check_solve_by_bisection", "returns middle·e^middle (≈ a) instead of middle",
            lambda a: (lambda x: x * math.exp(x))(_bisect(a)), "the result: expected 0.5671432904, got 0.99999"),
    Mistake("check_break_even_queries", "ignores up_front_b", lambda ua, pa, ub, pb: (
        float(math.ceil(ua / (pb - pa))) if pb > pa else math.inf), "up_front_b is ignored"),
    Mistake("check_break_even_queries", "forgets to round up", lambda ua, pa, ub, pb: (
        (ua - ub) / (pb - pa) if pb > pa else math.inf), "expected 138462, got 138461.5"),
    Mistake("check_break_even_queries", "rounds down", lambda ua, pa, ub, pb: (
        float(max(0, math.floor((ua - ub) / (pb - pa)))) if pb > pa else math.inf), "rounded down"),
    Mistake("check_break_even_queries", "counts a tie as not yet paid (A < B): one too many",
            lambda ua, pa, ub, pb: (float(max(0, math.floor((ua - ub) / (pb - pa)) + 1)) if pb > pa else math.inf),
            "an off-by-one"),
    Mistake("check_break_even_queries", "returns 0 whenever A is cheaper up front (the docstring's old trap)",
            lambda ua, pa, ub, pb: 0.0 if ua <= ub else (
                float(math.ceil((ua - ub) / (pb - pa))) if pb > pa else math.inf), "B catches up"),
    Mistake("check_break_even_queries", "math.inf whenever the per-query costs are equal (the hint's old trap)",
            lambda ua, pa, ub, pb: math.inf if pa >= pb else float(max(0, math.ceil((ua - ub) / (pb - pa)))),
            "A saves nothing per query"),
    Mistake("check_break_even_queries", "forgets 'no saving per query': divides by zero",
            lambda ua, pa, ub, pb: float(math.ceil((ua - ub) / (pb - pa))), "ZeroDivisionError"),
    Mistake("check_break_even_queries", "forgets 'cheaper from the start': a negative count",
            lambda ua, pa, ub, pb: float(math.ceil((ua - ub) / (pb - pa))) if pb > pa else math.inf,
            "a negative count"),
]

ALTERNATIVES = [
    Alternative("check_solve_by_bisection", "Newton's method instead of bisection", _newton),
    Alternative("check_solve_by_bisection", "bisection returning the lower end (within tol of the root)",
                lambda a: _bisect(a) - 0.5e-10),
    Alternative("check_break_even_queries", "a closed-form case analysis with max(0, …)", _break_even),
    Alternative("check_break_even_queries", "counting queries up one at a time", _counting),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: f"{m.check}: {m.description}")
def test_mistake_is_rejected_by_name(mistake: Mistake, capsys) -> None:
    with pytest.raises(CheckFailed) as error:
        getattr(checks, mistake.check)(mistake.answer)
    assert mistake.message in str(error.value)


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda a: f"{a.check}: {a.description}")
def test_alternative_is_accepted(alternative: Alternative, capsys) -> None:
    assert getattr(checks, alternative.check)(alternative.answer)


@pytest.mark.parametrize("grading", ["", "1"])
def test_every_check_has_enough_entries_and_is_fast(grading: str, monkeypatch, capsys) -> None:
    import time
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", grading)
    for name in ("check_solve_by_bisection", "check_break_even_queries"):
        assert sum(m.check == name for m in MISTAKES) >= 3 and any(a.check == name for a in ALTERNATIVES)
        start = time.perf_counter()
        assert getattr(checks, name)(next(a.answer for a in ALTERNATIVES if a.check == name))
        assert time.perf_counter() - start < 0.5


def test_under_grading_the_course_reference_is_refused(monkeypatch, capsys) -> None:
    from simplex_edu import compute, welcome
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    with pytest.raises(CheckFailed, match="course's own `solve_by_bisection`"):
        checks.check_solve_by_bisection(lambda a: welcome.solve_by_bisection(a))
    with pytest.raises(CheckFailed, match="course's own `break_even`"):
        checks.check_break_even_queries(compute.break_even)


def test_the_old_hints_trap_is_rejected_under_grading_too(monkeypatch, capsys) -> None:
    """Equal per-query costs and A no dearer up front: 0, not inf (the fresh cases have such a pair as well)."""
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    trap = next(m for m in MISTAKES if "hint's old trap" in m.description)
    with pytest.raises(CheckFailed, match="A saves nothing per query"):
        checks.check_break_even_queries(trap.answer)
