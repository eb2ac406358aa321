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


def test_break_even_cheaper_up_front_but_dearer_per_query_never_pays():
    """(5, 2, 10, 1): A is cheaper for the first queries but dearer from Q = 5 on: no count from which on A wins."""
    assert break_even(5.0, 2.0, 10.0, 1.0) == math.inf
    assert break_even(10.0, 2.0, 5.0, 1.0) == math.inf  # behind at Q = 0 and dearer per query: never
    assert break_even(10.0, 1.0, 4.0, 3.0) == 3.0  # 6 to make up at 2 per query
    assert break_even(10.0, 1.0, 10.0, 3.0) == 0.0  # level at Q = 0 and cheaper after: never dearer
    assert break_even(4.0, 1.0, 10.0, 1.0) == 0.0  # cheaper up front, same per query: never dearer


def test_small_table_is_off_by_about_half_a_unit():
    """The explorer text: a 10-entry table pays off almost at once but is off by about 0.5."""
    assert 0.4 < welcome.max_table_error(welcome.build_table(10)) < 0.7
    costs = {"bisection_per_query": 4e-6, "table_per_query": 1e-6}
    assert welcome.ledger_view(10, 1000, costs, {10: 0.5})["break_even"] <= 20


def test_ledger_figure_says_when_the_break_even_is_beyond_the_range():
    import matplotlib
    matplotlib.use("Agg")
    from simplex_edu.plots import new_figure

    costs = {"bisection_per_query": 4e-6, "table_per_query": 1e-6}
    fig, ax = new_figure()
    welcome.draw_ledger(fig, welcome.ledger_view(10_000, 1000, costs, {10_000: 1e-5}))
    assert "beyond this range" in ax._break_even_text.get_text() and "13,334" in ax._break_even_text.get_text()
    welcome.draw_ledger(fig, welcome.ledger_view(10_000, 100_000, costs, {10_000: 1e-5}))
    assert ax._break_even_text.get_text().split("\n")[0].strip() == "break-even"
    assert ax._break_even_text.get_horizontalalignment() == "right"  # Q* = 13,334 of 100,000, log: to its left
    welcome.draw_ledger(fig, welcome.ledger_view(100, 100_000, costs, {100: 1e-3}))
    assert ax._break_even_text.get_horizontalalignment() == "left"  # Q* = 134, in the left part: to its right
    welcome.draw_ledger(fig, welcome.ledger_view(10, 1000, {"bisection_per_query": 1e-6, "table_per_query": 2e-6},
                                                 {10: 0.5}))
    assert "never" in ax._break_even_text.get_text()
