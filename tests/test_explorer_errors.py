"""An explorer whose compute or draw fails for some control values says so in itself and keeps the last figure."""

import re

import ipywidgets as W
import pytest

from simplex_edu.widgets import Explorer
from test_accessibility import contrast_on_white


def compute(x: int) -> int:
    if x > 5:
        raise ValueError(f"x = {x} is beyond what this demo can draw")
    return x


def draw(fig, x: int) -> None:
    ax = fig.axes[0]
    if x == 1:
        raise ZeroDivisionError("the draw step failed")
    ax.clear()
    ax.plot([0, 1], [0, x])


def test_a_failing_update_is_shown_keeps_the_figure_and_recovers():
    slider = W.IntSlider(value=2, min=0, max=10)
    explorer = Explorer(compute, draw, {"x": slider})
    good = explorer.image.value
    assert explorer.error is None and explorer.message.layout.display == "none"

    slider.value = 8  # compute raises
    assert explorer.image.value == good
    assert "x = 8" in explorer.error and "ValueError: x = 8 is beyond" in explorer.error
    assert "ValueError" in explorer.message.value and explorer.message.layout.display != "none"

    slider.value = 1  # draw raises: named too
    assert explorer.image.value == good and "ZeroDivisionError" in explorer.message.value

    slider.value = 3  # back to values that work: a new figure, and the message is gone
    assert explorer.image.value != good
    assert explorer.error is None and explorer.message.value == "" and explorer.message.layout.display == "none"


def test_a_failure_on_the_lessons_own_start_values_is_not_hidden():
    with pytest.raises(ValueError):
        Explorer(compute, draw, {"x": W.IntSlider(value=9, min=0, max=10)})


def read_digits(text: str) -> dict:
    """A token box's compute: the digits typed, and every other character it skipped."""
    return {"digits": [c for c in text if c.isdigit()], "ignored": sorted({c for c in text if not c.isdigit()})}


def draw_digits(fig, data: dict) -> None:
    fig.axes[0].clear()
    fig.axes[0].plot(range(len(data["digits"]) + 1))


def test_a_typo_in_a_text_box_gives_a_short_note_not_an_error():
    box = W.Text(value="0120")
    explorer = Explorer(read_digits, draw_digits, {"text": box})
    assert explorer.note is None and explorer.message.layout.display == "none"

    box.value = "abc"  # letters only: nothing to read, said in one line above the figure
    assert explorer.error is None and explorer.message.layout.display != "none"
    assert explorer.note == "Ignored what was typed but means nothing here (a b c); the figure shows the rest."
    assert 'role="status"' in explorer.message.value and "Traceback" not in explorer.message.value

    box.value = "abcdefgh1"  # a long typo: the note stays short
    assert explorer.note.endswith("(a b c d e f …); the figure shows the rest.")

    box.value = "21"  # a good value again: the note is gone
    assert explorer.note is None and explorer.message.value == "" and explorer.message.layout.display == "none"


def test_the_messages_colours_have_wcag_contrast_on_white():
    """The error's text colour has 4.5:1 (WCAG 1.4.3, text), the error's and the note's borders 3:1 (1.4.11)."""
    slider, box = W.IntSlider(value=2, min=0, max=10), W.Text(value="1")
    failing, noting = Explorer(compute, draw, {"x": slider}), Explorer(read_digits, draw_digits, {"text": box})
    slider.value, box.value = 8, "x1"
    styles = failing.message.value + noting.message.value
    texts, borders = re.findall(r"(?<![-\w])color:(#[0-9a-f]{6})", styles), re.findall(r"solid (#[0-9a-f]{6})", styles)
    assert len(texts) == 1 and len(borders) == 2
    assert [c for c in texts if contrast_on_white(c) < 4.5] == []
    assert [c for c in borders if contrast_on_white(c) < 3] == []
