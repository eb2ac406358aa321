"""The ``simplex-edu`` command: start the course, list the lessons, build student lessons from solutions.

``start`` never overwrites a notebook the learner has changed: it copies what is missing, updates only files
the learner never touched, and with ``--fresh`` keeps the learner's old file beside the fresh copy.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from simplex_edu import site  # the website builder; imports only the standard library until it runs

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
MANIFEST = ".simplex-edu.json"

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = '{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError("{name}: replace this line with your code")'
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(", re.M)
_CHECK_CALL = re.compile(r"^check_\w+\(", re.M)
_TIME = re.compile(r"Time:\s*~?\s*(\d+)\s*min", re.I)


class BuildError(ValueError):
    """A solution notebook breaks the single-source conventions."""


def lessons_source() -> Path:
    """Folder holding the student lessons: the ``lessons/`` of the checkout the package is installed from."""
    return REPO_DIR / "lessons"


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
        text = lesson_text(build_lesson(nbformat.read(path, as_version=4)))
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


def write_nbgrader_source(solutions_dir: Path, target: Path) -> Path:
    """Write each solution as an nbgrader source assignment (answers kept, nbgrader metadata added)."""
    for path in sorted(solutions_dir.glob("[0-9][0-9]_*.ipynb")):
        folder = target / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        source = build_lesson(nbformat.read(path, as_version=4), keep_solutions=True)
        (folder / path.name).write_text(lesson_text(source))
    return target


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_lessons(source: Path, target: Path, fresh: bool = False) -> dict[str, list[str]]:
    """Copy lessons into ``target`` without ever overwriting a learner's changes; return what happened."""
    target.mkdir(parents=True, exist_ok=True)
    manifest_path = target / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    report: dict[str, list[str]] = {"copied": [], "updated": [], "kept": [], "backed_up": [], "unchanged": []}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for lesson in sorted(source.glob("[0-9][0-9]_*.ipynb")):
        mine, new_digest = target / lesson.name, _digest(lesson)
        if not mine.exists():
            report["copied"].append(lesson.name)
        elif _digest(mine) == new_digest:
            report["unchanged"].append(lesson.name)
            manifest[lesson.name] = new_digest
            continue
        elif _digest(mine) == manifest.get(lesson.name):  # the learner never touched it: safe to update
            report["updated"].append(lesson.name)
        elif fresh:
            backup = mine.with_name(f"{mine.stem}.mine-{stamp}{mine.suffix}")
            mine.rename(backup)
            report["backed_up"].append(backup.name)
        else:
            report["kept"].append(lesson.name)
            continue
        shutil.copy2(lesson, mine)
        manifest[lesson.name] = new_digest
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return report


def lesson_index(source: Path) -> list[tuple[str, str, int | None]]:
    """(file name, title, minutes) for every lesson, read from each notebook's first heading and 'Time: ~N min'."""
    index = []
    for path in sorted(source.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        intro = "\n".join(c.source for c in notebook.cells[:3] if c.cell_type == "markdown")
        title = next((line.lstrip("# ").strip() for line in intro.splitlines() if line.startswith("# ")), path.stem)
        minutes = _TIME.search(intro)
        index.append((path.name, title, int(minutes.group(1)) if minutes else None))
    return index


def _print_report(report: dict[str, list[str]], target: Path) -> None:
    labels = {"copied": "copied", "updated": "updated (you had not changed them)", "unchanged": "already up to date",
              "kept": "kept YOUR version (you changed it; `--fresh` fetches a new copy and keeps yours beside it)",
              "backed_up": "your old version kept as"}
    print(f"Lessons in {target}:")
    for key, label in labels.items():
        if report[key]:
            print(f"  {label}: {', '.join(report[key])}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simplex-edu`` command."""
    parser = argparse.ArgumentParser(prog="simplex-edu", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="copy the lessons into a folder and open JupyterLab there")
    start.add_argument("dir", nargs="?", default="simplex-edu-lessons", help="working folder (default: %(default)s)")
    start.add_argument("--fresh", action="store_true", help="fetch fresh copies; keep your changed files beside them")
    start.add_argument("--no-open", action="store_true", help="copy only; do not start JupyterLab")
    commands.add_parser("list", help="list the lessons with their time estimates")
    builder = commands.add_parser("build", help="(authors) generate lessons/ from solutions/")
    builder.add_argument("notebooks", nargs="*", help="only these solution notebooks (default: all)")
    builder.add_argument("--check", action="store_true", help="fail if lessons/ is out of date; write nothing")
    builder.add_argument("--nbgrader-source", type=Path, metavar="DIR",
                         help="(teachers) also write nbgrader source notebooks: DIR/NN_name/NN_name.ipynb")
    runner = commands.add_parser("execute", help="(authors) run solution notebooks in place, as the tests do")
    runner.add_argument("notebooks", nargs="+", type=Path)
    builder.add_argument("--solutions", type=Path, default=REPO_DIR / "solutions")
    builder.add_argument("--lessons", type=Path, default=REPO_DIR / "lessons")
    site.register(commands)  # `simplex-edu site --out DIR`: the course website (all of it in site.py)
    args = parser.parse_args(argv)
    if args.command == "site":
        return site.run(args)

    if args.command == "list":
        for name, title, minutes in lesson_index(lessons_source()):
            print(f"{name:<34} {('~%d min' % minutes) if minutes else '':>9}  {title}")
        return 0
    if args.command == "build":
        try:
            problems = build(args.solutions, args.lessons, check=args.check, only=args.notebooks)
        except BuildError as error:
            print(f"build failed: {error}", file=sys.stderr)
            return 1
        if args.nbgrader_source:
            print(f"nbgrader source notebooks in {write_nbgrader_source(args.solutions, args.nbgrader_source)}")
        for problem in problems:
            print(problem, file=sys.stderr)
        if not args.check:
            print(f"built lessons into {args.lessons}")
        return 1 if problems else 0
    if args.command == "execute":
        for path in args.notebooks:
            seconds = execute_notebook(path)
            print(f"executed {path} in {seconds:.1f} s")
        return 0
    if not any(lessons_source().glob("[0-9][0-9]_*.ipynb")):
        print(f"No lessons found in {lessons_source()}. Install the course from its repository checkout "
              "(`pip install -e .`, as the README says) so `start` can find them.", file=sys.stderr)
        return 1
    target = Path(args.dir).resolve()
    _print_report(copy_lessons(lessons_source(), target, fresh=args.fresh), target)
    if args.no_open:
        return 0
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={target}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers (Docker, some cloud notebooks) run as root
        command.append("--allow-root")
    return subprocess.call(command)


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


if __name__ == "__main__":
    sys.exit(main())
