"""The course website (``simplex-edu site``): what goes on each page, and the built site in headless Chromium.

The unit tests need only the test extra. The build tests need the ``docs`` extra; without it they skip, unless
``SIMPLEX_EDU_REQUIRE_SITE=1`` (set by ``.ci/site.sh``). ``SIMPLEX_EDU_SITE_DIR`` names a site already built
(``.ci/site.sh`` builds it offline first); otherwise the tests build one into a temporary folder.
In the browser, every page must load with no console error, every image must load, every figure must fill its
column up to its PNG's own width, solutions and hints must start folded, code must fit without scrolling sideways,
lesson and instructor pages must show their sections in the left column and one search, and no request may leave
127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import nbformat
import pytest

from simplex_edu import cli, site

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob(site.LESSON_GLOB))
REQUIRE_SITE = os.environ.get("SIMPLEX_EDU_REQUIRE_SITE", "") not in ("", "0")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def outline_of(lesson: Path) -> site.Outline:
    return site.outline(read(lesson), read(ROOT / "solutions" / lesson.name), lesson.name)


def test_importing_the_site_module_loads_no_site_tooling() -> None:
    """`simplex-edu start` imports cli.py, which registers `site`: that must not load Sphinx or a kernel client."""
    code = ("import sys, simplex_edu.cli; heavy = {'sphinx', 'myst_nb', 'docutils', 'nbclient', 'torch'}; "
            "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_outline_finds_every_exercise_check_and_prompt(lesson: Path) -> None:
    """Each exercise is paired with the check its next code cell calls and its worked answer; every Think is read."""
    notebook, found = read(lesson), outline_of(lesson)
    graded = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
              if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    assert [e.function for e in found.exercises] == graded and graded
    for exercise in found.exercises:
        assert exercise.check == f"check_{exercise.function}"  # the course's naming; the check cell was found
        assert f"def {exercise.function}(" in exercise.solution and site.BEGIN not in exercise.solution
        assert exercise.heading.startswith("Exercise")
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert len(found.thinks) == len(re.findall(r"^#+ Think", markdown, re.M)) > 0
    notes = markdown.count("<summary>Note for instructors</summary>")
    assert sum(t.note is not None for t in found.thinks) == notes
    assert all("Note for instructors" not in t.prompt and t.prompt for t in found.thinks)
    timed = [minutes for level, _, minutes in found.sections if level == 2 and minutes]
    assert found.minutes and timed and sum(timed) <= found.minutes + 5  # section times add up to about the lesson's


def notebook_of(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = list(cells)
    return notebook


def exercise_cells(name: str) -> list[nbformat.NotebookNode]:
    """An exercise as the build writes it (answer cell, then its check cell), and the solution's answer cell."""
    stub = nbformat.v4.new_code_cell(f"def {name}():\n    raise NotImplementedError",
                                     metadata={"nbgrader": {"grade_id": name, "solution": True}})
    check = nbformat.v4.new_code_cell(f"check_{name}({name})",
                                      metadata={"nbgrader": {"grade_id": f"check_{name}", "grade": True}})
    answer = nbformat.v4.new_code_cell(f"def {name}():\n    {site.BEGIN}\n    return 42\n    {site.END}")
    return [stub, check, answer]


def test_worked_answer_goes_after_the_hint_folded() -> None:
    """After a check: its hint stays first, the answer comes next (folded, no nbgrader markers), then the prose."""
    first, second = exercise_cells("first"), exercise_cells("second")
    hint = nbformat.v4.new_markdown_cell("<details><summary>Hint</summary>\n\nReturn 42.\n</details>\n\nOn we go.")
    lesson = notebook_of(nbformat.v4.new_markdown_cell("# 00 · Test"), first[0], first[1], hint, second[0], second[1],
                         nbformat.v4.new_markdown_cell("## After"))
    page = site.site_notebook(lesson, notebook_of(first[2], second[2]), "00_test.ipynb")
    sources = [c.source for c in page.cells]
    assert "launch on Binder" in sources[1] and site.launch_links("00_test.ipynb")["Colab"] in sources[1]
    assert sources[4].startswith("<details><summary>Hint") and sources[4].endswith("</details>")
    assert sources[5].startswith('<details class="solution">') and "return 42" in sources[5]
    assert site.BEGIN not in sources[5] and "open" not in sources[5].splitlines()[0]
    assert sources[6] == "On we go."
    assert "<code>second</code>" in sources[9] and sources[10] == "## After"  # no hint: right after the check


def test_badges_give_way_to_the_launch_box() -> None:
    """A notebook's own badge cell goes (the launch box replaces it); a remote image elsewhere becomes its alt text."""
    badge = "[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/x)"
    badges = nbformat.v4.new_markdown_cell(badge, metadata={"tags": [site.LAUNCH_TAG]})
    title = nbformat.v4.new_markdown_cell("# 00 · Test\n\n[![Colab](//example.org/b.svg)](https://example.org/c)")
    page = site.site_notebook(notebook_of(badges, title, nbformat.v4.new_markdown_cell("## 1. On")), notebook_of(),
                              "00_test.ipynb")
    sources = [c.source for c in page.cells]
    assert sources[0] == "# 00 · Test\n\n[Colab](https://example.org/c)" and "Run this lesson" in sources[1]
    assert sources[2:] == ["## 1. On"]


def test_lesson_page_leaves_out_the_setup_cell() -> None:
    """The setup cell (it installs the course on Colab) is not on the page; the other code cells are, in order."""
    from simplex_edu.authoring import setup_source

    for lesson in LESSONS:  # the cell left out is the first code cell of each notebook learners open
        assert next(c for c in read(lesson).cells if c.cell_type == "code").source == setup_source(), lesson.name
    cells = [nbformat.v4.new_markdown_cell("# 00 · Test"), nbformat.v4.new_code_cell(setup_source()),
             nbformat.v4.new_code_cell("print(1)"), nbformat.v4.new_code_cell("print(2)")]
    page = site.site_notebook(notebook_of(*cells), notebook_of(), "00_test.ipynb")
    assert [c.source for c in page.cells if c.cell_type == "code"] == ["print(1)", "print(2)"]


EXPLORER_NOTEBOOK = """
import ipywidgets as widgets
from tqdm.auto import tqdm
from simplex_edu.plots import describe
from simplex_edu.widgets import Explorer
for _ in tqdm(range(3), desc="progress"):
    pass
def draw(fig, data):
    fig.axes[0].clear()
    fig.axes[0].plot(data)
    describe(fig, f"A rising line of {len(data)} points.")
Explorer(lambda n: list(range(n)), draw, {"n": widgets.IntSlider(value=7, min=1, max=9, description="points")})
"""


def test_explorer_becomes_its_picture_and_progress_bars_go(tmp_path: Path) -> None:
    """A real explorer, executed as the site does: its figure is the saved PNG, with the control's setting."""
    path = tmp_path / "00_explorer.ipynb"
    nbformat.write(notebook_of(nbformat.v4.new_code_cell(EXPLORER_NOTEBOOK)), path)
    executed = site.execute_lessons([path], tmp_path, jobs=1, cache=None)[0]
    assert any(site.WIDGET_VIEW in o.get("data", {}) for o in executed.cells[0].outputs)
    state = executed.metadata.widgets[site.WIDGET_STATE]["state"]
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    site.static_widgets(executed, path.name)
    outputs = [o for o in executed.cells[0].outputs if o.output_type == "display_data"]
    assert [list(o.data) for o in outputs] == [["text/html", "text/plain"], ["text/markdown"]]
    assert images[0]["buffers"][0]["data"] in outputs[0].data["text/html"]
    assert outputs[0].data["text/plain"] == "A rising line of 7 points."  # the figure's text, as the title in a kernel
    assert outputs[0].data["text/html"].startswith('<img alt="A rising line of 7 points." width="512" height="288"')
    assert "points = 7" in outputs[1].data["text/markdown"]
    assert "widgets" not in executed.metadata


def fixture_catalogue(folder: Path) -> Path:
    """A tests folder holding the real catalogue reader and one tiny catalogue file, as A1/A2 will write them."""
    folder.mkdir()
    shutil.copy(ROOT / "tests" / "mistakes.py", folder / "mistakes.py")
    (folder / "test_mistakes_welcome.py").write_text(
        "from mistakes import Mistake\n\n"
        "MISTAKES = [Mistake('check_solve_by_bisection', 'returns the low end of the first bracket',\n"
        "                    lambda a, tol=1e-10: 0.0, 'expected 0.5671')]\n")
    return folder


def test_instructor_page_lists_sections_prompts_and_catalogued_mistakes(tmp_path: Path) -> None:
    """Per lesson: sections with times, Think prompts with notes, each check's catalogued mistakes by exercise."""
    outlines = [outline_of(p) for p in LESSONS]
    catalogue = site.load_catalogue(fixture_catalogue(tmp_path / "tests"))
    assert list(catalogue) == ["check_solve_by_bisection"]
    page = site.instructor_page(outlines, catalogue)
    welcome = page.split(f"## {outlines[1].title}")[0]
    exercise = welcome.split("**Exercise 1.1")[1].split("**Exercise 1.2")[0]
    assert "returns the low end of the first bracket" in exercise and "expected 0.5671" in exercise
    assert "(no mistakes catalogued for this check yet)" in welcome.split("**Exercise 1.2")[1]
    for lesson in outlines:
        assert f"## {lesson.title} (~{lesson.minutes} min)" in page
        for level, title, minutes in lesson.sections:
            assert title in page
        for think in lesson.thinks:
            assert think.prompt in page and (think.note is None or think.note in page)
    assert "No catalogue of mistakes yet" not in page


def test_instructor_page_opens_with_an_index_and_fills_every_time_cell() -> None:
    """An index of the lessons links to each one's part; no time cell is empty; each total is the lesson's time."""
    outlines = [outline_of(p) for p in LESSONS]
    page = site.instructor_page(outlines, None)
    index, parts = page.split("\n## ", 1)
    for lesson in outlines:
        target = site.instructor_target(lesson)
        assert f"| [{lesson.title}](#{target}) | ~{lesson.minutes} min |" in index
        assert f"({target})=\n## {lesson.title} (~{lesson.minutes} min)" in page
    rows = [line for line in page.splitlines() if line.startswith("|")]
    assert [row for row in rows if any(not cell.strip() for cell in row.strip("|").split("|"))] == []
    assert "| Summary | – |" in page  # a section with no time of its own gets a dash
    totals = [int(m) for m in re.findall(r"^\| \*\*total\*\* \| \*\*~(\d+) min\*\* \|$", page, re.M)]
    assert totals == [lesson.minutes for lesson in outlines]


def test_instructor_page_without_a_catalogue_says_so(tmp_path: Path) -> None:
    """Before the catalogue files exist, the page says there is none rather than failing or listing nothing."""
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "mistakes.py", tmp_path / "tests" / "mistakes.py")
    assert site.load_catalogue(tmp_path / "tests") is None
    page = site.instructor_page([outline_of(LESSONS[0])], None)
    assert "No catalogue of mistakes yet" in page and "checked by `check_solve_by_bisection`" in page


def test_site_refuses_a_folder_that_is_not_a_site(tmp_path: Path) -> None:
    """The builder replaces an earlier build, never a folder of someone's files: one line, exit 1."""
    if cli.missing_extra("site"):  # without Sphinx, `site` refuses before it looks at the folder (.ci/site.sh has it)
        pytest.skip("needs the docs extra")
    (tmp_path / "notes.txt").write_text("mine")
    result = subprocess.run([sys.executable, "-m", "simplex_edu.cli", "site", "--out", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "is not a site built by this command" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and (tmp_path / "notes.txt").read_text() == "mine"


# ---- the built site -------------------------------------------------------------------------------------------

def docs_missing() -> str | None:
    """Why the site cannot be built here, or None."""
    for module in ("sphinx", "myst_nb", "sphinx_book_theme"):
        if importlib.util.find_spec(module) is None:
            return f"the docs extra is not installed (no {module}): pip install -e \".[docs]\""
    return None


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site: the one named by SIMPLEX_EDU_SITE_DIR, or built now (lessons executed afresh)."""
    prebuilt = os.environ.get("SIMPLEX_EDU_SITE_DIR")
    if prebuilt:
        return Path(prebuilt)
    reason = docs_missing()
    if reason:
        if REQUIRE_SITE:
            pytest.fail(f"SIMPLEX_EDU_REQUIRE_SITE is set but {reason}", pytrace=False)
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("site") / "html"
    warnings = site.build_site(out, cache=None)
    assert warnings == []
    return out


def html_pages(folder: Path) -> list[Path]:
    """The site's pages (not the theme's template fragments under _static/)."""
    return sorted(p for p in folder.rglob("*.html") if "_static" not in p.relative_to(folder).parts)


def test_every_lesson_has_a_page_run_unattempted(built: Path) -> None:
    """A page per lesson, each check saying "not attempted yet", one folded worked answer per exercise."""
    for lesson in LESSONS:
        page = (built / "lessons" / f"{lesson.stem}.html").read_text()
        exercises = outline_of(lesson).exercises
        assert page.count("not attempted yet") >= len(exercises)
        assert page.count('<details class="solution">') == len(exercises)
        assert site.launch_links(lesson.name)["Binder"].replace("&", "&amp;") in page


def test_nothing_on_the_site_names_another_host_to_load(built: Path) -> None:
    """Scripts, styles, images and fonts are the site's own (links out, like the launch links, are fine)."""
    loads = re.compile(r"<(?:script|img|iframe|source)\b[^>]*\ssrc=\"([^\"]+)\"|<link\b[^>]*\shref=\"([^\"]+)\"")
    for page in html_pages(built):
        for match in loads.finditer(page.read_text()):
            address = match.group(1) or match.group(2)
            assert not re.match(r"^(https?:)?//", address), f"{page.relative_to(built)} loads {address}"
    for style in built.rglob("*.css"):
        for address in re.findall(r"url\(\s*['\"]?([^'\")]+)", style.read_text(errors="replace")):
            assert not re.match(r"^(https?:)?//", address), f"{style.relative_to(built)} loads {address}"


def test_site_keeps_within_its_10_mb(built: Path) -> None:
    """Figures drawn sharper for high-density screens, and still a site that a slow connection loads (issue 22)."""
    size = site.folder_size(built) / 1e6
    assert size <= 10, f"the site is {size:.1f} MB"


def test_instructor_page_is_built(built: Path) -> None:
    """The instructor page is on the site, with every lesson and every exercise's check, its index linking to each
    lesson's part of the page."""
    page = (built / "instructors.html").read_text()
    for lesson in LESSONS:
        for exercise in outline_of(lesson).exercises:
            assert exercise.check in page
    index = page[:page.index("<section id=\"instructors-")]  # before the first lesson's part
    links = re.findall(r'<a class="reference internal" href="#([^"]+)"', index)
    assert len(links) == len(LESSONS)
    assert all(f'<section id="{link}">' in page for link in links), links


def test_lesson_pages_leave_out_the_setup_cell(built: Path) -> None:
    """The Colab install cell is not on any lesson page (learners' notebooks keep it: the unit test above)."""
    for lesson in LESSONS:
        page = (built / "lessons" / f"{lesson.stem}.html").read_text()
        assert "google.colab" not in page and "install_missing" not in page, lesson.name


def test_a_failing_checks_message_is_plain_text(built: Path) -> None:
    """Lesson 00's failure on purpose: the check's message is an unhighlighted text block, and every cell output on
    the lesson pages is text with ANSI colours at most (myst-ansi), none highlighted as Python or a traceback."""
    page = (built / "lessons" / "00_welcome.html").read_text()
    blocks = re.findall(r'<div class="output stream highlight-myst-ansi notranslate"><div class="highlight"><pre>'
                        r"(.*?)</pre>", page, re.S)
    messages = [block for block in blocks if "✗ Exercise 1.1 (solve_by_bisection)" in block]
    assert len(messages) == 1 and "<span class=" not in messages[0]
    for lesson in LESSONS:
        markup = (built / "lessons" / f"{lesson.stem}.html").read_text()
        lexers = set(re.findall(r'<div class="output [^"]*\bhighlight-([\w-]+)', markup))
        assert lexers == {"myst-ansi"}, f"{lesson.name}: outputs highlighted with {lexers}"


def test_every_page_lists_its_sections_and_has_one_search(built: Path) -> None:
    """Lesson and instructor pages list their sections in the left column (each lesson's parts, the instructor
    page's lessons); the only search is the header's, none in the sidebar beside it."""
    for name in [f"lessons/{p.stem}.html" for p in LESSONS] + ["instructors.html"]:
        page = (built / name).read_text()
        sidebar = page[page.index('class="bd-sidebar-primary'):page.index('class="bd-main')]  # the left column
        contents = re.search(r'<nav id="pst-page-toc-nav".*?</nav>', sidebar, re.S)
        assert contents, f"{name}: no in-page contents in the left column"
        sections = re.findall(r'<a class="reference internal nav-link" href="#', contents.group(0))
        expected = len(LESSONS) if name == "instructors.html" else 3
        assert len(sections) >= expected, f"{name}: only {len(sections)} sections listed"
        assert "search-button-field" not in sidebar, f"{name}: a second search field, in the left column"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # no request log on the test's output
        pass


@pytest.fixture(scope="module")
def served(built: Path) -> Iterator[str]:
    """The site served on 127.0.0.1 (a free port) for the module's tests."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(built)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


PAGE_STATE_JS = """async () => {
    const images = [...document.images];
    images.forEach(img => { img.loading = 'eager'; });
    await Promise.all(images.map(img => img.decode().catch(() => null)));
    if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
    const visible = e => e.checkVisibility();  // false inside a closed <details> (geometry alone is not)
    return {
        images: images.map(img => [img.getAttribute('src'), img.naturalWidth]),
        solutions: [...document.querySelectorAll('details.solution')]
            .map(d => [d.open, visible(d.querySelector('pre'))]),
        hintsOpen: [...document.querySelectorAll('details:not(.solution)')].filter(d => d.open).length,
        overflowing: [...document.querySelectorAll('.cell_input pre, .cell_output pre, details pre')]
            .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.textContent.slice(0, 80)),
        // Each figure's width on the page, its PNG's own width and the width of the column it is in.
        figures: [...document.querySelectorAll('.cell_output img')]
            .map(img => [img.alt.slice(0, 60), img.clientWidth, img.naturalWidth,
                         img.closest('.cell_output').clientWidth]),
        searches: [...document.querySelectorAll('.search-button-field, input[type=search]')].filter(visible).length,
        pageToc: !!document.querySelector('.bd-sidebar-primary #pst-page-toc-nav')?.checkVisibility(),
        math: document.querySelectorAll('mjx-container').length,
        mathSource: document.querySelectorAll('.math').length,
    };
}"""


@pytest.mark.browser
def test_site_in_chromium(built: Path, served: str) -> None:
    """Every page in headless Chromium: no console error, images load, answers folded, code fits, all local."""
    from test_browser import CHROMIUM, CHROMIUM_ARGS, REQUIRED, browser_missing

    reason = browser_missing()
    if reason:
        if REQUIRED:
            pytest.fail(f"SIMPLEX_EDU_REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    pages = [p.relative_to(built).as_posix() for p in html_pages(built)]
    assert {f"lessons/{p.stem}.html" for p in LESSONS} <= set(pages) and "instructors.html" in pages
    requests: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.on("request", lambda request: requests.append(request.url))
        # Record every request, then let only the local server answer: a slip shows up as a failure, not a hang.
        context.route(lambda url: not url.startswith(served), lambda route: route.abort())
        try:
            for name in pages:
                page, errors = context.new_page(), []
                page.on("console", lambda m: m.type == "error" and errors.append(m.text[:300]))
                page.on("pageerror", lambda e: errors.append(str(e)[:300]))
                response = page.goto(served + name, wait_until="load")
                assert response is not None and response.ok, f"{name}: HTTP {response and response.status}"
                state = page.evaluate(PAGE_STATE_JS)
                page.wait_for_load_state("networkidle")
                outside = sorted({url for url in requests if not url.startswith((served, "data:", "blob:"))})
                assert outside == [], f"{name}: requests left 127.0.0.1: {outside}"
                assert errors == [], f"{name}: console errors {errors}"
                assert [src for src, width in state["images"] if not width] == [], f"{name}: images did not load"
                folded = not any(is_open or shown for is_open, shown in state["solutions"])
                assert folded, f"{name}: a worked solution starts open"
                assert state["hintsOpen"] == 0, f"{name}: a hint starts open"
                assert state["overflowing"] == [], f"{name}: code wider than the page: {state['overflowing']}"
                assert state["math"] >= state["mathSource"], f"{name}: MathJax did not typeset the page"
                # A figure fills its column up to its PNG's own width (never wider, so never blurred).
                unfilled = [f for f in state["figures"] if abs(f[1] - min(f[2], f[3])) > 1]
                assert unfilled == [], f"{name}: figures not filling the column (alt, width, PNG, column): {unfilled}"
                if name.startswith("lessons/") or name == "instructors.html":
                    assert state["pageToc"] and state["searches"] == 1, f"{name}: {state['searches']} searches"
                if name.startswith("lessons/"):
                    lesson = ROOT / "lessons" / f"{Path(name).stem}.ipynb"
                    assert len(state["solutions"]) == len(outline_of(lesson).exercises), name
                    assert state["images"] and state["figures"], f"{name}: no figure"
                page.close()
        finally:
            context.close()
            browser.close()
    assert any("mathjax/tex-chtml.js" in url for url in requests)  # the math pages used the site's own MathJax
