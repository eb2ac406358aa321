"""`simplex-edu classroom`: a ready nbgrader course, grading right with no setup (issue 12) that no student can fake
(issue 20).

The fast tests build the course and check its pieces. The end-to-end tests (marked ``classroom``; run by
``.ci/classroom.sh``, skipped otherwise) drive real nbgrader as a teacher would (environment not activated):
generate, seven students who each should get a known fair score, autograde, the report, validate, feedback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from simplex_edu import classroom, cli
from simplex_edu.checks.core import Case, CheckFailed, check_function, grading

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def stub(x):
    raise NotImplementedError


def _check_stub():
    return check_function(stub, lambda x: x, [Case((1.0,))], exercise="Ex", hint="h")


@pytest.fixture
def no_grader(monkeypatch):
    """No grading variable set, whatever the shell running the tests has."""
    for variable in ("NBGRADER_EXECUTION", "NBGRADER_VALIDATING", "SIMPLEX_EDU_GRADING"):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_not_graded_by_default_a_stub_is_skipped(no_grader, capsys):
    assert not grading()
    assert _check_stub() == False  # noqa: E712
    assert "not attempted yet" in capsys.readouterr().out


def test_nbgrader_autograde_fails_a_stub(no_grader):
    no_grader.setenv("NBGRADER_EXECUTION", "autograde")
    assert grading()
    with pytest.raises(CheckFailed, match="not attempted"):
        _check_stub()


def test_nbgrader_validate_tells_the_student(no_grader):
    no_grader.setenv("NBGRADER_EXECUTION", "validate")
    with pytest.raises(CheckFailed, match="Ex: not attempted yet. Fill in the function above before you submit"):
        _check_stub()


@pytest.mark.parametrize("value, graded", [("1", True), ("0", False), ("", False)])
def test_simplex_edu_grading_still_works(no_grader, value, graded):
    no_grader.setenv("SIMPLEX_EDU_GRADING", value)
    assert grading() is graded


def test_nbgrader_sets_the_variable_the_checks_read():
    """Pin the nbgrader behaviour grading() relies on: autograde and validate set NBGRADER_EXECUTION."""
    nbgrader = pytest.importorskip("nbgrader")
    package = Path(nbgrader.__file__).parent
    assert "setenv(NBGRADER_EXECUTION='autograde')" in (package / "converters" / "autograde.py").read_text()
    assert "NBGRADER_EXECUTION='validate'" in (package / "validator.py").read_text()


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("course")
    assert cli.main(["classroom", str(target)]) == 0
    return target


def _source(course: Path, lesson: str) -> nbformat.NotebookNode:
    return nbformat.read(course / "source" / lesson / f"{lesson}.ipynb", as_version=4)


def test_course_has_every_lesson_with_answers_and_points(course):
    assert sorted(p.name for p in (course / "source").iterdir()) == LESSONS
    for lesson in LESSONS:
        notebook = _source(course, lesson)
        answers = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
        checks = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert answers and len(answers) == len(checks)
        assert all("### BEGIN SOLUTION" in c.source for c in answers)
        assert all(c.metadata.nbgrader.points == 1 and c.metadata.nbgrader.locked for c in checks)
        assert "widgets" not in notebook.metadata


def test_demo_failure_prints_instead_of_raising(course, capsys):
    notebook = _source(course, "00_welcome")
    demos = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("demo_")]
    assert len(demos) == 1 and demos[0].metadata.nbgrader.locked
    assert "raises-exception" not in demos[0].metadata.get("tags", [])
    from simplex_edu.checks.welcome import check_solve_by_bisection
    exec(demos[0].source, {"check_solve_by_bisection": check_solve_by_bisection})  # must not raise
    out = capsys.readouterr().out
    assert out.startswith("✗ Exercise 1.1 (solve_by_bisection)") and "Hint:" in out


def test_config_works_out_of_the_box(course, monkeypatch):
    pytest.importorskip("nbgrader")  # the config names nbgrader's preprocessors (the `teach` extra; .ci/classroom.sh)
    from traitlets.config.loader import PyFileConfigLoader
    monkeypatch.setenv("OMP_NUM_THREADS", "8")  # a machine-wide setting must not reach the grading kernels
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    assert config.CourseDirectory.course_id == "simplex-edu"
    assert config.Execute.timeout >= 300 and config.Execute.store_widget_state is False
    assert os.environ["OMP_NUM_THREADS"] == "1"
    assert config.HTMLExporter.template_name == "simplex-feedback" and config.OverwriteCells.add_missing_cells
    for name in (*config.Autograde.sanitize_preprocessors, *config.Autograde.autograde_preprocessors,
                 *config.GenerateFeedback.preprocessors):
        module, _, attribute = name.rpartition(".")
        assert callable(getattr(__import__(module, fromlist=[attribute]), attribute)), name


def test_teacher_readme_says_how(course):
    readme = (course / "README.md").read_text()
    for step in ("generate_assignment", "release_assignment", "collect", "autograde", "generate_feedback",
                 "points.toml", "validate"):
        assert step in readme
    exercises = sum(len(classroom.exercises(_source(course, lesson))) for lesson in LESSONS)
    assert f"({exercises} points in all)" in readme


def test_widget_state_is_dropped_and_outputs_wrap():
    notebook = nbformat.v4.new_notebook(metadata={"widgets": {"state": "big"}, "language_info": {"name": "python"}})
    notebook, resources = classroom.clear_widget_state(notebook, {})
    assert "widgets" not in notebook.metadata and "language_info" in notebook.metadata
    _, resources = classroom.wrap_outputs(notebook, {"inlining": {"css": ["body {}"]}})
    assert resources["inlining"]["css"] == ["body {}", classroom.WRAP_CSS]


def test_points_are_changed_in_one_file(tmp_path):
    assert cli.main(["classroom", str(tmp_path)]) == 0
    points = tmp_path / "points.toml"
    points.write_text(points.read_text().replace("rk4_step = 1", "rk4_step = 3"))
    assert cli.main(["classroom", str(tmp_path), "--force"]) == 0
    assert "rk4_step = 3" in points.read_text()  # kept
    grades = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points
              for c in _source(tmp_path, "04_dynamical_systems").cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert grades["check_rk4_step"] == 3 and grades["check_stlsq"] == 1


def test_points_template_reads_back_as_the_defaults(tmp_path):
    lessons = {"00_welcome": ["solve_by_bisection", "break_even_queries"], "04_dynamical_systems": ["rk4_step"]}
    (tmp_path / "points.toml").write_text(classroom.points_template(lessons))
    assert classroom.read_points(tmp_path / "points.toml", lessons) == classroom.default_points(lessons)


@pytest.mark.parametrize("text, message", [
    ("[04_dynamical_systems]\nrk4 = 2\n", "04_dynamical_systems has no exercise 'rk4'"),
    ("[99_nope]\nx = 1\n", "[99_nope] is not a lesson"),
    ("[00_welcome]\nsolve_by_bisection = -1\n", "points must be a number >= 0"),
    ("[00_welcome\n", "not valid TOML"),
])
def test_bad_points_file_is_one_line(tmp_path, capsys, text, message):
    (tmp_path / "points.toml").write_text(text)
    assert cli.main(["classroom", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "source").exists()


@pytest.mark.parametrize("inside", ["solutions", "lessons", "simplex_edu"])
def test_never_writes_into_the_checkout(capsys, inside):
    before = sorted(p.name for p in (ROOT / inside).iterdir())
    assert cli.main(["classroom", str(ROOT / inside / "course")]) == 1
    assert "choose a folder outside" in capsys.readouterr().err
    assert sorted(p.name for p in (ROOT / inside).iterdir()) == before


def test_existing_course_needs_force(course, capsys):
    config = (course / "nbgrader_config.py").read_text()
    assert cli.main(["classroom", str(course)]) == 1
    err = capsys.readouterr().err
    assert "already holds a course" in err and "--force" in err and err.count("\n") == 1
    assert (course / "nbgrader_config.py").read_text() == config


def test_solutions_come_from_the_package_or_the_checkout():
    assert classroom.solutions_dir() == ROOT / "solutions"  # a checkout's own, current notebooks
    assert sorted(p.stem for p in classroom.solutions_dir().glob("[0-9][0-9]_*.ipynb")) == LESSONS


def test_classroom_copies_carry_no_solution_links(course):
    for lesson in LESSONS:
        text = (course / "source" / lesson / f"{lesson}.ipynb").read_text()
        assert not re.search(r"\]\([^)]*solutions/", text) and "colab-badge" not in text, lesson


def test_feedback_template_is_offline_and_names_exercises():
    pytest.importorskip("nbgrader")
    text = classroom.feedback_template()
    assert "mathjax" not in text.lower() and "Test cell</a>" not in text and classroom.EXERCISE_LINK in text


def test_report_without_a_gradebook_is_one_line(tmp_path, capsys):
    assert cli.main(["classroom-report", str(tmp_path)]) == 1
    assert "no gradebook.db" in capsys.readouterr().err


def test_rk4_check_names_carols_slip(no_grader):
    from simplex_edu.checks.dynamics import check_rk4_step

    def carol(f, x, dt):
        k1 = f(x)
        k2 = f(x + 0.5 * dt * k1)
        k3 = f(x + 0.5 * dt * k2)
        k4 = f(x + dt * k2)
        return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    with pytest.raises(CheckFailed, match="It looks like k4 is computed from k2"):
        check_rk4_step(carol)


# ---------------------------------------------------------------- end to end, with real nbgrader (slow)

E2E = pytest.mark.skipif(not os.environ.get("SIMPLEX_EDU_CLASSROOM"),
                         reason="slow end-to-end nbgrader run: `bash .ci/classroom.sh` runs it")

# (body of the answer) — what a student hands in for an exercise; None keeps the worked answer.
WRONG_BISECTION = """\
low, high = 0.0, max(1.0, a)
while high - low > tol:
    middle = 0.5 * (low + high)
    if middle * math.exp(middle) > a:
        low = middle
    else:
        high = middle
return 0.5 * (low + high)"""
CAROL_RK4 = """\
k1 = f(x)
k2 = f(x + 0.5 * dt * k1)
k3 = f(x + 0.5 * dt * k2)
k4 = f(x + dt * k2)
return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)"""
MALLORY = """import math
import simplex_edu.checks.welcome as checks
for name in dir(checks):
    if name.startswith("check_"):
        setattr(checks, name, lambda f: True)
"""
MALLORY2 = "import math\nimport simplex_edu.checks.core as core\ncore.not_attempted = core.passed\n"
TRENT = """import math, importlib
def solve_by_bisection(a, tol=1e-10):
    module = importlib.import_module("simplex_edu." + "welcome")
    return getattr(module, "solve_" + "by_bisection")(a, tol)
"""
FAKE_PASS = 'print("✓ Exercise 1.1 (solve_by_bisection): correct — 9 cases match the reference.")'
# student: (lesson, {grade id: cell, None for the worked answer}, check cells deleted, fair score)
STUDENTS = {
    "alice": ("00_welcome", {"solve_by_bisection": None, "break_even_queries": None}, (), 2),
    "bob": ("00_welcome", {}, (), 0),
    "mallory": ("00_welcome", {"solve_by_bisection": "STUB+" + MALLORY}, (), 0),
    "mallory2": ("00_welcome", {"solve_by_bisection": "STUB+" + MALLORY2}, (), 0),
    "trent": ("00_welcome", {"solve_by_bisection": TRENT, "break_even_queries": None}, (), 1),
    "eve": ("00_welcome", {"solve_by_bisection": "BODY" + WRONG_BISECTION, "break_even_queries": None,
                           "check_solve_by_bisection": FAKE_PASS}, ("check_break_even_queries",), 1),
    "carol": ("04_dynamical_systems", {"rk4_step": "BODY" + CAROL_RK4, "estimate_order": None, "stlsq": None,
                                       "coupled_field": None, "lyapunov_exponent": None}, (), 4),
}


def _answer(source: str, body: str | None) -> str:
    """The solution cell as a student would hand it in: the marked region replaced by ``body`` (or kept)."""
    match = re.search(r"^( *)### BEGIN SOLUTION\n(.*?)^ *### END SOLUTION\n?", source, re.M | re.S)
    indent = match.group(1)
    inner = match.group(2) if body is None else "".join(f"{indent}{line}\n" for line in body.splitlines())
    return source[: match.start()] + inner + source[match.end():]


def _cell_source(source: str, released: str, given: str | None) -> str:
    """The student's cell: the worked answer (None), a new body ("BODY…"), code before the stub ("STUB+…")."""
    if given is None:
        return _answer(source, None)
    if given.startswith("BODY"):
        return _answer(source, given[4:])
    if given.startswith("STUB+"):
        return given[5:] + released
    return given


def _submit(course: Path, lesson: str, student: str, answers: dict[str, str | None], deleted: tuple) -> None:
    """Hand in the released notebook with the given cells (by grade id), saved with widget state."""
    released = nbformat.read(course / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    source = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in _source(course, lesson).cells}
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = _cell_source(source[grade_id], cell.source, answers[grade_id])
    released.cells = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in deleted]
    # JupyterLab saves the explorers' widget state into the notebook; grading must not carry it on
    solution = nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4)
    released.metadata["widgets"] = solution.metadata.get("widgets", {"state": {}})
    folder = course / "submitted" / student / lesson
    folder.mkdir(parents=True)
    nbformat.write(released, folder / f"{lesson}.ipynb")


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """The teacher's `.venv/bin/nbgrader …` without activating the environment (its bin/ not on PATH)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SIMPLEX_EDU_GRADING", "NBGRADER_EXECUTION")}
    here = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != here)
    return subprocess.run([str(here / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True,
                          timeout=3600)


def _autograde_seconds(log: str) -> dict[str, float]:
    """Seconds nbgrader spent running each student's notebook, from its log (one line per step, timed)."""
    started, seconds = {}, {}
    for line in log.splitlines():
        match = re.match(r"([\d.]+) (Autograding|Writing \d+ bytes to) .*/autograded/([^/]+)/", line)
        if match and match.group(2) == "Autograding":
            started[match.group(3)] = float(match.group(1))
        elif match and match.group(3) in started:
            seconds[match.group(3)] = float(match.group(1)) - started.pop(match.group(3))
    return seconds


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """Generate, hand in every student's notebook, autograde, feedback: real nbgrader, as a teacher runs it."""
    pytest.importorskip("nbgrader")
    course = tmp_path_factory.mktemp("classroom")
    assert cli.main(["classroom", str(course)]) == 0
    seconds = {}
    for lesson in sorted({lesson for lesson, *_ in STUDENTS.values()}):
        result = _nbgrader(course, "generate_assignment", lesson)
        assert result.returncode == 0, result.stderr[-2000:]
        students = [s for s, (name, *_) in STUDENTS.items() if name == lesson]
        for student in students:
            _, answers, deleted, _ = STUDENTS[student]
            _submit(course, lesson, student, answers, deleted)
        result = _nbgrader(course, "autograde", lesson, "--Application.log_format=%(created).1f %(message)s")
        assert result.returncode == 0, result.stderr[-2000:]
        times = _autograde_seconds(result.stderr)
        assert set(times) == set(students), result.stderr[-2000:]
        seconds.update({(lesson, student): t for student, t in times.items()})
    assert _nbgrader(course, "generate_feedback", "00_welcome").returncode == 0
    report = "\n".join(f"autograde {lesson} {student}: {t:.1f} s" for (lesson, student), t in seconds.items())
    print("\n" + report)
    return {"course": course, "seconds": seconds}


def _scores(course: Path, lesson: str, student: str) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="simplex-edu") as gradebook:
        notebook = gradebook.find_submission_notebook(lesson, lesson, student)
        return {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}


@E2E
@pytest.mark.classroom
@pytest.mark.parametrize("student", STUDENTS)
def test_every_student_gets_the_fair_score(graded, student):
    lesson, *_, fair = STUDENTS[student]
    scores = _scores(graded["course"], lesson, student)
    assert sum(score for score, _ in scores.values()) == fair, scores


@E2E
@pytest.mark.classroom
def test_no_stray_gradebook_and_the_report_flags_eve_and_trent(graded, capsys):
    assert not (ROOT / "gradebook.db").exists()
    assert cli.main(["classroom-report", str(graded["course"])]) == 0
    out = capsys.readouterr().out
    print(out)
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert set(rows) == set(STUDENTS)
    assert "deleted locked cell check_break_even_queries" in rows["eve"]
    assert "edited locked cell check_solve_by_bisection" in rows["eve"]
    assert "answer reaches the reference (check_solve_by_bisection)" in rows["trent"]
    assert "check did not run in the notebook (check_solve_by_bisection)" in rows["mallory"]  # `lambda f: True`
    assert "the notebook showed a pass the judge did not confirm (check_solve_by_bisection)" in rows["mallory2"]
    assert "1 / 2" in rows["trent"] and rows["alice"].rstrip().endswith("2 / 2")  # alice: nothing to flag


@E2E
@pytest.mark.classroom
def test_graded_notebooks_carry_no_widget_state_and_no_stray_error(graded):
    path = graded["course"] / "autograded" / "alice" / "00_welcome" / "00_welcome.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert "widgets" not in notebook.metadata
    errors = [c.source[:60] for c in notebook.cells if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors == [], f"a right answer's graded notebook shows errors in {errors}"


@E2E
@pytest.mark.classroom
def test_carol_hears_the_slip_the_lesson_warns_of(graded):
    path = graded["course"] / "autograded" / "carol" / "04_dynamical_systems" / "04_dynamical_systems.ipynb"
    text = "".join(o.get("evalue", "") for c in nbformat.read(path, as_version=4).cells
                   if c.cell_type == "code" for o in c.outputs)
    assert "It looks like k4 is computed from k2" in text


@E2E
@pytest.mark.classroom
def test_feedback_is_offline_and_names_the_exercises(graded):
    html = (graded["course"] / "feedback" / "eve" / "00_welcome" / "00_welcome.html").read_text()
    assert "Exercise 1.1 (solve_by_bisection): on input" in html and "Hint:" in html
    assert classroom.WRAP_CSS in html and "Score: 1.0 / 2.0" in html
    assert "Test cell" not in html and ">solve_by_bisection</a>" in html
    assert not re.search(r"<script[^>]+src=\"https?:|<img[^>]+src=\"https?:|mathjax", html, re.I)


@E2E
@pytest.mark.classroom
def test_validate_on_a_blank_notebook_names_what_is_missing_whole(graded, tmp_path):
    blank = tmp_path / "00_welcome.ipynb"
    shutil.copy(graded["course"] / "release" / "00_welcome" / "00_welcome.ipynb", blank)
    result = _nbgrader(graded["course"], "validate", str(blank))
    assert "Success" not in result.stdout
    assert "solve_by_bisection): not attempted yet" in result.stdout
    assert "as it is, this exercise earns no points" in result.stdout
