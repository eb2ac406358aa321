"""The course website (authors): ``simplex-edu site --out DIR`` builds a static site of the whole course.

Every lesson in ``lessons/`` becomes a page, executed as a learner first opens it (no exercise attempted, so each
check honestly says "not attempted yet"), with the worked answer from ``solutions/`` folded in after each
exercise and a Binder / Colab launch box at the top (the setup cell is left out). Explorers become a picture of
their starting view (their figure is an ``ipywidgets.Image``; without a kernel nothing could redraw it); progress
bars are dropped. An instructor page opens with an index of the lessons, then lists, per lesson, its sections
with times and their total, its Think prompts with the instructor notes and the mistakes each exercise's check
recognises (from the catalogue in ``tests/test_mistakes_*.py``).

Nothing on the site is fetched from another host: widget state is not embedded (so no widget manager is
loaded) and MathJax is served from the site itself. Needs the ``docs`` extra (Sphinx, myst-nb,
sphinx-book-theme, sphinx-mathjax-offline); this module imports only the standard library until it runs.
The Sphinx configuration, the home page's text and the stylesheet are in the checkout's ``site/`` folder (a wheel
carries a copy, so the site builds from a pip install too).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import subprocess
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simplex_edu import address
from simplex_edu.launcher import LESSONS, SOLUTIONS, course_folder

ROOT = Path(__file__).resolve().parent.parent
ASSETS = course_folder("site")  # conf.py, the home page's text, the stylesheet: the checkout's, or the wheel's copy
REPOSITORY, BRANCH = address.repository_url(), address.BRANCH  # the one public address (simplex_edu/address.py)

LESSON_GLOB = "[0-9][0-9]_*.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# The MathJax files the site serves: the TeX-to-HTML bundle and its fonts (the full distribution is 24 MB).
MATHJAX_FILES = ("tex-chtml.js", "output/chtml/fonts/woff-v2")

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_MINUTES = re.compile(r"\(~\s*(\d+)\s*min\)")
_TIME = re.compile(r"Time:\s*~?\s*(\d+)\s*min", re.I)
_CHECK_CALL = re.compile(r"^(check_\w+)\(", re.M)
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(", re.M)
_NOTE = re.compile(r"<details><summary>Note for instructors</summary>(.*?)</details>", re.S)
_DETAILS_END = "</details>"
LAUNCH_TAG = "launch-links"  # a notebook's own badge cell: on the site, the launch box takes its place
_REMOTE_IMAGE = re.compile(r"!\[([^\]]*)\]\((?:https?:)?//[^)\s]+\)")  # a badge: its alt text stays, as a link


class SiteError(RuntimeError):
    """The site cannot be built (a missing tool, a lesson that fails to run, an unsafe output folder)."""


@dataclass
class Exercise:
    """One exercise of a lesson: its function, the check that marks it, its heading and its worked answer."""

    function: str
    check: str | None
    heading: str
    solution: str


@dataclass
class Think:
    """A discussion prompt: its heading, the section it is in, its text, and the note for instructors (if any)."""

    title: str
    section: str
    prompt: str
    note: str | None


@dataclass
class Outline:
    """What the instructor page says about one lesson."""

    name: str
    title: str
    minutes: int | None
    sections: list[tuple[int, str, int | None]] = field(default_factory=list)  # (level, title, minutes)
    thinks: list[Think] = field(default_factory=list)
    exercises: list[Exercise] = field(default_factory=list)


def launch_links(lesson: str) -> dict[str, str]:
    """Binder and Colab addresses that open ``lessons/<lesson>`` of the public repository."""
    slug = REPOSITORY.removeprefix("https://github.com/")
    return {"Binder": f"https://mybinder.org/v2/gh/{slug}/{BRANCH}?urlpath=lab/tree/lessons/{lesson}",
            "Colab": f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/lessons/{lesson}"}


def _markdown_lines(notebook: Any) -> list[str]:
    """Every markdown line of a notebook in order, leaving out fenced code (a ``#`` there is no heading)."""
    lines, fenced = [], False
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines() + [""]:
            if line.lstrip().startswith("```"):
                fenced = not fenced
            lines.append("" if fenced else line)
    return lines


def _solution_code(solution: Any, function: str) -> str:
    """The worked answer: the solution cell defining ``function``, without nbgrader's markers."""
    for cell in solution.cells:
        if cell.cell_type == "code" and BEGIN in cell.source and function in _DEF.findall(cell.source):
            return "\n".join(line for line in cell.source.splitlines() if line.strip() not in (BEGIN, END))
    raise SiteError(f"no solution cell defines {function}()")


def outline(lesson: Any, solution: Any, name: str) -> Outline:
    """Sections with times, Think prompts with notes, and exercises (each with its check) of one lesson."""
    lines = _markdown_lines(lesson)
    text = "\n".join(lines)
    title = next((m.group(2) for m in map(_HEADING.match, lines) if m and len(m.group(1)) == 1), name)
    minutes = _TIME.search(text)
    result = Outline(name, title, int(minutes.group(1)) if minutes else None)
    section, think = "", None
    for line in lines:
        heading = _HEADING.match(line)
        if heading:
            if think is not None:
                result.thinks.append(_think(section, think))
            think = None
            level, title_text = len(heading.group(1)), heading.group(2)
            if level == 1:
                continue
            if title_text.startswith("Think"):
                think = [title_text]
                continue
            if level == 2:
                section = _MINUTES.sub("", title_text).strip()
            found = _MINUTES.search(title_text)
            minutes_here = int(found.group(1)) if found else None
            result.sections.append((level, _MINUTES.sub("", title_text).strip(), minutes_here))
        elif think is not None:
            think.append(line)
    if think is not None:
        result.thinks.append(_think(section, think))
    result.exercises = _exercises(lesson, solution)
    return result


def _think(section: str, lines: list[str]) -> Think:
    """A Think block from its heading and the lines under it: the prompt, and the note for instructors apart."""
    body = "\n".join(lines[1:]).strip()
    note = _NOTE.search(body)
    return Think(lines[0], section, _NOTE.sub("", body).strip(), note.group(1).strip() if note else None)


def _exercises(lesson: Any, solution: Any) -> list[Exercise]:
    """Each exercise cell (nbgrader's answer cell), the check called in the next code cell, and its heading."""
    found, heading = [], ""
    cells = lesson.cells
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = _HEADING.match(line)
                if match and match.group(2).startswith("Exercise"):
                    heading = _MINUTES.sub("", match.group(2)).strip()
            continue
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not grading.get("solution"):
            continue
        function = grading["grade_id"]
        later = next((c for c in cells[index + 1:] if c.cell_type == "code"), None)
        check = _CHECK_CALL.search(later.source) if later is not None else None
        found.append(Exercise(function, check.group(1) if check else None, heading, _solution_code(solution, function)))
    return found


def load_catalogue(tests: Path) -> dict[str, list[Any]] | None:
    """The mistake catalogue by check name (``tests/mistakes.py``'s ``catalogue()``), or None if there is none yet."""
    module_path = tests / "mistakes.py"
    if not module_path.exists() or not any(tests.glob("test_mistakes_*.py")):
        return None
    spec = importlib.util.spec_from_file_location("simplex_edu_site_mistakes", module_path)
    module = importlib.util.module_from_spec(spec)
    added = [str(p) for p in (tests, tests.parent) if str(p) not in sys.path]
    sys.path[:0] = added  # the catalogue files import the course and `mistakes` as the tests do
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
        return module.catalogue()
    finally:
        del sys.modules[spec.name]
        for entry in added:
            sys.path.remove(entry)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def instructor_target(lesson: Outline) -> str:
    """The label of a lesson's part of the instructor page (its index links there)."""
    return f"instructors-{Path(lesson.name).stem}"


def _minutes(minutes: int | None) -> str:
    """A time cell: ``~M min``, or a dash for a section with no time of its own (a table cell is never empty)."""
    return f"~{minutes} min" if minutes else "–"


def instructor_page(outlines: list[Outline], catalogue: dict[str, list[Any]] | None) -> str:
    """The instructor page (MyST markdown): an index of the lessons, then per lesson its sections and times (with
    their total), prompts and notes, known mistakes."""
    out = ["# For instructors", "",
           "Everything a workshop needs to plan from, per lesson: its sections with time estimates, its discussion "
           "prompts with the notes for instructors, and the common mistakes each exercise's check recognises "
           "(each one is a test: the check must reject it with the message quoted).", ""]
    if catalogue is None:
        out += ["```{note}", "No catalogue of mistakes yet: `tests/test_mistakes_*.py` is not in this checkout, "
                "so the lists of mistakes below are empty.", "```", ""]
    out += ["| lesson | time |", "|---|---|"]  # the index: each lesson's part of this page
    out += [f"| [{lesson.title}](#{instructor_target(lesson)}) | {_minutes(lesson.minutes)} |" for lesson in outlines]
    out.append("")
    for lesson in outlines:
        total = f" (~{lesson.minutes} min)" if lesson.minutes else ""
        out += [f"({instructor_target(lesson)})=", f"## {lesson.title}{total}", "",
                f"[Open the lesson](lessons/{Path(lesson.name).stem}.ipynb)", "", "| section | time |", "|---|---|"]
        for level, title, minutes in lesson.sections:
            label = title if level == 2 else f"&emsp;{title}"
            out.append(f"| {label} | {_minutes(minutes)} |")
        # The parts (## sections) hold the exercises and explorations timed inside them: the total adds the parts.
        out += [f"| **total** | **{_minutes(sum(m or 0 for level, _, m in lesson.sections if level == 2))}** |",
                "", "### Discussion prompts", ""]
        for think in lesson.thinks:
            out += [f"**{think.title}** (in {think.section or 'the introduction'})", "", think.prompt, ""]
            if think.note:
                out += ["```{admonition} Note for instructors", ":class: instructor-note", "", think.note, "```", ""]
        out += ["### Exercises and the mistakes their checks recognise", ""]
        for exercise in lesson.exercises:
            out += [f"**{exercise.heading or exercise.function}**: `{exercise.function}`, "
                    f"checked by `{exercise.check or 'no check'}`", ""]
            if catalogue is None:
                continue
            mistakes = catalogue.get(exercise.check or "", [])
            if not mistakes:
                out += ["- (no mistakes catalogued for this check yet)", ""]
            for mistake in mistakes:
                out.append(f"- {_one_line(mistake.description)} — the check says: “{_one_line(mistake.message)}”")
            out.append("")
    return "\n".join(out) + "\n"


def _controls_text(state: dict[str, Any], model: dict[str, Any]) -> list[str]:
    """``description = value`` for every control under a widget (the explorer's sliders and dropdowns)."""
    found = []
    for child in model.get("state", {}).get("children", []):
        sub = state.get(child.removeprefix("IPY_MODEL_"), {})
        fields = sub.get("state", {})
        if "children" in fields:
            found += _controls_text(state, sub)
        elif fields.get("description") and ("value" in fields or "_options_labels" in fields):
            value = fields.get("value")
            if "_options_labels" in fields and isinstance(fields.get("index"), int):
                value = fields["_options_labels"][fields["index"]]
            found.append(f"{fields['description']} = {value}")
    return found


def _last_image(state: dict[str, Any], model: dict[str, Any]) -> tuple[str, str | None] | None:
    """The base64 PNG of the last Image widget under a widget (an explorer's figure), and its text alternative."""
    image = None
    if model.get("model_name") == "ImageModel":
        png = next((b["data"] for b in model.get("buffers", []) if b.get("path") == ["value"]), None)
        image = None if png is None else (png, model.get("state", {}).get("tooltip"))
    for child in model.get("state", {}).get("children", []):
        image = _last_image(state, state.get(child.removeprefix("IPY_MODEL_"), {})) or image
    return image


def picture_html(png: str, alt: str) -> str:
    """An ``<img>`` of a base64 PNG with its text alternative; its width and height (retina PNGs: half) give its
    aspect ratio, site.css its size on the page."""
    import base64
    import html

    header = base64.b64decode(png[:32])  # the PNG header: width and height at bytes 16–24
    # The site's kernels draw at twice the pixels (plots.RETINA set for them by execute_lessons).
    width, height = (int.from_bytes(header[at:at + 4], "big") // 2 for at in (16, 20))
    return (f'<img alt="{html.escape(alt)}" width="{width}" height="{height}" '
            f'src="data:image/png;base64,{png}">')


def static_widgets(notebook: Any, name: str) -> None:
    """Replace each explorer by a picture of its starting view and a caption; drop other widgets (progress bars)."""
    import nbformat

    state = notebook.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            model = state.get(view["model_id"], {})
            if "simplex-explorer" not in model.get("state", {}).get("_dom_classes", []):
                continue  # a progress bar: it only says the cell is running
            picture = _last_image(state, model)
            if picture is None:
                raise SiteError(f"{name}: an explorer's figure is missing from the saved widget state")
            settings = ", ".join(_controls_text(state, model))
            alt = picture[1] or f"The explorer's figure at its starting settings ({settings})."
            outputs.append(nbformat.v4.new_output("display_data", data={"text/html": picture_html(picture[0], alt),
                                                                         "text/plain": alt}))
            outputs.append(nbformat.v4.new_output("display_data", data={"text/markdown": (
                f"*The explorer at its starting settings ({settings}). Its controls move in a running "
                "lesson: open it on Binder or Colab (links at the top of this page).*")}))
        cell.outputs = outputs


def site_notebook(executed: Any, solution: Any, name: str) -> Any:
    """The page of one lesson: launch box first, explorers as pictures, worked answers folded after each check."""
    import nbformat

    from simplex_edu.authoring import setup_source

    static_widgets(executed, name)
    answers = {exercise.function: exercise.solution for exercise in _exercises(executed, solution)}
    links = launch_links(name)
    launch = nbformat.v4.new_markdown_cell("\n".join([
        "```{admonition} Run this lesson", ":class: tip launch", "",
        "This page shows the lesson as a learner first opens it, run once with no exercise attempted: every check "
        "says *not attempted yet*, each explorer is a picture of its starting view, and the worked answers are "
        "folded under each exercise. To write the exercises and move the explorers, run it:",
        f"**[launch on Binder]({links['Binder']})** (nothing to install) · "
        f"**[open in Colab]({links['Colab']})** · or on your own machine, "
        "`simplex-edu start` opens the lessons in JupyterLab.", "```"]))
    # The badges give way to the launch box; the setup cell (it installs the course on Colab only) says nothing to
    # a reader, so the page leaves it out (it ran when the lesson was executed; the lesson's own file keeps it).
    setup = setup_source()
    kept = [c for c in executed.cells
            if LAUNCH_TAG not in c.get("metadata", {}).get("tags", []) and c.source != setup]
    for cell in kept:
        if cell.cell_type == "markdown":  # the site loads nothing from another host, badges included
            cell.source = _REMOTE_IMAGE.sub(r"\1", cell.source)
    title = next((i for i, c in enumerate(kept) if c.cell_type == "markdown" and re.search(r"^# ", c.source, re.M)), 0)
    cells, pending = kept[:title + 1] + [launch], None
    for cell in kept[title + 1:]:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if pending and cell.cell_type == "markdown" and cell.source.lstrip().startswith("<details>"):
            end = cell.source.index(_DETAILS_END) + len(_DETAILS_END)  # the hint: the answer goes after it
            cells += [nbformat.v4.new_markdown_cell(cell.source[:end]), _answer_cell(pending)]
            rest = cell.source[end:].strip()
            cells += [nbformat.v4.new_markdown_cell(rest)] if rest else []
            pending = None
            continue
        if pending:
            cells.append(_answer_cell(pending))  # no hint after the check: the answer goes right after it
            pending = None
        cells.append(cell)
        if grading.get("grade"):
            pending = answers[grading["grade_id"].removeprefix("check_")]
    if pending:
        cells.append(_answer_cell(pending))
    executed.cells = cells
    return executed


def _answer_cell(code: str) -> Any:
    import nbformat

    function = _DEF.findall(code)[-1]
    return nbformat.v4.new_markdown_cell("\n".join([
        f'<details class="solution"><summary>Worked solution: <code>{function}</code></summary>', "",
        "```python", code, "```", "", "</details>"]))


def _execute(path: Path, workdir: Path) -> Any:
    """Run one lesson top to bottom in a fresh kernel (in a scratch folder, so nothing lands in lessons/)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    folder = workdir / "run" / path.stem
    folder.mkdir(parents=True)
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": str(folder)}}).execute(stderr=subprocess.DEVNULL)
    except CellExecutionError as error:
        last = next((line for line in reversed(str(error).splitlines()) if line.strip()), "a cell failed")
        raise SiteError(f"{path.name} failed while building the site: {last.strip()}") from None
    return notebook


def cache_key(path: Path) -> str:
    """What an executed lesson depends on: its text, the course library, Python and the numeric packages."""
    from importlib.metadata import version

    digest = hashlib.sha256(path.read_bytes())
    for source in sorted(Path(__file__).parent.rglob("*")):
        if source.suffix in (".py", ".json") and source != Path(__file__):
            digest.update(source.name.encode() + source.read_bytes())
    digest.update(sys.version.encode())
    for package in ("torch", "numpy", "matplotlib", "ipywidgets", "ipykernel"):
        digest.update(f"{package}={version(package)}".encode())
    return digest.hexdigest()[:32]


def execute_lessons(paths: list[Path], workdir: Path, jobs: int, cache: Path | None) -> list[Any]:
    """Execute lessons, ``jobs`` kernels at a time, each with one thread, every exercise unattempted.

    With a ``cache`` folder, a lesson already executed with the same text and library is read from there.
    """
    import nbformat

    kernel_environment = {var: "1" for var in THREAD_VARS}
    kernel_environment["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures as PNG outputs
    kernel_environment["SIMPLEX_EDU_RETINA"] = "1"  # plots.RETINA: figures sharp on high-density screens (site only)

    def executed(path: Path) -> Any:
        stored = cache / f"{path.stem}-{cache_key(path)}.ipynb" if cache else None
        if stored and stored.exists():
            return nbformat.read(stored, as_version=4)
        notebook = _execute(path, workdir)
        if stored:
            stored.parent.mkdir(parents=True, exist_ok=True)
            for old in stored.parent.glob(f"{path.stem}-*.ipynb"):
                old.unlink()
            nbformat.write(notebook, stored)
        return notebook

    # The kernels inherit this process's environment: set it for them only, and give the caller's back after.
    saved = dict(os.environ)
    os.environ.update(kernel_environment)
    os.environ.pop("SIMPLEX_EDU_GRADING", None)  # grading mode would fail unattempted checks
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(executed, paths))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def default_cache() -> Path:
    """Where executed lessons are kept between builds: the user's cache folder."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "simplex-edu" / "site"


def mathjax_source() -> Path:
    """The MathJax 3 distribution installed by the ``sphinx-mathjax-offline`` package (the docs extra)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        folder = Path(distribution("sphinx-mathjax-offline").locate_file("sphinx-mathjax-offline/static/mathjax"))
    except PackageNotFoundError:
        folder = Path("/nonexistent")
    if not (folder / MATHJAX_FILES[0]).exists():
        raise SiteError("MathJax is not installed: pip install -e \".[docs]\"")
    return folder


def index_page(outlines: list[Outline]) -> str:
    """The home page: the course's question, how to run it, and the lessons with their times."""
    intro = (ASSETS / "index.md").read_text()
    rows = ["| lesson | time |", "|---|---|"]
    rows += [f"| [{o.title}](lessons/{Path(o.name).stem}.ipynb) | {_minutes(o.minutes)} |"
             for o in outlines]
    toc = ["```{toctree}", ":hidden:", ":maxdepth: 2", ""]
    toc += [f"lessons/{Path(o.name).stem}" for o in outlines] + ["instructors", "```"]
    page = intro.replace("{lessons}", "\n".join(rows)).replace("{repository}", REPOSITORY)
    return page + "\n" + "\n".join(toc) + "\n"


def _check_output(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier build of the site."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / ".buildinfo").exists())):
        raise SiteError(f"{out} exists and is not a site built by this command; choose an empty or new folder")


def build_site(out: Path, lessons: Path = ROOT / "lessons", solutions: Path = ROOT / "solutions",
               tests: Path = ROOT / "tests", jobs: int = 2, cache: Path | None = None) -> list[str]:
    """Build the site into ``out`` (replacing an earlier build there); return Sphinx's warnings.

    ``cache``: a folder keeping executed lessons between builds (None: execute every lesson).
    """
    import io

    import nbformat

    _check_output(out)
    paths = sorted(lessons.glob(LESSON_GLOB))
    if not paths:
        raise SiteError(f"no lessons in {lessons}")
    missing = [p.name for p in paths if not (solutions / p.name).exists()]
    if missing:
        raise SiteError(f"no worked solutions for {', '.join(missing)} in {solutions}")
    mathjax = mathjax_source()
    try:
        from sphinx.application import Sphinx
    except ImportError:
        raise SiteError("Sphinx is not installed: pip install -e \".[docs]\"") from None
    with tempfile.TemporaryDirectory(prefix="simplex-edu-site-") as tmp:
        workdir = Path(tmp)
        source = workdir / "source"
        (source / "lessons").mkdir(parents=True)
        solved = [nbformat.read(solutions / p.name, as_version=4) for p in paths]
        outlines = [outline(nbformat.read(p, as_version=4), s, p.name) for p, s in zip(paths, solved)]
        started = time.perf_counter()
        executed = execute_lessons(paths, workdir, jobs, cache)
        print(f"executed {len(paths)} lessons in {time.perf_counter() - started:.0f} s", flush=True)
        for path, notebook, solution in zip(paths, executed, solved):
            nbformat.write(site_notebook(notebook, solution, path.name), source / "lessons" / path.name)
        (source / "instructors.md").write_text(instructor_page(outlines, load_catalogue(tests)))
        (source / "index.md").write_text(index_page(outlines))
        if out.exists():
            shutil.rmtree(out)
        warnings = io.StringIO()
        app = Sphinx(str(source), str(ASSETS), str(out), str(workdir / "doctrees"), "html",
                     status=None, warning=warnings, freshenv=True)
        app.build()
        if app.statuscode:
            raise SiteError(f"Sphinx failed:\n{warnings.getvalue()}")
    # Source maps are read only by a browser's developer tools, the theme's message catalogues only when a site is
    # built in another language: 3 MB the English site need not carry (it keeps within its 10 MB).
    for source_map in out.rglob("*.map"):
        source_map.unlink()
    shutil.rmtree(out / "_static" / "locales", ignore_errors=True)
    for item in MATHJAX_FILES:
        target = out / "_static" / "mathjax" / item
        if (mathjax / item).is_dir():
            shutil.copytree(mathjax / item, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(mathjax / item, target)
    return [line for line in warnings.getvalue().splitlines() if line.strip()]


def folder_size(folder: Path) -> int:
    """Bytes in every file under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``simplex-edu site`` to the command's subcommands (its ``run`` is :func:`run`)."""
    site = commands.add_parser("site", help="(authors) build the course website into a folder (needs the docs extra)")
    site.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the site (created)")
    site.add_argument("--jobs", type=int, default=2, help="lessons executed at once (default: %(default)s)")
    site.add_argument("--no-cache", action="store_true",
                      help=f"execute every lesson again (default: reuse those unchanged since the last build, "
                           f"kept in {default_cache()})")
    site.add_argument("--lessons", type=Path, default=course_folder(LESSONS), help=argparse.SUPPRESS)
    site.add_argument("--solutions", type=Path, default=course_folder(SOLUTIONS), help=argparse.SUPPRESS)
    site.add_argument("--tests", type=Path, default=ROOT / "tests", help=argparse.SUPPRESS)
    site.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the site as the parsed ``simplex-edu site`` arguments say; one line and exit 1 on failure."""
    started = time.perf_counter()
    try:
        warnings = build_site(args.out.resolve(), args.lessons, args.solutions, args.tests, args.jobs,
                              None if args.no_cache else default_cache())
    except SiteError as error:
        print(f"simplex-edu site: {error}", file=sys.stderr)
        return 1
    if warnings:  # a warning is a page rendered wrong (a bad reference, an unreadable output): fail on it
        summary = f"simplex-edu site: Sphinx warned {len(warnings)} time(s); the site is in {args.out}"
        print("\n".join(warnings + [summary]), file=sys.stderr)
        return 1
    size = folder_size(args.out) / 1e6
    print(f"built the site in {args.out} in {time.perf_counter() - started:.0f} s ({size:.1f} MB); "
          f"serve it with: python -m http.server -d {args.out} 8000")
    return 0
