"""The single-source build, the drift check, the one repository address, and `simplex-edu start` never
overwriting a learner's work and failing in one line."""

import json
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from simplex_edu import address, authoring, cli, launcher

ROOT = Path(__file__).resolve().parents[1]


def test_committed_lessons_match_their_solutions():
    """Regenerate every lesson into a temporary folder: any difference means someone forgot `simplex-edu build`."""
    built = authoring.build_to_temp(ROOT / "solutions")
    try:
        solutions = sorted(p.name for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
        assert solutions == sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
        for name in solutions:
            assert (built / name).read_text() == (ROOT / "lessons" / name).read_text(), (
                f"lessons/{name} is out of date with solutions/{name}: run `simplex-edu build`")
    finally:
        shutil.rmtree(built)


def test_drift_is_detected(tmp_path):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    shutil.copytree(ROOT / "solutions", solutions)
    authoring.build(solutions, lessons)
    assert authoring.build(solutions, lessons, check=True) == []
    notebook = nbformat.read(solutions / "00_welcome.ipynb", as_version=4)
    notebook.cells[1].source += "\nAn edit nobody rebuilt."  # the title cell
    nbformat.write(notebook, solutions / "00_welcome.ipynb")
    problems = authoring.build(solutions, lessons, check=True)
    assert len(problems) == 1 and "00_welcome.ipynb is out of date" in problems[0]
    assert cli.main(["build", "--check", "--solutions", str(solutions), "--lessons", str(lessons)]) == 1


def test_lessons_are_clean_and_stubbed():
    for path in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        text = path.read_text()
        assert "### BEGIN SOLUTION" not in text and "### END SOLUTION" not in text
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"
                assert set(cell.metadata) <= {"tags", "nbgrader"}
        stubs = [c for c in notebook.cells if "raise NotImplementedError" in c.source]
        assert stubs, f"{path.name} has no exercise"
        assert all(c.metadata["nbgrader"]["solution"] for c in stubs)


def test_stub_names_the_function_and_keeps_indentation():
    source = "def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    stubbed = authoring.stub_solutions(source)
    assert 'raise NotImplementedError("f: replace this line with your code")' in stubbed
    assert "return x" not in stubbed
    namespace: dict = {}
    exec(stubbed, namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "inside a function"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "without a matching"),
    ("def f():\n    return 1\n    ### END SOLUTION", "without a matching"),
])
def test_malformed_solution_regions_are_refused(source, message):
    with pytest.raises(authoring.BuildError, match=message):
        authoring.stub_solutions(source)


def _lessons(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("00_welcome.ipynb", "01_next.ipynb"):
        (folder / name).write_text(json.dumps({"name": name, "version": text}))
    return folder


def test_start_copies_missing_and_never_overwrites_changes(tmp_path):
    source, work = _lessons(tmp_path / "v1", "v1"), tmp_path / "work"
    report = launcher.copy_lessons(source, work)
    assert sorted(report["copied"]) == ["00_welcome.ipynb", "01_next.ipynb"]

    (work / "00_welcome.ipynb").write_text("MY WORK")  # the learner edits one lesson
    (work / "01_next.ipynb").unlink()                 # and deletes another
    source = _lessons(tmp_path / "v2", "v2")          # the course is updated
    report = launcher.copy_lessons(source, work)
    assert report["kept"] == ["00_welcome.ipynb"] and report["copied"] == ["01_next.ipynb"]
    assert (work / "00_welcome.ipynb").read_text() == "MY WORK"

    source = _lessons(tmp_path / "v3", "v3")  # untouched files are updated, changed ones still kept
    report = launcher.copy_lessons(source, work)
    assert report["updated"] == ["01_next.ipynb"] and report["kept"] == ["00_welcome.ipynb"]
    assert "v3" in (work / "01_next.ipynb").read_text()


def test_start_fresh_keeps_the_learners_file_beside_the_new_one(tmp_path):
    source, work = _lessons(tmp_path / "v1", "v1"), tmp_path / "work"
    launcher.copy_lessons(source, work)
    (work / "00_welcome.ipynb").write_text("MY WORK")
    report = launcher.copy_lessons(source, work, fresh=True)
    assert len(report["backed_up"]) == 1
    backups = list(work.glob("00_welcome.mine-*.ipynb"))
    assert len(backups) == 1 and backups[0].read_text() == "MY WORK"
    assert "v1" in (work / "00_welcome.ipynb").read_text()


def test_start_command_without_opening(tmp_path, capsys):
    assert cli.main(["start", str(tmp_path / "course"), "--no-open"]) == 0
    assert "copied" in capsys.readouterr().out
    assert (tmp_path / "course" / "00_welcome.ipynb").exists()


def test_list_shows_titles_and_times(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "00_welcome.ipynb" in out and "~15 min" in out and "Welcome" in out


def test_nbgrader_source_keeps_answers_with_metadata(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    shutil.copy(ROOT / "solutions" / "00_welcome.ipynb", solutions)
    lessons = authoring.build_to_temp(solutions)
    assert cli.main(["build", "--solutions", str(solutions), "--lessons", str(lessons),
                     "--nbgrader-source", str(tmp_path / "source")]) == 0
    shutil.rmtree(lessons)
    source = nbformat.read(tmp_path / "source" / "00_welcome" / "00_welcome.ipynb", as_version=4)
    answers = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]
    graded = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert answers and all("### BEGIN SOLUTION" in c.source for c in answers)
    assert len(graded) == len(answers) and all("check_" in c.source for c in graded)
    assert all(c.outputs == [] for c in source.cells if c.cell_type == "code")


