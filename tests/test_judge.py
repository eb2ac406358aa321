"""The grading judge (issue 20): checks run out of the student's reach, on lesson 00's notebook, without nbgrader.

Each test judges a whole notebook: one process loads the lesson's modules, one runner per check forks from it.
"""

from __future__ import annotations

import os
import re

import nbformat
import pytest

from simplex_edu.authoring import build_lesson
from simplex_edu import classroom
from simplex_edu.checks import judge
from simplex_edu.classroom import classroom_notebook, solutions_dir

WRAPPER = """import importlib
def solve_by_bisection(a, tol=1e-10):
    return getattr(importlib.import_module("simplex_edu." + "welcome"), "solve_by_bisection")(a, tol)"""
READS_SOURCE = """import simplex_edu, pathlib
SOURCE = (pathlib.Path(simplex_edu.__file__).parent / "welcome.py").read_text()
def solve_by_bisection(a, tol=1e-10):
    return 0.0"""
READS_SOLUTION = """import json, pathlib, simplex_edu
NB = pathlib.Path(simplex_edu.__file__).parents[1] / "solutions" / "00_welcome.ipynb"
exec("".join(json.loads(NB.read_text())["cells"][4]["source"]))"""
NEAR_REFERENCE = """def solve_by_bisection(a, tol=1e-10):
    import simplex_edu.checks.welcome as w
    return w._bisection(a)"""
TAMPERS = """import math
import simplex_edu.checks.core as core
core.not_attempted = core.passed
import builtins, gc
builtins.print = lambda *a, **k: None
def solve_by_bisection(a, tol=1e-10):
    raise NotImplementedError"""


@pytest.fixture(scope="module")
def lesson() -> nbformat.NotebookNode:
    solution = nbformat.read(solutions_dir() / "00_welcome.ipynb", as_version=4)
    return classroom_notebook(solution, {"solve_by_bisection": 1.0, "break_even_queries": 1.0})


def _answer(source: str, body: str | None) -> str:
    match = re.search(r"^( *)### BEGIN SOLUTION\n(.*?)^ *### END SOLUTION\n?", source, re.M | re.S)
    inner = match.group(2) if body is None else "".join(f"{match.group(1)}{line}\n" for line in body.splitlines())
    return source[: match.start()] + inner + source[match.end():]


def _judged(lesson, first: str | None = None, *, blank: bool = False) -> list[dict]:
    """The judge's verdicts on lesson 00 with the first answer cell replaced by ``first`` (whole cell)."""
    nb = nbformat.from_dict(lesson)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    for cell in answers:
        cell.source = _answer(cell.source, "raise NotImplementedError()" if blank else None)
    if first is not None:
        answers[0].source = first
    nb, _ = judge.judge_notebook(nb, {})
    return [dict(c.metadata[judge.VERDICT_KEY], outputs=c.outputs) for c in nb.cells if judge.VERDICT_KEY in c.metadata]


@pytest.fixture
def grading(monkeypatch, tmp_path):
    """Under nbgrader autograde, run from a course folder outside the checkout."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.chdir(tmp_path)


def test_right_answers_pass_and_the_outputs_are_the_judges(lesson, grading):
    verdicts = _judged(lesson)
    assert [v["judge"] for v in verdicts] == ["passed", "passed"]
    assert verdicts[0]["outputs"][0]["text"].startswith("✓ Exercise 1.1 (solve_by_bisection): correct")


def test_blank_is_not_attempted_and_fails(lesson, grading):
    verdicts = _judged(lesson, blank=True)
    assert [v["judge"] for v in verdicts] == ["not attempted", "not attempted"]
    assert all(v["outputs"][0]["output_type"] == "error" for v in verdicts)


def test_tampering_with_the_checks_in_the_answer_changes_nothing(lesson, grading):
    verdicts = _judged(lesson, TAMPERS)
    assert verdicts[0]["judge"] == "not attempted" and verdicts[1]["judge"] == "passed"


@pytest.mark.parametrize("source", [WRAPPER, NEAR_REFERENCE, READS_SOURCE, READS_SOLUTION],
                         ids=["wrapper", "checks", "source", "solution"])
def test_the_reference_is_out_of_reach(lesson, grading, source):
    first = _judged(lesson, source)[0]
    assert first["judge"] == "failed", first
    assert first["reaches_reference"] is (source is WRAPPER)


def test_values_cross_as_data_only():
    value = (1.5, float("inf"), [1, "a"], {"k": __import__("numpy").arange(3.0)}, None, True)
    back = judge.decode(judge.encode(value))
    assert back[:3] == value[:3] and back[3]["k"].tolist() == [0.0, 1.0, 2.0] and back[4:] == (None, True)
    assert repr(judge.decode(judge.encode(object()))).startswith("<object object")


ALL = pytest.mark.skipif(not os.environ.get("SIMPLEX_EDU_JUDGE_ALL"),
                         reason="every lesson's worked answers through the judge (~40 s): SIMPLEX_EDU_JUDGE_ALL=1")


@ALL
@pytest.mark.parametrize("name", sorted(p.stem for p in solutions_dir().glob("[0-9][0-9]_*.ipynb")))
def test_every_lessons_worked_answers_pass_the_judge(grading, name):
    solution = nbformat.read(solutions_dir() / f"{name}.ipynb", as_version=4)
    lesson = classroom_notebook(solution, dict.fromkeys(classroom.exercises(build_lesson(solution, True)), 1.0))
    nb, _ = judge.judge_notebook(lesson, {})
    verdicts = {c.metadata.nbgrader.grade_id: c.metadata[judge.VERDICT_KEY]["judge"] for c in nb.cells
                if judge.VERDICT_KEY in c.metadata}
    assert verdicts and set(verdicts.values()) <= {"passed", "kernel only"}, verdicts
