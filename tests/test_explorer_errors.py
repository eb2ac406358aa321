"""An explorer whose compute or draw fails for some control values says so in itself and keeps the last figure."""

import ipywidgets as W
import pytest

from simplex_edu.widgets import Explorer


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
