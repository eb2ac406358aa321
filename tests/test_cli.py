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


def test_every_solution_carries_the_launch_links_and_setup_cell_from_the_one_address():
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        assert authoring.link_problem(notebook, path.name) is None, f"{path.name}: run `simplex-edu build --links`"
        first = notebook.cells[0].source
        assert address.colab_url(f"lessons/{path.name}") in first and address.binder_url(f"lessons/{path.name}") in first
        assert notebook.cells[1].source.startswith("# "), "the title cell comes right after the launch links"


def test_build_refuses_links_that_drifted_and_links_rewrites_only_those_cells(tmp_path):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    solutions.mkdir()
    shutil.copy(ROOT / "solutions" / "00_welcome.ipynb", solutions)
    original = (solutions / "00_welcome.ipynb").read_text()
    notebook = nbformat.read(solutions / "00_welcome.ipynb", as_version=4)
    notebook.cells[0].source = notebook.cells[0].source.replace("simplex-edu/simplex-edu", "someone/else")
    setup = next(c for c in notebook.cells if c.cell_type == "code")
    setup.source = setup.source.replace("--no-deps ", "")
    nbformat.write(notebook, solutions / "00_welcome.ipynb")
    problems = authoring.build(solutions, lessons)
    assert len(problems) == 1 and "launch links differ" in problems[0] and "build --links" in problems[0]
    assert cli.main(["build", "--links", "--solutions", str(solutions), "--lessons", str(lessons)]) == 0
    assert (solutions / "00_welcome.ipynb").read_text() == original


def test_help_has_no_markup_and_every_option_explains_itself(capsys):
    for command in ([], ["start"], ["list"], ["build"], ["execute"]):
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
        text = capsys.readouterr().out
        assert "``" not in text, f"raw markup in `simplex-edu {' '.join(command)} --help`"
    parser = cli.parser()
    for name, sub in parser._subparsers._group_actions[0].choices.items():
        for action in sub._actions:
            assert action.help, f"`simplex-edu {name}` option {action.option_strings or action.dest} has no help"
    start_help = parser._subparsers._group_actions[0].choices["start"].format_help()
    assert "installed course" in start_help  # where fresh copies come from: no download


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A fake installed course (two lessons, two solutions) that `simplex-edu start` copies from."""
    folders = {kind: _lessons(tmp_path / "installed" / kind, kind) for kind in ("lessons", "solutions")}
    monkeypatch.setattr(launcher, "course_folder", lambda kind="lessons": folders[kind])
    return folders


def _start(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["start", *args, "--no-open"])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_failure(code: int, err: str, *words: str) -> None:
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def test_two_fresh_runs_in_one_second_keep_both_backups(course, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    cli.main(["start", str(work), "--no-open"])
    monkeypatch.setattr(launcher.time, "strftime", lambda _format: "20260101-120000")  # both runs: same second
    for attempt in ("FIRST EDIT", "SECOND EDIT", "THIRD EDIT"):
        (work / "00_welcome.ipynb").write_text(attempt)
        assert cli.main(["start", str(work), "--fresh", "--no-open"]) == 0
    backups = sorted(work.glob("00_welcome.mine-*.ipynb"))
    assert sorted(b.read_text() for b in backups) == ["FIRST EDIT", "SECOND EDIT", "THIRD EDIT"]
    assert len({b.name for b in backups}) == 3


def test_two_real_fresh_runs_back_to_back_lose_nothing(course, tmp_path):
    work = tmp_path / "work"
    launcher.copy_lessons(course["lessons"], work)
    started = time.monotonic()
    for attempt in ("ONE", "TWO"):
        (work / "00_welcome.ipynb").write_text(attempt)
        launcher.copy_lessons(course["lessons"], work, fresh=True)
    assert time.monotonic() - started < 1
    assert sorted(b.read_text() for b in work.glob("00_welcome.mine-*.ipynb")) == ["ONE", "TWO"]


@pytest.mark.parametrize("broken", ["", "{not json", "[1, 2]", '{"00_welcome.ipynb": 3}', "\xff\xfe"])
def test_a_corrupted_manifest_is_one_line_then_rebuilt_safely(broken, course, tmp_path, capsys):
    work = tmp_path / "work"
    launcher.copy_lessons(course["lessons"], work)
    (work / "00_welcome.ipynb").write_text("MY WORK")
    (work / launcher.MANIFESTS["lessons"]).write_bytes(broken.encode("latin-1"))
    _lessons(course["lessons"], "v2")  # the course changed meanwhile: 01 differs from what is on disk
    code, _, err = _start(capsys, str(work))
    _one_line_failure(code, err, "unreadable", "rebuilt")
    assert (work / "00_welcome.ipynb").read_text() == "MY WORK"
    code, out, err = _start(capsys, str(work))  # not blocked: the next run works
    assert code == 0, err
    assert (work / "00_welcome.ipynb").read_text() == "MY WORK"  # unknown files count as the learner's
    assert "lessons" in (work / "01_next.ipynb").read_text() and "kept YOUR version" in out


def test_a_target_that_is_a_file_is_one_line(course, tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    code, _, err = _start(capsys, str(target))
    _one_line_failure(code, err, "is a file")
    assert target.read_text() == "mine"


def test_a_dangling_symlink_as_target_or_lesson_is_one_line_and_left_alone(course, tmp_path, capsys):
    link = tmp_path / "gone"
    link.symlink_to(tmp_path / "nowhere")
    code, _, err = _start(capsys, str(link))
    _one_line_failure(code, err, "broken symbolic link")
    work = tmp_path / "work"
    work.mkdir()
    (work / "00_welcome.ipynb").symlink_to(tmp_path / "moved-away.ipynb")
    code, _, err = _start(capsys, str(work))
    _one_line_failure(code, err, "00_welcome.ipynb", "broken symbolic link", "left it alone")
    assert (work / "00_welcome.ipynb").is_symlink() and not (tmp_path / "moved-away.ipynb").exists()
    assert (work / "01_next.ipynb").is_file()  # the rest was still copied
    (work / "00_welcome.ipynb").unlink()
    (tmp_path / "mine.ipynb").write_text("MY WORK")
    (work / "00_welcome.ipynb").symlink_to(tmp_path / "mine.ipynb")  # a working link is the learner's: kept
    code, out, _ = _start(capsys, str(work), "--fresh")
    assert code == 0 and "symbolic link of yours" in out and (work / "00_welcome.ipynb").is_symlink()
    assert (tmp_path / "mine.ipynb").read_text() == "MY WORK"


def test_a_read_only_folder_is_one_line_and_nothing_is_touched(course, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    launcher.copy_lessons(course["lessons"], work)
    (work / "00_welcome.ipynb").write_text("MY WORK")
    (work / "01_next.ipynb").unlink()
    work.chmod(0o555)
    try:
        if os.access(work, os.W_OK):  # root ignores permissions: make every write fail as it would for a learner
            def refuse(path, *args, **kwargs):
                raise PermissionError(13, "Permission denied", str(path))
            monkeypatch.setattr(Path, "write_bytes", refuse)
            monkeypatch.setattr(launcher, "open", refuse, raising=False)  # the backups' exclusive open
        code, _, err = _start(capsys, str(work), "--fresh")
    finally:
        work.chmod(0o755)
    _one_line_failure(code, err, "Permission denied", str(work))
    assert (work / "00_welcome.ipynb").read_text() == "MY WORK"
    assert sorted(p.name for p in work.iterdir() if not p.name.startswith(".")) == ["00_welcome.ipynb"]


def test_a_notebook_that_is_not_json_is_kept_and_reported(course, tmp_path, capsys):
    work = tmp_path / "work"
    launcher.copy_lessons(course["lessons"], work)
    (work / "00_welcome.ipynb").write_text('{"cells": [ half saved')
    code, out, _ = _start(capsys, str(work))
    assert code == 0 and "not a valid notebook" in out and "00_welcome.ipynb" in out
    assert (work / "00_welcome.ipynb").read_text() == '{"cells": [ half saved'
    code, out, _ = _start(capsys, str(work), "--fresh")  # with --fresh it is kept beside the fresh copy
    assert code == 0 and [b.read_text() for b in work.glob("00_welcome.mine-*")] == ['{"cells": [ half saved']


def test_solutions_go_to_their_own_folder_and_never_into_the_lessons(course, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _start(capsys)[0] == 0 and _start(capsys, "--solutions")[0] == 0
    assert "solutions" in (tmp_path / "simplex-edu-solutions" / "00_welcome.ipynb").read_text()
    assert "lessons" in (tmp_path / "simplex-edu-lessons" / "00_welcome.ipynb").read_text()
    code, _, err = _start(capsys, "simplex-edu-lessons", "--solutions")
    _one_line_failure(code, err, "holds the course's lessons")


def test_list_and_start_without_a_course_are_one_line_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(launcher, "REPO_DIR", tmp_path)  # e.g. a wheel built without the course
    monkeypatch.setattr(launcher, "PACKAGE_DIR", tmp_path / "simplex_edu")
    for command in (["list"], ["start", str(tmp_path / "course"), "--no-open"]):
        assert cli.main(command) == 1
        _one_line_failure(1, capsys.readouterr().err, "no lessons found")
    assert not (tmp_path / "course").exists()


def test_colab_installs_only_what_is_missing_and_never_torch_or_jupyterlab(monkeypatch):
    from simplex_edu import colab

    installed = {"numpy": "2.0.2", "matplotlib": "3.6.0", "tqdm": "4.67.1", "torch": "2.0.0+cu121"}

    def version(name):
        if name not in installed:
            raise colab.metadata.PackageNotFoundError(name)
        return installed[name]
    monkeypatch.setattr(colab.metadata, "version", version)
    monkeypatch.setattr(colab, "requirements", lambda: [("jupyterlab", "4"), ("ipywidgets", "8"),
                                                        ("matplotlib", "3.7"), ("numpy", "1.24"),
                                                        ("torch", "2.2"), ("tqdm", "4.66")])
    assert colab.missing() == ["ipywidgets>=8", "matplotlib>=3.7"]


def test_colab_reads_the_requirements_pyproject_declares():
    from simplex_edu import colab

    names = {name for name, _ in colab.requirements()}
    assert {"numpy", "matplotlib", "ipywidgets", "tqdm", "torch"} <= names and "pytest" not in names


def test_authoring_guide_shows_the_setup_cell_the_build_makes():
    guide = (ROOT / "AUTHORING.md").read_text()
    assert "\n".join("  " + line for line in authoring.setup_source().splitlines()) in guide


def test_start_opens_jupyterlab_on_the_folder_with_this_installation_on_path(course, tmp_path, monkeypatch):
    """So `!simplex-edu start --solutions` works in a notebook even when the venv was never activated."""
    calls = []
    monkeypatch.setattr(launcher, "running_server", lambda folder: None)
    monkeypatch.setattr(launcher, "run_jupyterlab", lambda command, env: calls.append((command, env)) or 0)
    assert cli.main(["start", str(tmp_path / "work")]) == 0
    (command, env), = calls
    assert command[1:3] == ["-m", "jupyterlab"] and f"--ServerApp.root_dir={tmp_path / 'work'}" in command
    assert env["PATH"].split(os.pathsep)[0] == str(Path(launcher.sys.executable).parent)


def test_an_up_to_date_read_only_folder_still_starts(course, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    launcher.copy_lessons(course["lessons"], work)
    monkeypatch.setattr(launcher, "_write_new", lambda path, data: pytest.fail(f"wrote {path}"))
    code, out, _ = _start(capsys, str(work))
    assert code == 0 and "already up to date" in out
