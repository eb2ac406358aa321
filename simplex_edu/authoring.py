"""The author's tools: ``simplex-edu build`` makes the student lessons from the solutions, ``execute`` runs them.

``solutions/NN_name.ipynb`` is the single source. The build replaces each solution region by a stub, clears the
outputs and adds nbgrader's metadata; it also holds every notebook's launch links and setup cell to the one
repository address in ``simplex_edu.address`` (``build --links`` rewrites those two cells from it).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from simplex_edu import address
from simplex_edu.command import CommandError

REPO_DIR = Path(__file__).resolve().parent.parent

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = '{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError("{name}: replace this line with your code")'
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(", re.M)
_CHECK_CALL = re.compile(r"^check_\w+\(", re.M)
LAUNCH_TAG = "launch-links"  # the first cell of every notebook: run it on Colab or Binder
SETUP = """import sys
if "google.colab" in sys.modules:  # on Colab: add the course package only; keep Colab's own torch and Jupyter
    %pip install -q --no-deps "{requirement}"
    from simplex_edu.colab import install_missing
    install_missing()
import simplex_edu"""


class BuildError(CommandError, ValueError):
    """A solution notebook breaks the single-source conventions."""


def stub_solutions(source: str, where: str = "cell") -> str:
    """Replace every BEGIN/END SOLUTION region of a code cell with a stub naming the enclosing function."""
    lines, out, i = source.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip() != BEGIN:
            if line.strip() == END:
                raise BuildError(f"{where}: '{END}' without a matching '{BEGIN}'")
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if not indent:
            raise BuildError(f"{where}: a solution region must sit inside a function body (exercises are functions)")
        names = _DEF.findall("\n".join(out))
        if not names:
            raise BuildError(f"{where}: no function definition before '{BEGIN}'")
        j = i + 1
        while j < len(lines) and lines[j].strip() != END:
            j += 1
        if j == len(lines):
            raise BuildError(f"{where}: '{BEGIN}' without a matching '{END}'")
        out.append(STUB.format(indent=indent, name=names[-1]))
        i = j + 1
    return "\n".join(out)


def build_lesson(solution: nbformat.NotebookNode, keep_solutions: bool = False) -> nbformat.NotebookNode:
    """The student version of a solution notebook: stubs for solutions, no outputs, clean metadata.

    With ``keep_solutions`` the answers stay in (between nbgrader's markers): nbgrader's *source* version,
    from which a teacher's ``nbgrader generate_assignment`` makes the student version itself.
    """
    lesson = nbformat.v4.new_notebook()
    lesson.metadata = {k: solution.metadata[k] for k in ("kernelspec", "language_info") if k in solution.metadata}
    lesson.metadata.get("language_info", {}).pop("version", None)
    previous_exercise = None
    for index, cell in enumerate(solution.cells):
        tags = list(cell.get("metadata", {}).get("tags", []))
        if "solution-only" in tags:
            continue
        metadata = {"tags": tags} if tags else {}
        if cell.cell_type == "code":
            source = stub_solutions(cell.source, where=f"cell {index}")
            new = nbformat.v4.new_code_cell(cell.source if keep_solutions else source, metadata=metadata)
            if source != cell.source:  # an exercise: nbgrader's "autograded answer" cell
                previous_exercise = _DEF.findall(cell.source)[-1]
                new.metadata["nbgrader"] = _nbgrader(previous_exercise, solution=True)
            elif previous_exercise and _CHECK_CALL.search(source):  # its check: nbgrader's "autograder tests"
                new.metadata["nbgrader"] = _nbgrader(f"check_{previous_exercise}", solution=False)
                previous_exercise = None
        else:
            maker = nbformat.v4.new_markdown_cell if cell.cell_type == "markdown" else nbformat.v4.new_raw_cell
            new = maker(cell.source, metadata=metadata)
        new.pop("id", None)
        lesson.cells.append(new)
    lesson.nbformat, lesson.nbformat_minor = 4, 4
    return lesson


def _nbgrader(grade_id: str, solution: bool) -> dict:
    meta = {"grade_id": grade_id, "schema_version": 3, "solution": solution, "grade": not solution,
            "locked": not solution}
    if not solution:
        meta["points"] = 1
    return meta


def lesson_text(notebook: nbformat.NotebookNode) -> str:
    """A notebook serialised exactly as the build writes it (so the drift check compares bytes)."""
    return nbformat.writes(notebook) + "\n"


def launch_links(name: str) -> str:
    """The first cell of notebook ``name``: open the lesson on Colab or Binder, or its worked solution."""
    lesson, solution = f"lessons/{name}", f"solutions/{name}"
    return (f"[![Open In Colab]({address.COLAB_BADGE})]({address.colab_url(lesson)}) "
            f"[![Binder]({address.BINDER_BADGE})]({address.binder_url(lesson)}) "
            f"· worked solution: [on Colab]({address.colab_url(solution)}) · [on Binder]({address.binder_url(solution)})")


def setup_source() -> str:
    """The setup cell of every lesson: imports the course, installing it first when on Colab."""
    return SETUP.format(requirement=address.pip_requirement())


def link_problem(notebook: nbformat.NotebookNode, name: str) -> str | None:
    """What is wrong with a solution's launch-links cell or setup cell, or None when both match the address."""
    first = notebook.cells[0] if notebook.cells else None
    if not first or LAUNCH_TAG not in first.get("metadata", {}).get("tags", []):
        return f"its first cell is not the launch links (tag '{LAUNCH_TAG}')"
    if first.source != launch_links(name):
        return "its launch links differ from simplex_edu/address.py"
    setup = next((c for c in notebook.cells if c.cell_type == "code"), None)
    if setup is None or setup.source != setup_source():
        return "its first code cell is not the setup cell made from simplex_edu/address.py"
    return None


def sync_links(path: Path) -> bool:
    """Rewrite a solution's launch-links cell and setup cell from the address (nothing else); True if changed."""
    notebook = nbformat.read(path, as_version=4)
    if link_problem(notebook, path.name) is None:
        return False
    if notebook.cells and LAUNCH_TAG in notebook.cells[0].get("metadata", {}).get("tags", []):
        notebook.cells.pop(0)
    setup = next((c for c in notebook.cells if c.cell_type == "code"), None)
    if setup is None:
        raise BuildError(f"{path}: no code cell to hold the setup cell")
    setup.source = setup_source()
    cell = {"cell_type": "markdown", "metadata": {"tags": [LAUNCH_TAG]}, "source": launch_links(path.name)}
    if (notebook.nbformat, notebook.nbformat_minor) >= (4, 5):  # cell ids exist from nbformat 4.5 on
        cell["id"] = LAUNCH_TAG
    notebook.cells.insert(0, nbformat.from_dict(cell))
    path.write_text(lesson_text(notebook))
    return True


def build(solutions_dir: Path, lessons_dir: Path, check: bool = False, only: list[str] | None = None) -> list[str]:
    """Regenerate lessons from their solutions (all, or those named in ``only``); with ``check``, write
    nothing and return the differences."""
    problems = []
    all_sources = sorted(solutions_dir.glob("[0-9][0-9]_*.ipynb"))
    if not all_sources:
        raise BuildError(f"no solution notebooks in {solutions_dir}")
    expected_names = {p.name for p in all_sources}
    sources = [p for p in all_sources if not only or p.name in {Path(o).name for o in only}]
    for path in sources:
        solution = nbformat.read(path, as_version=4)
        problem = link_problem(solution, path.name)
        if problem:
            problems.append(f"{path}: {problem}: run `simplex-edu build --links`")
        text = lesson_text(build_lesson(solution))
        target = lessons_dir / path.name
        if check:
            current = target.read_text() if target.exists() else ""
            if current != text:
                diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), str(target),
                                                 f"built from {path}", lineterm="", n=1))[:20]
                problems.append(f"{target} is out of date with {path}:\n" + "\n".join(diff))
        else:
            lessons_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    for stray in lessons_dir.glob("[0-9][0-9]_*.ipynb"):
        if stray.name not in expected_names and not only:
            problems.append(f"{stray} has no solution notebook in {solutions_dir}")
    return problems


def execute_notebook(path: Path, timeout: int = 600) -> float:
    """Run a notebook top to bottom in place, one thread per kernel as in the tests; return wall seconds."""
    from nbclient import NotebookClient  # authoring tool: imported only when used

    os.environ.update({var: "1" for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    nbformat.write(notebook, path)
    return time.perf_counter() - start


def build_to_temp(solutions_dir: Path) -> Path:
    """Build every lesson into a new temporary folder (for tests and the drift check) and return it."""
    folder = Path(tempfile.mkdtemp(prefix="simplex-edu-lessons-"))
    build(solutions_dir, folder)
    return folder


def _run_build(args: argparse.Namespace) -> int:
    if args.links:
        for path in sorted(args.solutions.glob("[0-9][0-9]_*.ipynb")):
            if (not args.notebooks or path.name in {Path(o).name for o in args.notebooks}) and sync_links(path):
                print(f"rewrote the launch links and setup cell of {path}")
    problems = build(args.solutions, args.lessons, check=args.check, only=args.notebooks)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not args.check:
        print(f"built lessons into {args.lessons}")
    return 1 if problems else 0


def _run_execute(args: argparse.Namespace) -> int:
    for path in args.notebooks:
        if not path.is_file():
            raise CommandError(f"no notebook at {path}")
        print(f"executed {path} in {execute_notebook(path, timeout=args.timeout):.1f} s")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the authors' commands: build and execute."""
    builder = commands.add_parser("build", help="(authors) generate lessons/ from solutions/",
                                  description="Generate each student lesson from its solution notebook: "
                                              "solutions become stubs, outputs are cleared.")
    builder.add_argument("notebooks", nargs="*", help="only these solution notebooks (default: all)")
    builder.add_argument("--check", action="store_true", help="fail if lessons/ is out of date; write nothing")
    builder.add_argument("--links", action="store_true",
                         help="first rewrite each solution's launch links and setup cell from simplex_edu/address.py")
    builder.add_argument("--solutions", type=Path, default=REPO_DIR / "solutions", metavar="DIR",
                         help="folder of solution notebooks to build from (default: the checkout's solutions/)")
    builder.add_argument("--lessons", type=Path, default=REPO_DIR / "lessons", metavar="DIR",
                         help="folder to write the lessons into (default: the checkout's lessons/)")
    builder.set_defaults(run=_run_build)
    runner = commands.add_parser("execute", help="(authors) run solution notebooks in place, as the tests do",
                                 description="Run notebooks top to bottom in place, one thread per kernel, "
                                             "and save their outputs.")
    runner.add_argument("notebooks", nargs="+", type=Path, help="the notebooks to run (e.g. solutions/00_welcome.ipynb)")
    runner.add_argument("--timeout", type=int, default=600, metavar="SECONDS",
                        help="give up on a cell after this long (default: %(default)s)")
    runner.set_defaults(run=_run_execute)
