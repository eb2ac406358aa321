"""One look for every figure in the course, and the few plot types more than one lesson draws."""

from __future__ import annotations

import base64
import html
import io
import os
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

# The same colour always means the same strategy, in every lesson. Chosen to stay apart under colour-vision
# deficiencies (Okabe–Ito's blue and vermilion, black, a mid grey, Tol's wine): every pair at least 20.8 CIEDE2000
# apart under simulated deuteranomaly, protanomaly and tritanomaly, each at least 3:1 against white
# (tests/test_accessibility.py).
COLORS = {
    "amortized": "#0072B2",     # paid up front: a trained network
    "unamortized": "#D55E00",   # paid per query: search, sampling, integration, chain of thought
    "exact": "#000000",         # the truth we check against
    "baseline": "#8C8C8C",      # chance, controls
    "accent": "#882255",
}
LINE_STYLES = ("-", "--", "-.", ":")  # a second cue beside colour, for lines that share a figure
MAX_IMAGE_PIXELS = 1600  # the widest PNG a described figure gets: twice the site's ~800-pixel column
RETINA = "SIMPLEX_EDU_RETINA"  # set (to 1) by the site build: described figures drawn at twice their pixels
ALT_PREFIX = '<img alt="'  # how a described figure's HTML output begins (figures_without_text looks for it)

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
    it on every slider move stays fast. ``colors`` are keys of :data:`COLORS` (default: from each name's first word);
    ``styles`` are line styles (default: a different one per line, so no line is told apart by colour alone).
    """
    queries = np.asarray(queries)
    if not hasattr(ax, "_cost_lines"):
        names = list(costs)
        colors = colors or [name.split()[0].lower().replace("-", "").rstrip(":") for name in names]
        styles = styles or [LINE_STYLES[i % len(LINE_STYLES)] for i in range(len(names))]  # not colour alone
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
    _show_described_figures()
    return fig


def image_scale() -> int:
    """Pixels per figure pixel in a PNG: 2 on the site (sharp on high-density screens), 1 in kernels (memory)."""
    return 2 if os.environ.get(RETINA, "") not in ("", "0") else 1


def _palette_png(png: bytes) -> bytes:
    """The PNG with at most 256 colours: a third of the bytes for the site's sharper figures, which look the same
    (flat colours and anti-aliased edges need few), so the site stays within its 10 MB as lessons are added."""
    from PIL import Image  # matplotlib's own dependency

    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(256).save(  # median cut, for RGB
        buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def figure_html(fig: Figure) -> str:
    """A described figure as ``<img alt="its text" src="data:image/png...">``, at its own size on the page."""
    # Sharper by image_scale(), but no wider than twice a page column's pixels: a big figure shown narrower
    # than its own size gains nothing from more (and the site keeps within its 10 MB).
    scale = min(image_scale(), max(1.0, MAX_IMAGE_PIXELS / (fig.get_figwidth() * fig.dpi)))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi * scale, bbox_inches="tight")
    png = buffer.getvalue() if scale == 1 else _palette_png(buffer.getvalue())
    width, height = (round(int.from_bytes(png[at:at + 4], "big") / scale) for at in (16, 20))  # the PNG header
    return (f'{ALT_PREFIX}{html.escape(fig.alt_text)}" width="{width}" height="{height}" '
            f'src="data:image/png;base64,{base64.b64encode(png).decode()}">')


def _html_or_none(fig: Figure) -> str | None:
    return figure_html(fig) if getattr(fig, "alt_text", None) else None


def _plain_text(fig: Figure, printer: Any, _cycle: bool) -> None:
    printer.text(getattr(fig, "alt_text", None) or repr(fig))


class _PngUnlessDescribed:
    """The inline backend's PNG formatter, skipped for a described figure (its HTML output carries the PNG)."""

    def __init__(self, png: Any):
        self.png = png

    def __call__(self, fig: Figure) -> Any:
        return None if getattr(fig, "alt_text", None) else self.png(fig)


def _show_described_figures() -> None:
    """In IPython: a described figure's output is its text (text/plain) and an ``<img alt>`` (text/html)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(Figure, _html_or_none)
    formatters["text/plain"].for_type(Figure, _plain_text)
    try:
        png = formatters["image/png"].lookup_by_type(Figure)
    except KeyError:
        return  # no PNG formatter (not the inline backend): nothing to skip
    if not isinstance(png, _PngUnlessDescribed):  # checked each time: %matplotlib inline registers its own again
        formatters["image/png"].for_type(Figure, _PngUnlessDescribed(png))


def figures_without_text(notebook: Any) -> list[int]:
    """Indices of the code cells of a notebook (nbformat) with a figure output that has no text alternative."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            markup = data.get("text/html", "")
            markup = "".join(markup) if isinstance(markup, list) else markup
            if "image/png" in data or ("data:image/png" in markup and not markup.startswith(ALT_PREFIX)):
                found.append(index)
                break
    return found
