"""One look for every figure in the course, and the few plot types more than one lesson draws."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

# The same colour always means the same strategy, in every lesson.
COLORS = {
    "amortized": "#1f77b4",     # paid up front: a trained network
    "unamortized": "#d62728",   # paid per query: search, sampling, integration, chain of thought
    "exact": "#222222",         # the truth we check against
    "baseline": "#999999",      # chance, controls
    "accent": "#2ca02c",
}

STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 80,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 10,
    "legend.frameon": False,
}


def use_course_style() -> None:
    """Apply the course's matplotlib style (called by every figure helper)."""
    matplotlib.rcParams.update(STYLE)


def new_figure(nrows: int = 1, ncols: int = 1, width: float = 6.4, height: float = 3.6, **kwargs):
    """A styled figure and its axes, laid out so labels never overlap."""
    use_course_style()
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kwargs)
    return fig, axes


def plot_cumulative_costs(ax, queries: np.ndarray, costs: dict[str, np.ndarray], break_even: float | None = None,
                          unit: str = "s") -> None:
    """Cumulative cost against number of queries, one line per strategy, the break-even marked."""
    for name, cost in costs.items():
        color = COLORS.get(name.split()[0].lower().replace("-", ""), None)
        ax.plot(queries, cost, label=name, color=color, lw=2)
    if break_even is not None and np.isfinite(break_even) and queries[0] <= break_even <= queries[-1]:
        ax.axvline(break_even, color=COLORS["baseline"], ls="--", lw=1)
        ax.annotate(f"break-even\nQ* = {break_even:,.0f}", (break_even, ax.get_ylim()[1]),
                    xytext=(4, -4), textcoords="offset points", va="top", fontsize=9)
    ax.set_xlabel("number of queries answered")
    ax.set_ylabel(f"total cost ({unit})")
    ax.legend(loc="upper left")
