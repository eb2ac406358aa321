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
                          unit: str = "s", colors: list[str] | None = None, styles: list[str] | None = None,
                          legend_loc: str = "upper left") -> None:
    """Cumulative cost against number of queries, one line per strategy, the break-even Q* marked.

    The first call on an axes draws; later calls move the same artists (set_data), so an explorer that calls
    it on every slider move stays fast. ``colors`` are keys of :data:`COLORS` (default: from each name's first word).
    """
    queries = np.asarray(queries)
    if not hasattr(ax, "_cost_lines"):
        names = list(costs)
        colors = colors or [name.split()[0].lower().replace("-", "").rstrip(":") for name in names]
        styles = styles or ["-"] * len(names)
        ax._cost_lines = [ax.plot([], [], label=name, color=COLORS.get(color, color), ls=style, lw=2)[0]
                          for name, color, style in zip(names, colors, styles)]
        ax._break_even_line = ax.axvline(1, color=COLORS["baseline"], ls="--", lw=1)
        ax._break_even_text = ax.text(1, 0.97, "", transform=ax.get_xaxis_transform(), va="top", fontsize=9)
        ax.set_xlabel("number of queries answered")
        ax.set_ylabel(f"total cost ({unit})")
        ax.legend(loc=legend_loc)
    for line, cost in zip(ax._cost_lines, costs.values()):
        line.set_data(queries, cost)
    visible = break_even is not None and bool(np.isfinite(break_even)) and queries[0] <= break_even <= queries[-1]
    ax._break_even_line.set_visible(visible)
    label = break_even_label(break_even, queries[-1]) if break_even is not None else ""
    if visible:
        ax._break_even_line.set_xdata([break_even, break_even])
        ax._break_even_text.set_position((break_even, 0.97))
        # Beside the crossing, on the side with room: right of the line, or left of it near the right edge.
        start, end = queries[0], queries[-1]
        log = ax.get_xscale() == "log"
        where = (np.log(break_even / start) / np.log(end / start) if log and end > start else
                 (break_even - (start if log else 0)) / max(end - (start if log else 0), 1e-300))
        right = where > 0.6
        ax._break_even_text.set_horizontalalignment("right" if right else "left")
        if right:
            label = "\n".join(line.strip() + " " for line in label.split("\n"))
    elif break_even is not None:  # say where the break-even is rather than show nothing
        ax._break_even_text.set_position((queries[-1], 0.97))  # in the headroom above the lines, no background
        ax._break_even_text.set_horizontalalignment("right")
    ax._break_even_text.set_text(label)
    low = min(float(np.min(c)) for c in costs.values())
    high = max(float(np.max(c)) for c in costs.values())
    if ax.get_yscale() == "log":  # headroom for the break-even label: its two lines stay above every line
        ax.set_ylim(max(low, 1e-12) * 0.5, high * (10 if visible or break_even is None else 100))
    else:
        ax.set_ylim(0, (1.05 if visible or break_even is None else 1.3) * high)
    ax.set_xlim(queries[0] if ax.get_xscale() == "log" else 0, queries[-1])


def break_even_label(break_even: float, last_query: float) -> str:
    """The break-even's label: its value, or that it lies beyond the queries shown, or that there is none."""
    if not np.isfinite(break_even):
        return "never breaks even "
    if break_even > last_query:
        return f"break-even Q* = {break_even:,.0f}:\nbeyond this range → "
    return f" break-even\n Q* = {break_even:,.0f}"


def describe(fig, text: str):
    """Attach a text alternative (what the figure shows and what to read from it) to a figure; returns the figure.

    The notebook output and the site's ``alt`` carry it, so a screen reader reads the sentence, not a file name.
    """
    fig.alt_text = " ".join(text.split())
    return fig
