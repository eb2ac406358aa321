"""The explorer pattern: sliders above a figure; the update logic is a plain function that tests call.

``Explorer(compute, draw, controls)``: ``compute(**values)`` returns data (pure, testable, fast);
``draw(fig, data)`` redraws the figure from that data. Moving a control recomputes and redraws in place.
The figure is shown as a PNG in an Image widget, so no extension or special backend is needed anywhere.
When compute or draw fails for some control values, the explorer says so above the figure (what failed, for
which values), keeps the last good figure, and clears the message once the controls give a figure again. A compute
that skips characters typed into a text box lists them in its result dict's ``"ignored"``; the explorer then says
so in the same place (a short note, not an error), so a typo is seen in the page, not only inside the figure.
"""

from __future__ import annotations

import html
import io
import time
import weakref
from typing import Any, Callable

import ipywidgets as W
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.text import Text
import numpy as np
import traitlets
from IPython.display import display

from simplex_edu.plots import image_scale, new_figure

# Every explorer made in this kernel, so the benchmark can time their updates without knowing the lesson.
EXPLORERS: "weakref.WeakSet[Explorer]" = weakref.WeakSet()


class Explorer:
    """Controls wired to a compute function and a draw function, with the figure below them."""

    def __init__(
        self,
        compute: Callable[..., Any],
        draw: Callable[[Any, Any], None],
        controls: dict[str, W.ValueWidget],
        figsize: tuple[float, float] = (6.4, 3.6),
        ncols: int = 1,
    ):
        self.compute, self.draw, self.controls = compute, draw, controls
        self.fig, self.axes = new_figure(1, ncols, *figsize)
        plt.close(self.fig)  # shown through the image widget only, not again at the end of the cell
        # The figure goes to an Image widget as PNG bytes: no Output-widget capture, so it behaves the same in
        # JupyterLab, Notebook 7, VS Code, Colab and headless test runs.
        width = f"{self.fig.get_figwidth() * self.fig.dpi:.0f}px"  # real size: stretched PNGs look blurry
        self.image = W.Image(format="png", layout=W.Layout(width=width, max_width="100%"))
        # The figure's text alternative goes in the image's tooltip (its title); ipywidgets' view shows a tooltip
        # only when the widget's description is empty, and an Image has none (a TypeError in the browser).
        self.image.add_traits(description=traitlets.Unicode("").tag(sync=True))
        self.update_seconds: list[float] = []
        self.error: str | None = None  # what the last update could not do, shown in ``self.message``
        self.note: str | None = None  # what the last good update skipped of the typed text (``ignored_note``)
        self._shown: str | None = None  # the message's HTML now, so an unchanged one costs no widget traffic
        self.message = W.HTML(layout=W.Layout(display="none"))
        self.message.add_class("simplex-explorer-error")
        for control in controls.values():
            control.continuous_update = True if isinstance(control, W.Dropdown) else False
            control.observe(lambda _change: self.refresh(), names="value")
        self.widget = W.VBox([W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap")), self.message,
                              self.image])
        self.widget.add_class("simplex-explorer")
        self._draw()  # not guarded: an explorer that fails on the lesson's own start values is a bug to see
        self._show_message()
        EXPLORERS.add(self)

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Recompute and redraw for the current values; on failure say so in the explorer and keep the last figure.

        Widget callbacks report exceptions only to JupyterLab's hidden log console, so the learner would otherwise
        see a slider that moves and a figure that silently stays stale.
        """
        try:
            self._draw()
        except Exception as error:  # any failure of compute or draw: shown in the page, the explorer stays usable
            values = ", ".join(f"{name} = {value!r}" for name, value in self.values().items())
            self.error = (f"Could not update the figure for {values}: {type(error).__name__}: {error}. "
                          "Showing the last figure that worked; move the controls to try other values.")
        else:
            self.error = None
        self._show_message()

    def _show_message(self) -> None:
        """Show the error, else the note, above the figure (hidden when there is neither)."""
        if self.error is not None:
            shown = (f'<div role="alert" style="color:#b00020;border-left:3px solid #b00020;padding:2px 8px;'
                     f'margin:2px 0">⚠ {html.escape(self.error[:400])}</div>')
        elif self.note is not None:
            shown = (f'<div role="status" style="border-left:3px solid #8c8c8c;padding:2px 8px;margin:2px 0">'
                     f"{html.escape(self.note)}</div>")
        else:
            shown = None
        if shown == self._shown:
            return  # no widget traffic when nothing changes (most updates)
        self._shown = shown
        self.message.value = shown or ""
        self.message.layout.display = "none" if shown is None else ""

    def _draw(self) -> None:
        """Compute from the current values, draw, and show the figure (raises whatever compute or draw raises)."""
        start = time.perf_counter()
        data = self.compute(**self.values())
        self.draw(self.fig, data)
        self.note = ignored_note(data)
        if not self.update_seconds:
            self._placed_by_hand = self.fig.get_layout_engine() is None  # the draw turned layout off: keep it so
            self._lay_out()
        png = self._png()
        if not self._placed_by_hand and image_scale() != 1:
            self.fig.draw_without_rendering()  # texts measured at the figure's own dpi, not the sharper PNG's
        if not self._placed_by_hand and texts_outside(self.fig):  # labels grew past the margins: lay out again
            self._lay_out()
            png = self._png()
        self.image.value = png
        self.image.tooltip = getattr(self.fig, "alt_text", None)  # the figure's text alternative (plots.describe)
        self.update_seconds.append(time.perf_counter() - start)

    def _png(self) -> bytes:
        """The figure as PNG bytes, at the site's higher density when it builds (plots.image_scale)."""
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=self.fig.dpi * image_scale())
        return buffer.getvalue()

    def _lay_out(self) -> None:
        """Constrained layout once, then fixed margins: laying out costs more than drawing, so only when needed."""
        if self._placed_by_hand:
            return
        # None afterwards, not "none": a placeholder engine still costs savefig a draw.
        self.fig.set_layout_engine("constrained")
        self.fig.draw_without_rendering()
        self.fig.set_layout_engine(None)

    def _ipython_display_(self) -> None:
        bundle = self.widget._repr_mimebundle_()
        # A short, stable text form: the widget's own repr embeds the figure's PNG, which varies by machine.
        bundle["text/plain"] = f"Explorer({', '.join(self.controls)})"
        display(bundle, raw=True)


def ignored_note(data: Any) -> str | None:
    """The note for typed characters a compute skipped (its result dict's ``"ignored"``), or None if there are none."""
    ignored = data.get("ignored") if isinstance(data, dict) else None
    if not ignored:
        return None
    shown = " ".join(map(str, ignored[:6])) + (" …" if len(ignored) > 6 else "")
    return f"Ignored what was typed but means nothing here ({shown}); the figure shows the rest."


def _drawn_texts(fig: Figure) -> list[Text]:
    """The figure's texts that a draw shows: tick labels only of the ticks inside the axis' view."""
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        texts += ax.legend_.get_texts() if ax.legend_ else []
        if not ax.axison:
            continue
        texts += [ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():  # the ticks a draw places; others keep stale, unseen labels
                texts += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    return texts


def texts_outside(fig: Figure, slack: float = 1.0) -> list[str]:
    """Every visible text of the last drawn ``fig`` that reaches past its edges (by more than ``slack`` pixels)."""
    box = fig.bbox
    outside = []
    for text in _drawn_texts(fig):
        if not text.get_visible() or not text.get_text().strip():
            continue
        extent = text.get_window_extent()
        if (extent.x0 < box.x0 - slack or extent.y0 < box.y0 - slack or extent.x1 > box.x1 + slack
                or extent.y1 > box.y1 + slack):
            outside.append(text.get_text())
    return outside


def time_explorer_updates(explorer: Explorer, moves: int = 6) -> float:
    """Median seconds per update when the first control is stepped through ``moves`` of its values."""
    control = next(iter(explorer.controls.values()))
    original = control.value
    if hasattr(control, "options") and control.options:
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        values = [options[i % len(options)] for i in range(1, moves + 1)]
    elif isinstance(control, W.FloatLogSlider):
        values = list(control.base ** np.linspace(control.min, control.max, moves))
    elif isinstance(control, W.Text):  # the value typed a character at a time, as a learner types it
        values = [original[:k] for k in np.linspace(1, max(1, len(original)), moves).round().astype(int)]
    else:
        values = list(np.linspace(control.min, control.max, moves))
        if isinstance(control.value, int):
            values = [int(round(v)) for v in values]
    start = len(explorer.update_seconds)
    for value in values:
        if control.value == value:
            explorer.refresh()
        else:
            control.value = value
    control.value = original
    return float(np.median(explorer.update_seconds[start:start + moves]))


def median_update_ms() -> float | None:
    """Median update latency in ms over every explorer created in this kernel (None if there are none)."""
    timings = [time_explorer_updates(e) for e in list(EXPLORERS)]
    return 1000 * float(np.median(timings)) if timings else None
