"""Accessibility in headless Chromium: axe-core on every site page and in JupyterLab, explorers from the keyboard.

axe-core (the copy bundled with ``axe-playwright-python``, injected into the page: nothing is fetched) runs every
rule it has, of every impact, on every site page, the instructor page included; the test asks for zero
violations, and for its colour-contrast rule to have passed a measured number of text nodes on each page (those it
could not decide are reported), the site's own text colour among them. Every figure on a page must have an ``alt``
that is a sentence, not a file name. The built site comes from tests/test_site.py's fixtures
(``SIMPLEX_EDU_SITE_DIR`` names one built already, as ``.ci/site.sh`` does).

In JupyterLab, every lesson's explorers are moved from the keyboard and every lesson's outputs checked by
axe-core in tests/test_browser.py, in the run of each lesson that test makes anyway (a lesson is not run twice).
Here an explorer with every kind of control the lessons' first controls use and more (integer slider, log slider,
dropdown) is driven with the keyboard only: Tab reaches each control, an arrow key moves it, the figure redraws and
its text alternative (the image's title) follows. axe-core then checks the notebook's outputs (JupyterLab's own
chrome is not the course's); the one violation allowed is upstream's: ipywidgets' slider handle (noUiSlider) has no
name (https://github.com/leongersen/noUiSlider/issues/1223), that rule on that element only.
"""

from __future__ import annotations

import collections
import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import nbformat
import pytest

from test_accessibility import FILE_NAME, TEXTS_PENDING
from test_browser import (  # noqa: F401 (browser, jupyterlab and page are fixtures)
    EVERY_NODE, FIGURE_REDRAW, KERNEL_IDLE, KERNEL_LABEL, PAGE_LOAD, WIDGET_RENDER, JupyterLab, axe_on_outputs,
    axe_report, browser, contrast_results, jupyterlab, move_focused_control, page, run_all, save_screenshot, scroll_to,
    tab_to_control, wait_for_figure, wait_for_kernel_idle)
from test_site import LESSONS, built, html_pages, served  # noqa: F401 (fixtures)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site_browser() -> Iterator[Browser]:
    """Headless Debian Chromium, as tests/test_browser.py launches it (skips without it unless required)."""
    from test_browser import CHROMIUM, CHROMIUM_ARGS, REQUIRED, browser_missing

    reason = browser_missing()
    if reason:
        if REQUIRED:
            pytest.fail(f"SIMPLEX_EDU_REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(reason)
    pytest.importorskip("axe_playwright_python", reason="the test extra's axe-playwright-python is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# axe-core's colour-contrast rule must have found this many text nodes clear (in ``passes``) on every site page, and
# on every lesson page, so zero violations is not zero because nothing was checked. Measured: 17 on the fewest
# (genindex.html), 420 to 1,241 on the lesson pages; 2 to 17 a page undecided (``incomplete``), reported.
MIN_CONTRAST_CHECKED = {"page": 15, "lesson page": 400}
# The site's own CSS text colours (site/static/site.css): each selector's text must pass colour-contrast wherever it
# appears.
OWN_TEXT_COLOURS = ["details.solution > summary"]


def test_every_site_page_has_no_axe_violation(built: Path, served: str, site_browser: Browser) -> None:  # noqa: F811
    """Every rule of every impact, on every page: zero violations, with colour-contrast shown to have run on text
    (at least ``MIN_CONTRAST_CHECKED`` nodes passed on each page; those axe could not decide are reported), and
    every element with one of the site's own text colours passing it."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages = [p.relative_to(built).as_posix() for p in html_pages(built)]
    assert {f"lessons/{p.stem}.html" for p in LESSONS} <= set(pages) and "instructors.html" in pages
    context = site_browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route(lambda url: not url.startswith(served), lambda route: route.abort())
    failures, contrast, own = [], {}, collections.Counter()
    try:
        for name in pages:
            page = context.new_page()
            page.goto(served + name, wait_until="load")
            page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
            results = axe.run(page, options=EVERY_NODE).response
            if results["violations"]:
                failures.append(f"{name}:\n{axe_report(results)}")
            contrast[name] = contrast_results(results)
            for selector in OWN_TEXT_COLOURS:
                elements = page.locator(f"{selector}, {selector} *").count()  # a summary and its <code> name
                if elements:
                    checked = contrast_results(axe.run(page, context=selector,
                                                       options={"runOnly": ["color-contrast"]}).response)
                    if checked != (elements, 0, 0):
                        failures.append(f"{name}: {selector}: colour-contrast passed {checked[0]} of {elements} "
                                        f"elements ({checked[1]} undecided, {checked[2]} violations)")
                    own[selector] += checked[0]
            page.close()
    finally:
        context.close()
    print("colour-contrast, nodes passed / undecided per page:",
          "; ".join(f"{name} {p}/{i}" for name, (p, i, _) in contrast.items()), "; own colours passed:", dict(own))
    assert not failures, "\n".join(failures)
    few = {name: p for name, (p, _, _) in contrast.items()
           if p < MIN_CONTRAST_CHECKED["lesson page" if name.startswith("lessons/") else "page"]}
    assert not few, f"colour-contrast passed fewer text nodes than {MIN_CONTRAST_CHECKED} on {few}"
    assert set(own) == set(OWN_TEXT_COLOURS), f"no page has {set(OWN_TEXT_COLOURS) - set(own)}"


@pytest.mark.parametrize("lesson", [pytest.param(p, marks=pytest.mark.xfail(
    p.stem in TEXTS_PENDING, strict=True, reason="its figures are not described yet")) for p in LESSONS],
    ids=[p.stem for p in LESSONS])
def test_every_figure_on_a_lesson_page_has_a_sentence_for_alt(lesson: Path, built: Path) -> None:  # noqa: F811
    markup = (built / "lessons" / f"{lesson.stem}.html").read_text()
    outputs = re.findall(r'<div class="cell_output.*?(?=<div class="cell |</section>)', markup, re.S)
    alts = [html.unescape(alt) for output in outputs for alt in re.findall(r'<img[^>]*\balt="([^"]*)"', output)]
    assert len(alts) == sum(len(re.findall(r"<img\b", output)) for output in outputs), "an <img> without alt"
    assert [alt for alt in alts if FILE_NAME.search(alt) or len(alt.split()) < 5] == [], "alt that is no sentence"


KEYBOARD_CELL = """
import ipywidgets as W
from simplex_edu.plots import describe
from simplex_edu.widgets import Explorer

def draw(fig, data):
    n, scale, shape = data
    fig.axes[0].clear()
    fig.axes[0].plot(range(n), [scale * (i if shape == "line" else i * i) for i in range(n)])
    describe(fig, f"A {shape} through {n} points, scaled by {scale:.3g}.")

Explorer(lambda n, scale, shape: (n, scale, shape), draw, {
    "n": W.IntSlider(value=3, min=1, max=9, description="points"),
    "scale": W.FloatLogSlider(value=1, min=-1, max=1, description="scale"),
    "shape": W.Dropdown(options=["line", "parabola"], value="line", description="shape")})
"""


def test_an_explorer_works_from_the_keyboard_and_its_outputs_pass_axe(jupyterlab: JupyterLab, page: Page) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KEYBOARD_CELL)], metadata={
        "kernelspec": {"name": "python3", "display_name": KERNEL_LABEL, "language": "python"}})
    nbformat.write(notebook, jupyterlab.root / "keyboard.ipynb")
    explorer = page.locator(".jp-NotebookPanel:visible .simplex-explorer").first
    image = explorer.locator("img").last
    step, reached = "open the notebook", []
    try:
        page.goto(jupyterlab.url("keyboard.ipynb", "keyboard"), timeout=PAGE_LOAD * 1000)
        wait_for_kernel_idle(page, KERNEL_IDLE)
        step = "run it"
        run_all(page)
        explorer.wait_for(state="attached", timeout=WIDGET_RENDER * 1000)
        scroll_to(explorer)
        figure = wait_for_figure(explorer, None, WIDGET_RENDER)
        assert image.get_attribute("title") == "A line through 3 points, scaled by 1."
        step = "Tab into the explorer and through its controls"
        focused = tab_to_control(page, explorer)
        while focused:
            step = f"move the {focused} from the keyboard"
            move_focused_control(page, focused)
            figure = wait_for_figure(explorer, figure, FIGURE_REDRAW)
            reached.append(focused)
            step = "Tab to the next control"
            focused = tab_to_control(page, explorer, from_start=False)
        assert reached == ["slider points", "slider scale", "dropdown shape"], f"Tab reached {reached}"
        assert image.get_attribute("title") == f"A parabola through 4 points, scaled by {10 ** 0.1:.3g}."
        step = "axe-core on the notebook's outputs"
        ours, upstream, contrast = axe_on_outputs(page)
        assert not ours, f"axe-core in JupyterLab:\n{axe_report({'violations': ours})}"
        assert contrast[0] > 0, "axe-core's colour-contrast checked no text in the outputs"
        print(f"axe-core in JupyterLab: upstream only:\n{axe_report({'violations': upstream})}\n"
              f"colour-contrast: {contrast[0]} text nodes passed, {contrast[1]} undecided")
    except Exception as failure:
        shot, logged = save_screenshot(page, "browser-keyboard", explorer)
        raise AssertionError(f"keyboard: failed at step '{step}' (reached {reached}): {failure}\n"
                             f"screenshot: {shot}\nlog console errors: {logged}") from failure
