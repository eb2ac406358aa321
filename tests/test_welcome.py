"""Lesson 00: the example's science and its two exercise checks."""

import math

import pytest

from simplex_edu import welcome
from simplex_edu.checks.core import CheckFailed
from simplex_edu.checks.welcome import check_break_even_queries, check_solve_by_bisection
from simplex_edu.compute import break_even


def test_bisection_solves_the_equation():
    for a in (0.0, 1e-6, 1.0, math.e, 100.0, 500.0):
        x = welcome.solve_by_bisection(a)
        assert x * math.exp(x) == pytest.approx(a, rel=1e-8, abs=1e-9)
    assert welcome.solve_by_bisection(1.0) == pytest.approx(0.5671432904097838, abs=1e-9)  # the omega constant


def test_table_error_shrinks_quadratically_and_fails_off_range():
    coarse, fine = (welcome.max_table_error(welcome.build_table(n)) for n in (300, 3000))
    assert fine < coarse / 50  # linear interpolation: error ∝ spacing², so 10× finer → ~100× smaller
    table = welcome.build_table(1000)
    assert abs(welcome.solve_by_table(500.0, table) - welcome.solve_by_bisection(500.0)) > 1.0


def test_ledger_view_break_even_matches_arithmetic():
    costs = {"bisection_per_query": 4e-6, "table_per_query": 1e-6}
    view = welcome.ledger_view(1000, 10_000, costs, {1000: 1e-3})
    assert view["break_even"] == math.ceil(1000 * 4e-6 / 3e-6)
    assert view["counts"][0] == 1 and view["counts"][-1] == 10_000
    assert view["table"][0] > view["bisection"][0] and view["table"][-1] < view["bisection"][-1]


def test_check_solve_by_bisection():
    assert check_solve_by_bisection(welcome.solve_by_bisection)
    assert not check_solve_by_bisection(lambda a: (_ for _ in ()).throw(NotImplementedError()))

    def bracket_too_small(a):  # a classic bug: [0, 1] only holds the root for a <= e
        low, high = 0.0, 1.0
        while high - low > 1e-12:
            mid = (low + high) / 2
            low, high = (mid, high) if mid * math.exp(mid) < a else (low, mid)
        return (low + high) / 2
    with pytest.raises(CheckFailed, match="a = 100"):
        check_solve_by_bisection(bracket_too_small)


def test_check_break_even_queries():
    assert check_break_even_queries(break_even)
    with pytest.raises(CheckFailed, match="(?s)ZeroDivisionError.*never pays"):  # forgot the 'no saving' case
        check_break_even_queries(lambda ua, pa, ub, pb: float(math.ceil((ua - ub) / (pb - pa))))
    with pytest.raises(CheckFailed, match="expected 138462, got 138461.5"):  # forgot to round up
        check_break_even_queries(lambda ua, pa, ub, pb: (ua - ub) / (pb - pa) if pb > pa else math.inf)
    with pytest.raises(CheckFailed, match="expected 0, got -1"):  # forgot 'cheaper from the start'
        check_break_even_queries(lambda ua, pa, ub, pb: float(math.ceil((ua - ub) / (pb - pa))) if pb > pa else math.inf)
