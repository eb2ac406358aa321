"""Lesson 00's running example: solve x·eˣ = a per query (bisection), or from a table of solved questions.

The equation has no closed-form answer, so each query costs a search (un-amortized). Solving a grid of
questions once and interpolating between them is the amortized shortcut: fast per query, paid up front, and
only approximately right.
"""

from __future__ import annotations

import bisect
import math

import numpy as np
from matplotlib.ticker import FuncFormatter

from simplex_edu.compute import break_even, cumulative_cost, time_call
from simplex_edu.plots import describe, plot_cumulative_costs

TABLE_RANGE = (0.0, 100.0)  # the questions a table is built for: a in [0, 100]


def solve_by_bisection(a: float, tol: float = 1e-10) -> float:
    """The x ≥ 0 with x·eˣ = a (for 0 ≤ a ≤ 700), found by halving the bracket [0, max(1, a)] until it is < tol wide."""
    low, high = 0.0, max(1.0, a)  # x·eˣ ≥ x, so the root is below a (and below 1 when a < 1)
    while high - low > tol:
        middle = 0.5 * (low + high)
        if middle * math.exp(middle) < a:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


Table = tuple[list[float], list[float]]


def build_table(size: int) -> Table:
    """The up-front work: solve ``size`` evenly spaced questions a in TABLE_RANGE the slow way."""
    questions = np.linspace(*TABLE_RANGE, size).tolist()
    return questions, [solve_by_bisection(a) for a in questions]


def solve_by_table(a: float, table: Table) -> float:
    """The shortcut: find the two solved questions around ``a`` and interpolate (clamped outside the range)."""
    questions, answers = table
    i = min(max(bisect.bisect_left(questions, a), 1), len(questions) - 1)
    weight = min(max((a - questions[i - 1]) / (questions[i] - questions[i - 1]), 0.0), 1.0)
    return answers[i - 1] + weight * (answers[i] - answers[i - 1])


def max_table_error(table: Table, n_test: int = 500) -> float:
    """Largest error of the table shortcut over the range it was built for."""
    tests = np.random.default_rng(1).uniform(*TABLE_RANGE, n_test).tolist()  # off the table's grid
    return max(abs(solve_by_table(a, table) - solve_by_bisection(a)) for a in tests)


def measure_costs(seed: int = 0) -> dict[str, float]:
    """Measured seconds per query, one query at a time, for bisection and for the table lookup."""
    a = float(np.random.default_rng(seed).uniform(*TABLE_RANGE))
    table = build_table(1000)
    return {"bisection_per_query": time_call(lambda: solve_by_bisection(a)),
            "table_per_query": time_call(lambda: solve_by_table(a, table))}


def ledger_view(table_size: int, queries: int, costs: dict[str, float], errors: dict[int, float]) -> dict:
    """What the explorer shows: both strategies' cumulative cost up to ``queries``, the break-even, the table's error.

    Building a table of n entries costs n bisection solves; ``errors`` maps table sizes to their measured error.
    """
    counts = np.unique(np.geomspace(1, queries, 200).astype(int))
    up_front = costs["bisection_per_query"] * table_size
    return {
        "counts": counts,
        "bisection": cumulative_cost(0.0, costs["bisection_per_query"], counts),
        "table": cumulative_cost(up_front, costs["table_per_query"], counts),
        "break_even": break_even(up_front, costs["table_per_query"], 0.0, costs["bisection_per_query"]),
        "table_error": errors[table_size],
        "table_size": table_size,
    }


def draw_ledger(fig, view: dict) -> None:
    """Draw :func:`ledger_view`'s result: two cumulative-cost lines and the break-even (artists moved in place)."""
    ax = fig.axes[0]
    if not ax.lines:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.minorticks_off()  # minor log ticks and mathtext labels would dominate the redraw time
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(FuncFormatter(lambda value, _: compact_number(value)))
    plot_cumulative_costs(ax, view["counts"],
                          {"un-amortized: bisection per query": view["bisection"] * 1e3,
                           "amortized: table solved up front": view["table"] * 1e3},
                          break_even=view["break_even"], unit="ms", legend_loc="lower right")
    ax.set_title(f"table of {view['table_size']:,} solved questions: largest error {view['table_error']:.1e}",
                 fontsize=10)
    q_star, last = view["break_even"], int(view["counts"][-1])
    crossing = (f"they cross at the break-even, Q* = {q_star:,.0f}" if q_star <= last else
                f"the break-even, Q* = {q_star:,.0f}, lies beyond the {last:,} queries shown")
    describe(fig, f"Total cost against number of queries, both axes logarithmic: bisection (red) rises in proportion "
                  f"to the queries; the table of {view['table_size']:,} entries (blue) starts at its up-front cost and "
                  f"hardly rises. Read where the lines cross: {crossing}.")


def compact_number(value: float) -> str:
    """A tick label short at any size: 0.001, 50, 2k, 100k, 1M."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"
