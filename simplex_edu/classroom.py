"""``simplex-edu classroom DIR``: write a ready nbgrader course (source notebooks, config, teacher README).

The course is written from the solution notebooks (answers kept between nbgrader's markers, exercise and check
cells carrying nbgrader metadata, the same build as ``simplex-edu build``). It never writes into the course's
own ``lessons/`` or ``solutions/``, and never overwrites an existing course without ``--force``.
Points per exercise live in one file, ``DIR/points.toml`` (1 each by default); the build reads it back.

The two nbconvert preprocessors (plain functions) are used by the written ``nbgrader_config.py``: they keep graded
notebooks free of widget state and make long check messages wrap in the feedback HTML.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from simplex_edu.authoring import LAUNCH_TAG, build_lesson, lesson_text
from simplex_edu.launcher import PACKAGE_DIR, REPO_DIR, SOLUTIONS, course_folder

COURSE_ID = "simplex-edu"
POINTS_FILE = "points.toml"
DEMO_TAG = "raises-exception"  # a cell that fails on purpose, to show what a failed check prints


class ClassroomError(ValueError):
    """The classroom folder cannot be written as asked; the message is one line for the teacher."""


def solutions_dir() -> Path:
    """Folder of the solution notebooks: the checkout's solutions/ in a checkout, else the package's own copy."""
    folder = course_folder(SOLUTIONS)
    if not any(folder.glob("[0-9][0-9]_*.ipynb")):
        raise ClassroomError(f"no solution notebooks found in {folder}: reinstall simplex-edu")
    return folder


def _protected() -> list[Path]:
    """Folders the classroom must never write into: the package and the course's own notebooks."""
    return [PACKAGE_DIR, REPO_DIR / "lessons", REPO_DIR / "solutions"]


def exercises(notebook: nbformat.NotebookNode) -> list[str]:
    """Names of the graded exercises of an nbgrader source notebook, in order (from its check cells)."""
    return [cell.metadata["nbgrader"]["grade_id"].removeprefix("check_") for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")]


def points_template(lessons: dict[str, list[str]]) -> str:
    """The default points.toml: every exercise of every lesson worth 1 point, with how to change it."""
    lines = ["# Points per exercise (a check cell passes: all its points; fails or not attempted: 0).",
             "# Change a number, then run `simplex-edu classroom . --force` here and, for a lesson already",
             "# generated, `nbgrader generate_assignment LESSON --force` (before you release it).", ""]
    for lesson, names in lessons.items():
        lines += [f"[{lesson}]"] + [f"{name} = 1" for name in names] + [""]
    return "\n".join(lines)


def default_points(lessons: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """One point for every exercise of every lesson."""
    return {lesson: dict.fromkeys(names, 1.0) for lesson, names in lessons.items()}


def read_points(path: Path, lessons: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Points per lesson and exercise from ``path`` (missing entries: 1); unknown names or bad values raise."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the `teach` extra installs tomli, the same parser's older name
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ClassroomError(f"reading {path} on Python 3.10 needs tomli: pip install 'simplex-edu[teach]'")
    try:
        table = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ClassroomError(f"{path}: not valid TOML ({error})") from None
    points = default_points(lessons)
    for lesson, entries in table.items():
        if lesson not in lessons or not isinstance(entries, dict):
            raise ClassroomError(f"{path}: [{lesson}] is not a lesson (lessons: {', '.join(lessons)})")
        for name, value in entries.items():
            if name not in points[lesson]:
                raise ClassroomError(f"{path}: {lesson} has no exercise {name!r} "
                                     f"(exercises: {', '.join(lessons[lesson])})")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ClassroomError(f"{path}: {lesson}.{name} = {value!r}; points must be a number >= 0")
            points[lesson][name] = float(value)
    return points


def _demo_without_error(source: str) -> str:
    """A deliberately failing check cell rewritten to print its message, so feedback shows no student error."""
    body = "\n".join("    " + line for line in source.splitlines())
    return ("try:  # this check fails on purpose: its message is printed, and it is not your error\n"
            f"{body}\nexcept AssertionError as demo:\n    print(f\"✗ {{demo}}\")")


def classroom_notebook(solution: nbformat.NotebookNode, points: dict[str, float]) -> nbformat.NotebookNode:
    """The nbgrader source version of a solution notebook, with the classroom's points and a quiet demo."""
    notebook = build_lesson(solution, keep_solutions=True)
    # no launch badges: they point at the public copies, with a link to the worked solution beside them
    notebook.cells = [c for c in notebook.cells if LAUNCH_TAG not in c.metadata.get("tags", [])]
    for index, cell in enumerate(notebook.cells):
        meta = cell.metadata.get("nbgrader")
        if meta and meta.get("grade"):
            meta["points"] = points[meta["grade_id"].removeprefix("check_")]
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and DEMO_TAG in tags:
            cell.source = _demo_without_error(cell.source)
            tags.remove(DEMO_TAG)
            if not tags:
                del cell.metadata["tags"]
            # read-only, so nbgrader restores it from the source before grading
            cell.metadata["nbgrader"] = {"grade_id": f"demo_{index}", "schema_version": 3, "solution": False,
                                         "grade": False, "locked": True}
    return notebook


CONFIG = '''"""nbgrader configuration for the simplex-edu course (written by `simplex-edu classroom`).

Run every nbgrader command in this folder. Grading needs no environment variable: the course's checks notice
nbgrader (it sets NBGRADER_EXECUTION) and then fail an exercise that was not attempted.
"""
import os

import sys

c = get_config()  # noqa: F821 (nbgrader defines get_config when it reads this file)

# nbgrader runs its helper `alembic` from PATH: find it beside this Python, so `.venv/bin/nbgrader …` works
# without activating the environment (a failed run would leave a half-made gradebook.db behind).
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
c.CourseDirectory.course_id = "{course_id}"

# One thread per kernel. torch and numpy otherwise start one thread per core in every kernel; on a shared
# machine they fight (lesson 04: 761 s with default threads against 52 s with one, under load).
for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[variable] = "1"

# nbgrader's default 30 s per cell interrupts the training cells on a slow or busy machine; every lesson's
# slowest cell takes well under a minute on one core, so 10 minutes only stops a kernel that is really stuck.
c.Execute.timeout = 600
c.Execute.startup_timeout = 300  # starting a kernel and importing torch can take minutes under load
c.Execute.iopub_timeout = 60  # wait for a cell's last output on a busy machine instead of failing the cell

# No widget state in graded notebooks (the explorers' images would add ~250 kB to each one).
c.Execute.store_widget_state = False
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
    "simplex_edu.classroom.clear_widget_state",  # state a student's saved notebook carries
]

# Grades out of the student's reach: after the kernel ran, the judge runs every graded check again in fresh
# processes (simplex_edu.checks.judge); its verdict replaces the check cell's outputs before they are scored.
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute",
    "simplex_edu.classroom.judge_answers",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True  # a deleted check cell comes back, and is graded

# `nbgrader validate`: whole messages, not cut at 80 characters ("… this exercise earns no points").
c.Validator.width = 240

# Feedback a student can read offline: our copy of nbgrader's page (templates/, written by `simplex-edu
# classroom`, or `simplex-edu classroom . --force` once nbgrader is installed) loads no MathJax from a CDN
# (formulas show as TeX) and names each exercise in the score summary.
import nbgrader  # noqa: E402
templates = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
if os.path.isdir(os.path.join(templates, "simplex-feedback")):
    c.HTMLExporter.template_name = "simplex-feedback"
    c.HTMLExporter.extra_template_basedirs = [
        templates, os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "templates")]

# Feedback: long check messages and hints wrap instead of running off the page.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "simplex_edu.classroom.wrap_outputs",
]
'''

README = """# simplex-edu classroom course (nbgrader)

Written by `simplex-edu classroom`. Run every `nbgrader` command **in this folder** (it reads `nbgrader_config.py`).
Install nbgrader with the course, `pip install "simplex-edu[teach]"`. Activating that environment is not needed:
`nbgrader_config.py` puts its `bin/` on PATH (for nbgrader's `alembic`), and grading uses kernels of the same Python.

Lessons (one nbgrader assignment each, in `source/`): {lessons}.

## Points
Each exercise has a check cell; a check that passes earns the exercise's points, a wrong answer or an exercise
not attempted earns 0. Every exercise is worth 1 point by default ({total} points in all).
To change them, edit `points.toml` here, then run `simplex-edu classroom . --force` (it rewrites `source/`,
`nbgrader_config.py` and this README, and keeps `points.toml`), and `nbgrader generate_assignment LESSON --force`
for a lesson you had already generated. Change points before you release a lesson, not after students submit.

## Release, collect, grade, give feedback
1. `nbgrader generate_assignment 00_welcome` — writes the student version to `release/00_welcome/` (answers
   replaced by stubs, check cells locked).
2. Release it: `nbgrader release_assignment 00_welcome` on a JupyterHub with an nbgrader exchange, or hand out
   `release/00_welcome/00_welcome.ipynb` any other way (LMS, e-mail).
3. Collect: `nbgrader collect 00_welcome` (exchange), or put each student's file at
   `submitted/STUDENT_ID/00_welcome/00_welcome.ipynb` (`nbgrader zip_collect` unpacks an LMS download).
4. `nbgrader autograde 00_welcome` — runs every submission in a fresh kernel with one thread. No environment
   variable is needed. Lesson 04, the slowest, took 20 s per student on a quiet 2-core machine, 90 s on a busy one.
5. `nbgrader generate_feedback 00_welcome` — one HTML page per student in `feedback/`, with each check's
   message and hint; `nbgrader release_feedback 00_welcome` returns them through the exchange.
   Scores: `nbgrader export` writes `grades.csv`.

## Grades no student can fake
`nbgrader autograde` runs the notebook in a kernel, then runs every graded check again out of the student's
reach: the answer cells run in a fresh Python process per exercise with the course's own answer refusing to run,
and the check compares what comes back with the reference computed outside. Changing the checks from the
notebook, or handing in the course's function under another name, earns nothing. A deleted check cell is put
back and graded. `simplex-edu classroom-report` (here) lists per student and lesson the gradebook's score, locked
cells deleted or edited, answers that reach the reference, and checks that did not run.

Students can run `nbgrader validate 00_welcome.ipynb` (or the Validate button) before submitting: it names
each exercise still not attempted, and says "Success" only when every check passes.
"""


def judge_answers(nb: nbformat.NotebookNode, resources: dict) -> tuple[nbformat.NotebookNode, dict]:
    """nbconvert preprocessor (autograde, after Execute): each graded check's outputs become the judge's verdict."""
    from simplex_edu.checks.judge import judge_notebook
    return judge_notebook(nb, resources)


def clear_widget_state(nb: nbformat.NotebookNode, resources: dict) -> tuple[nbformat.NotebookNode, dict]:
    """nbconvert preprocessor: drop the notebook's saved widget state (large, useless once graded)."""
    nb.metadata.pop("widgets", None)
    return nb, resources


WRAP_CSS = ".output_area pre, .output_subarea pre { white-space: pre-wrap; word-break: normal; overflow-wrap: break-word; }"


def wrap_outputs(nb: nbformat.NotebookNode, resources: dict) -> tuple[nbformat.NotebookNode, dict]:
    """nbconvert preprocessor: make text outputs (check messages, hints) wrap in the feedback HTML."""
    resources.setdefault("inlining", {}).setdefault("css", []).append(WRAP_CSS)
    return nb, resources


FEEDBACK_TEMPLATE = "simplex-feedback"
TEST_CELL_LINK = '<a href="#{{ cell.metadata.nbgrader.grade_id }}">Test cell</a>'
EXERCISE_LINK = ('<a href="#{{ cell.metadata.nbgrader.grade_id }}">'
                 '{{ cell.metadata.nbgrader.grade_id | replace("check_", "", 1) }}</a>')


def feedback_template() -> str:
    """nbgrader's feedback page with no MathJax from a CDN and each exercise named in the score summary."""
    import nbgrader
    path = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates" / "feedback"
    text = (path / "index.html.j2").read_text()
    if "{{ mathjax() }}" not in text or TEST_CELL_LINK not in text:
        raise ClassroomError(f"nbgrader's feedback template ({path}) is not the one this version knows; "
                             "install the nbgrader version of `pip install 'simplex-edu[teach]'`")
    return text.replace("<!-- Loading mathjax macro -->", "").replace("{{ mathjax() }}", "").replace(
        TEST_CELL_LINK, EXERCISE_LINK)


def _write_feedback_template(target: Path) -> None:
    import nbgrader
    folder = target / "templates" / FEEDBACK_TEMPLATE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html.j2").write_text(feedback_template())
    conf = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates" / "feedback" / "conf.json"
    (folder / "conf.json").write_text(conf.read_text())


def write_classroom(target: Path, force: bool = False) -> list[str]:
    """Write the nbgrader course into ``target``; return the lesson names. Raises :class:`ClassroomError`."""
    target = target.resolve()
    for folder in _protected():
        if target.is_relative_to(folder.resolve()):
            raise ClassroomError(f"{target} is inside {folder}: choose a folder outside the course's own files")
    existing = [name for name in ("nbgrader_config.py", "source", "README.md") if (target / name).exists()]
    if existing and not force:
        raise ClassroomError(f"{target} already holds a course ({', '.join(existing)}); "
                             "add --force to rewrite source/, nbgrader_config.py and README.md")
    solutions = {path.stem: nbformat.read(path, as_version=4)
                 for path in sorted(solutions_dir().glob("[0-9][0-9]_*.ipynb"))}
    lessons = {name: exercises(build_lesson(nb, keep_solutions=True)) for name, nb in solutions.items()}
    points_path = target / POINTS_FILE
    points = read_points(points_path, lessons) if points_path.exists() else default_points(lessons)
    target.mkdir(parents=True, exist_ok=True)
    if not points_path.exists():
        points_path.write_text(points_template(lessons))
    for name, solution in solutions.items():
        folder = target / "source" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.ipynb").write_text(lesson_text(classroom_notebook(solution, points[name])))
    (target / "nbgrader_config.py").write_text(CONFIG.format(course_id=COURSE_ID))
    try:
        _write_feedback_template(target)
    except ModuleNotFoundError:  # no nbgrader here (yet): the config needs it anyway; --force writes it later
        pass
    total = sum(sum(values.values()) for values in points.values())
    (target / "README.md").write_text(README.format(lessons=", ".join(solutions), total=f"{total:g}"))
    return list(solutions)


def _locked_changes(source_cells: list, submitted: nbformat.NotebookNode) -> list[str]:
    """Locked cells of the source that the student's file lacks ("deleted …") or changed ("edited …")."""
    from nbgrader.utils import compute_checksum
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in submitted.cells}
    changes = []
    for source in source_cells:
        if not source.locked:
            continue
        if source.name not in cells:
            changes.append(f"deleted locked cell {source.name}")
        elif compute_checksum(cells[source.name]) != source.checksum:
            changes.append(f"edited locked cell {source.name}")
    return changes


def _judged_flags(autograded: nbformat.NotebookNode) -> list[str]:
    """What the judge recorded in the graded notebook: answers reaching the reference, checks that did not run."""
    from simplex_edu.checks.judge import VERDICT_KEY
    flags = []
    for cell in autograded.cells:
        verdict = cell.metadata.get(VERDICT_KEY)
        if verdict is None:
            continue
        name = cell.metadata["nbgrader"]["grade_id"]
        if verdict.get("judge") == "kernel only":
            flags.append(f"graded in the notebook only ({name})")
        if verdict.get("reaches_reference"):
            flags.append(f"answer reaches the reference ({name})")
        if verdict.get("kernel") == "did not run":
            flags.append(f"check did not run in the notebook ({name})")
        elif verdict.get("kernel") == "passed" and verdict.get("judge") != "passed":
            flags.append(f"the notebook showed a pass the judge did not confirm ({name})")
    return flags


def classroom_report(course: Path) -> list[str]:
    """One line per student and lesson: the gradebook's score, then anything the teacher should look at."""
    from nbgrader.api import Gradebook, MissingEntry
    lines = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID) as gradebook:
        for assignment in gradebook.assignments:
            for notebook in assignment.notebooks:
                for path in sorted(course.glob(f"autograded/*/{assignment.name}/{notebook.name}.ipynb")):
                    student = path.parts[-3]
                    try:
                        graded = gradebook.find_submission_notebook(notebook.name, assignment.name, student)
                    except MissingEntry:
                        continue
                    submitted = course / "submitted" / student / assignment.name / f"{notebook.name}.ipynb"
                    flags = _locked_changes(notebook.source_cells, nbformat.read(submitted, as_version=4)) \
                        if submitted.exists() else ["submitted file missing"]
                    flags += _judged_flags(nbformat.read(path, as_version=4))
                    lines.append(f"{student:<16} {assignment.name:<28} {graded.score:g} / {graded.max_score:g}"
                                 + ("   " + "; ".join(flags) if flags else ""))
    return lines


def run_report(args: argparse.Namespace) -> int:
    """Carry out ``simplex-edu classroom-report``: the table, or one line why not."""
    course = args.dir.resolve()
    if not (course / "gradebook.db").exists():
        print(f"classroom-report: no gradebook.db in {course}: run `nbgrader autograde LESSON` there first",
              file=sys.stderr)
        return 1
    lines = classroom_report(course)
    print("\n".join(lines) if lines else "no graded submissions yet")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Register ``classroom`` and ``classroom-report`` on the ``simplex-edu`` command's subcommands."""
    parser = commands.add_parser("classroom", help="(teachers) write a ready nbgrader course into DIR")
    parser.add_argument("dir", type=Path, help="course folder to create (run nbgrader there)")
    parser.add_argument("--force", action="store_true",
                        help="rewrite an existing course's source/, config and README (points.toml is kept)")
    parser.set_defaults(run=run)
    report = commands.add_parser("classroom-report", help="(teachers) scores and tampering, per student and lesson")
    report.add_argument("dir", type=Path, nargs="?", default=Path("."), help="the course folder (default: here)")
    report.set_defaults(run=run_report)


def run(args: argparse.Namespace) -> int:
    """Carry out ``simplex-edu classroom``: one line on success or failure."""
    try:
        lessons = write_classroom(args.dir, force=args.force)
    except (ClassroomError, OSError) as error:
        print(f"classroom: {error}", file=sys.stderr)
        return 1
    print(f"nbgrader course with {len(lessons)} lessons in {args.dir.resolve()}; next: cd there and "
          f"`nbgrader generate_assignment {lessons[0]}` (see its README.md)")
    return 0
