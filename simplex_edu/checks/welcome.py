"""Checks for lesson 00's warm-up exercises."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from simplex_edu.checks.core import Case, CheckResult, Diagnosis, check_function, compare
from simplex_edu.compute import break_even
from simplex_edu.welcome import solve_by_bisection


def _bisection(a: float, high: float | None = None, swapped: bool = False) -> float:
    """Bisection variants the check recognises: a fixed upper end, or the two ends moved the wrong way."""
    low, high = 0.0, max(1.0, a) if high is None else high
    while high - low > 1e-12:
        middle = 0.5 * (low + high)
        if (middle * math.exp(middle) < a) != swapped:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def _compare_root(expected: float, got: Any) -> str | None:
    """The usual comparison to 1e-8, plus a word when the answer is close but the loop stopped too early."""
    problem = compare(expected, got, rtol=0, atol=1e-8)
    if problem and isinstance(got, (int, float, np.floating)) and abs(float(got) - expected) < 1e-3:
        problem += (" That is close but not to 1e-8: the loop stops too early — keep halving until "
                    "high − low < tol (tol = 1e-10 by default).")
    return problem


def _bisection_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((float(a),), label=f"a = {a:.6g} (a fresh value)") for a in
            (rng.uniform(0, 1), rng.uniform(1, 10), rng.uniform(10, 600))]


def check_solve_by_bisection(fn: Callable[[float], float]) -> CheckResult:
    """Exercise 1.1: the learner's bisection must find x with x·eˣ = a to 1e-8, including a = 0 and large a."""
    cases = [Case((1.0,), label="a = 1 (the omega constant, 0.567…)"), Case((math.e,), label="a = e (answer 1)"),
             Case((0.0,), label="a = 0 (answer 0: an edge of the bracket)"),
             Case((1e-6,), label="a = 1e-6 (tiny)"), Case((100.0,), label="a = 100 (needs a bracket wider than [0, 1])"),
             Case((0.3,), label="a = 0.3")]
    return check_function(
        fn, solve_by_bisection, cases, exercise="Exercise 1.1 (solve_by_bisection)", compare_fn=_compare_root,
        rtol=0, atol=1e-8,  # what the diagnoses are matched with; _compare_root uses the same
        fresh_cases=_bisection_cases, time_limit=3.0,  # the reference takes microseconds
        diagnoses=[Diagnosis(lambda a: _bisection(a, high=1.0),
                             "the bracket stops at 1: for a > e the root is above 1, so start high at max(1, a)"),
                   Diagnosis(lambda a: _bisection(a, swapped=True),
                             "the ends move the wrong way: when middle·e^middle < a the root is above the middle, "
                             "so low moves up")],
        hint="keep a bracket [low, high] with low·e^low < a ≤ high·e^high; move the end whose sign matches the "
             "middle's; stop when high − low < tol. The root can be above 1 when a > e, so start high at max(1, a).")


def _break_even_cases(rng: np.random.Generator) -> list[Case]:
    """Whole-number costs (exact in floats, so every correct formula rounds alike), one of each kind of answer."""
    up_b, pa = (float(v) for v in rng.integers(1, 20, 2))
    gap, saving = (float(v) for v in rng.integers(1, 50, 2))
    return [Case((up_b + gap, pa, up_b, pa + saving), label=f"fresh: A dearer up front by {gap:g}, cheaper per "
                                                            f"query by {saving:g}, up_front_b = {up_b:g}"),
            Case((up_b, pa + saving, up_b + gap, pa), label="fresh: A cheaper up front, dearer per query"),
            Case((up_b, pa, up_b + gap, pa + saving), label="fresh: A cheaper up front and per query"),
            Case((up_b, pa, up_b + gap, pa), label="fresh: A cheaper up front, the same per query (answer 0)"),
            Case((up_b + gap, pa, up_b, pa), label="fresh: A dearer up front, the same per query (math.inf)")]


BREAK_EVEN_RULE = ("the smallest whole Q from which on A costs no more than B — at Q and at every larger number of "
                   "queries — so 0 if A is never dearer, and math.inf if there is no such Q (A is dearer per query, "
                   "or equal per query and dearer up front), even when A is cheaper for the first few queries")


def check_break_even_queries(fn: Callable[[float, float, float, float], float]) -> CheckResult:
    """Exercise 1.2: break-even query counts, including 'never pays' (inf) and 'pays from the start' (0)."""
    cases = [Case((0.36, 1e-6, 0.0, 3.6e-6), label="a table of 100,000 entries against bisection"),
             Case((10.0, 1.0, 0.0, 2.0), label="up front 10, saves 1 per query (answer 10: at Q = 10 the totals tie)"),
             Case((10.0, 1.0, 0.0, 4.0), label="up front 10, saves 3 per query (answer 4: round up)"),
             Case((12.0, 1.0, 4.0, 3.0), label="both pay up front: A 12, B 4; A saves 2 per query (answer 4)"),
             Case((5.0, 2.0, 0.0, 2.0), label="no saving per query, dearer up front: never pays (math.inf)"),
             Case((5.0, 3.0, 0.0, 2.0), label="dearer per query: never pays (math.inf)"),
             Case((0.0, 1.0, 2.0, 3.0), label="cheaper up front and per query (answer 0)"),
             Case((5.0, 2.0, 10.0, 1.0), label="A cheaper up front (5 < 10) but dearer per query (2 > 1): B is "
                                               "cheaper for good from query 6 on, so A never breaks even (math.inf)"),
             Case((3.0, 2.0, 5.0, 2.0), label="no saving per query, cheaper up front: never dearer (answer 0)"),
             Case((5.0, 2.0, 5.0, 2.0), label="the same costs exactly: never dearer (answer 0)")]
    return check_function(
        fn, break_even, cases, exercise="Exercise 1.2 (break_even_queries)", rtol=0, atol=0,
        fresh_cases=_break_even_cases,
        diagnoses=[Diagnosis(lambda ua, pa, ub, pb: break_even(ua, pa, 0.0, pb),
                             "up_front_b is ignored: A must make up up_front_a − up_front_b, not up_front_a"),
                   Diagnosis(lambda ua, pa, ub, pb: 0.0 if ua <= ub else break_even(ua, pa, ub, pb),
                             "you returned 0 because A starts cheaper; but A is dearer per query, so B catches up "
                             "and stays cheaper: A never breaks even for good (math.inf)"),
                   Diagnosis(lambda ua, pa, ub, pb: math.inf if pa == pb else break_even(ua, pa, ub, pb),
                             "you returned math.inf because A saves nothing per query; but A is no dearer up front "
                             "either, so it is never behind: the answer is 0"),
                   Diagnosis(lambda ua, pa, ub, pb: break_even(ua, pa, ub, pb) + 1.0,
                             "an off-by-one: when the totals tie exactly, that Q already counts (A ≤ B, not A < B)"),
                   Diagnosis(lambda ua, pa, ub, pb: float(math.ceil((ua - ub) / (pb - pa))),
                             "a negative count: when A is cheaper both up front and per query it is never behind, "
                             "so the answer is 0"),
                   Diagnosis(lambda ua, pa, ub, pb: float(math.floor((ua - ub) / (pb - pa))),
                             "the count is rounded down: round up with math.ceil (a fraction of a query still "
                             "costs a whole one)")],
        hint=f"the break-even is {BREAK_EVEN_RULE}. A catches up by (per_query_b − per_query_a) per query and must "
             "make up (up_front_a − up_front_b); round up with math.ceil.")
