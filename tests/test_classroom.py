"""`simplex-edu classroom`: a ready nbgrader course, and grading that is right with no setup (issue 12).

The fast tests build the course and check its pieces. The end-to-end tests (marked ``classroom``; run by
``.ci/classroom.sh``, skipped otherwise) drive real nbgrader: generate, three students per lesson, autograde
with no grading variable set, validate, feedback.
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
    for name in (*config.Autograde.sanitize_preprocessors, *config.GenerateFeedback.preprocessors):
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


# ---------------------------------------------------------------- end to end, with real nbgrader (slow)

E2E = pytest.mark.skipif(not os.environ.get("SIMPLEX_EDU_CLASSROOM"),
                         reason="slow end-to-end nbgrader run: `bash .ci/classroom.sh` runs it")

# A plausible wrong answer for every exercise of the two lessons graded end to end: (what it gets wrong, body).
MISTAKES = {
    "solve_by_bisection": ("moves the wrong end of the bracket", """\
low, high = 0.0, max(1.0, a)
while high - low > tol:
    middle = 0.5 * (low + high)
    if middle * math.exp(middle) > a:
        low = middle
    else:
        high = middle
return 0.5 * (low + high)"""),
    "break_even_queries": ("does not round up", """\
if per_query_a >= per_query_b:
    return math.inf
return max(0.0, (up_front_a - up_front_b) / (per_query_b - per_query_a))"""),
    "rk4_step": ("takes an Euler step", "return x + dt * f(x)"),
    "estimate_order": ("fits the line without logarithms", "return float(np.polyfit(dts, errors, 1)[0])"),
    "stlsq": ("never thresholds", "return np.linalg.lstsq(theta, dxdt, rcond=None)[0]"),
    "coupled_field": ("gets the spring's sign backwards", """\
first, second = D.pendulum(x[..., :2], damping), D.pendulum(x[..., 2:], damping)
stretch = k * (x[..., 0] - x[..., 2])
first[..., 1] += stretch
second[..., 1] -= stretch
return np.concatenate([first, second], axis=-1)"""),
    "lyapunov_exponent": ("divides by the number of renormalisations, not the elapsed time", """\
a = np.asarray(x0, dtype=float)
b = a + d0 / np.sqrt(a.shape[-1])
total = np.zeros(a.shape[:-1])
for _ in range(n_renorm):
    for _ in range(steps_per_renorm):
        a, b = rk4_step(f, a, dt), rk4_step(f, b, dt)
    d = np.linalg.norm(b - a, axis=-1)
    total = total + np.log(d / d0)
    b = a + (b - a) * (d0 / d)[..., None]
return total / n_renorm"""),
}
GRADED = ["00_welcome", "04_dynamical_systems"]
IMPORTS_REFERENCE = "import math\nfrom simplex_edu.welcome import solve_by_bisection  # the course's own answer"


def _answer(source: str, body: str | None) -> str:
    """The solution cell as a student would hand it in: the marked region replaced by ``body`` (or kept)."""
    match = re.search(r"^( *)### BEGIN SOLUTION\n(.*?)^ *### END SOLUTION\n?", source, re.M | re.S)
    indent = match.group(1)
    inner = match.group(2) if body is None else "".join(f"{indent}{line}\n" for line in body.splitlines())
    return source[: match.start()] + inner + source[match.end():]


def _submit(course: Path, lesson: str, student: str, answers: dict[str, str]) -> None:
    """Hand in the released notebook with the given cell sources (by grade id), saved with widget state."""
    released = nbformat.read(course / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    # JupyterLab saves the explorers' widget state into the notebook; grading must not carry it on
    solution = nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4)
    released.metadata["widgets"] = solution.metadata.get("widgets", {"state": {}})
    folder = course / "submitted" / student / lesson
    folder.mkdir(parents=True)
    nbformat.write(released, folder / f"{lesson}.ipynb")


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SIMPLEX_EDU_GRADING", "NBGRADER_EXECUTION")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs `alembic`
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=3600)


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
    """Generate, submit three students per lesson (and one who imports the reference), autograde, feedback."""
    pytest.importorskip("nbgrader")
    course = tmp_path_factory.mktemp("classroom")
    assert cli.main(["classroom", str(course)]) == 0
    seconds = {}
    for lesson in GRADED:
        result = _nbgrader(course, "generate_assignment", lesson)
        assert result.returncode == 0, result.stderr[-2000:]
        source = _source(course, lesson)
        answers = {c.metadata.nbgrader.grade_id: c.source for c in source.cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        students = {"right": {g: _answer(s, None) for g, s in answers.items()},
                    "mistakes": {g: _answer(s, MISTAKES[g][1]) for g, s in answers.items()},
                    "blank": {}}
        if lesson == "00_welcome":
            students["imports_reference"] = {**students["right"], "solve_by_bisection": IMPORTS_REFERENCE}
        for student, cells in students.items():
            _submit(course, lesson, student, cells)
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
@pytest.mark.parametrize("lesson", GRADED)
def test_autograde_scores_max_zero_zero(graded, lesson):
    course = graded["course"]
    right, mistakes, blank = (_scores(course, lesson, s) for s in ("right", "mistakes", "blank"))
    assert right and all(score == top for score, top in right.values()), right
    assert all(score == 0 for score, _ in mistakes.values()), mistakes
    assert all(score == 0 for score, _ in blank.values()), blank


@E2E
@pytest.mark.classroom
def test_graded_notebooks_carry_no_widget_state_and_no_stray_error(graded):
    for lesson in GRADED:
        path = graded["course"] / "autograded" / "right" / lesson / f"{lesson}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        assert "widgets" not in notebook.metadata
        errors = [c.source[:60] for c in notebook.cells if c.cell_type == "code"
                  for o in c.outputs if o.output_type == "error"]
        assert errors == [], f"{lesson}: a right answer's graded notebook shows errors in {errors}"


@E2E
@pytest.mark.classroom
def test_feedback_shows_the_check_message_wrapped(graded):
    html = (graded["course"] / "feedback" / "mistakes" / "00_welcome" / "00_welcome.html").read_text()
    assert "Exercise 1.1 (solve_by_bisection): on input" in html and "Hint:" in html
    assert classroom.WRAP_CSS in html
    assert "Score: 0.0 / 2.0" in html


@E2E
@pytest.mark.classroom
def test_validate_on_a_blank_notebook_names_what_is_missing(graded, tmp_path):
    blank = tmp_path / "00_welcome.ipynb"
    shutil.copy(graded["course"] / "release" / "00_welcome" / "00_welcome.ipynb", blank)
    result = _nbgrader(graded["course"], "validate", str(blank))
    assert "Success" not in result.stdout
    assert "solve_by_bisection): not attempted yet" in result.stdout
    assert "break_even_queries): not attempted yet" in result.stdout


@E2E
@pytest.mark.classroom
def test_importing_the_reference_earns_nothing(graded):
    """Needs the checks to refuse the course's own reference under grading (issue 12, the checks' part)."""
    scores = _scores(graded["course"], "00_welcome", "imports_reference")
    assert scores["check_solve_by_bisection"][0] == 0
    assert scores["check_break_even_queries"] == (1, 1)
