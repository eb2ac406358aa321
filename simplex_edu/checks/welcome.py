"""Checks for lesson 00's warm-up exercises."""

from __future__ import annotations

import math
from typing import Callable

from simplex_edu.checks.core import Case, CheckResult, check_function
from simplex_edu.compute import break_even
from simplex_edu.welcome import solve_by_bisection


def check_solve_by_bisection(fn: Callable[[float], float]) -> CheckResult:
    """Exercise 1.1: the learner's bisection must find x with x·eˣ = a to 1e-8, including a = 0 and large a."""
    cases = [Case((1.0,), label="a = 1 (the omega constant, 0.567…)"), Case((math.e,), label="a = e (answer 1)"),
             Case((0.0,), label="a = 0 (answer 0: an edge of the bracket)"),
             Case((1e-6,), label="a = 1e-6 (tiny)"), Case((100.0,), label="a = 100 (needs a bracket wider than [0, 1])"),
             Case((0.3,), label="a = 0.3")]
    return check_function(
        fn, solve_by_bisection, cases, exercise="Exercise 1.1 (solve_by_bisection)", rtol=0, atol=1e-8,
        hint="keep a bracket [low, high] with low·e^low < a ≤ high·e^high; move the end whose sign matches the "
             "middle's; stop when high − low < tol. The root can be above 1 when a > e, so start high at max(1, a).")


def check_break_even_queries(fn: Callable[[float, float, float, float], float]) -> CheckResult:
    """Exercise 1.2: break-even query counts, including 'never pays' (inf) and 'pays from the start' (0)."""
    cases = [Case((0.36, 1e-6, 0.0, 3.6e-6), label="a table of 100,000 entries against bisection"),
             Case((10.0, 1.0, 0.0, 2.0), label="up front 10, saves 1 per query (answer 10)"),
             Case((10.0, 1.0, 0.0, 4.0), label="up front 10, saves 3 per query (answer 4: round up)"),
             Case((5.0, 2.0, 0.0, 2.0), label="no saving per query: never pays (math.inf)"),
             Case((5.0, 3.0, 0.0, 2.0), label="dearer per query: never pays (math.inf)"),
             Case((0.0, 1.0, 2.0, 3.0), label="cheaper up front and per query (answer 0)")]
    return check_function(
        fn, break_even, cases, exercise="Exercise 1.2 (break_even_queries)", rtol=0, atol=0,
        hint="A catches up by (per_query_b − per_query_a) per query and must make up (up_front_a − up_front_b); "
             "round up with math.ceil; return math.inf when A never catches up and 0 when it is never behind.")
