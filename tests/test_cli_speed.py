"""A fast command: `--help` and `list` load no notebook or Jupyter library, errors show the subcommand's usage,
`list` is aligned for every lesson name; a command whose extra is missing says what to install in one line."""

import subprocess
import sys
import time

import pytest

from simplex_edu import cli

HEAVY = ("nbformat", "jupyter_server", "torch", "nbclient", "sphinx")


def _run(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "simplex_edu.cli", *args], capture_output=True, text=True)
    return result, time.perf_counter() - started


def test_the_commands_table_matches_what_each_module_registers():
    full = cli.parser()._subparsers._group_actions[0]
    assert list(full.choices) == list(cli.COMMANDS)
    helps = {action.dest: action.help for action in full._choices_actions}
    assert helps == {name: text for name, (_, text) in cli.COMMANDS.items()}


@pytest.mark.parametrize("args", [["--help"], ["list"]])
def test_help_and_list_start_in_well_under_a_second_and_import_nothing_heavy(args):
    probe = ("import runpy, sys; sys.argv = ['simplex-edu', *sys.argv[1:]]\n"
             "try: runpy.run_module('simplex_edu.cli', run_name='__main__')\n"
             "except SystemExit: pass\n"
             f"print([m for m in {HEAVY!r} if m in sys.modules])")
    loaded = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip().splitlines()[-1] == "[]", loaded.stdout
    baseline = min(_run_python_pass() for _ in range(2))
    result, seconds = min((_run(*args) for _ in range(2)), key=lambda pair: pair[1])
    assert result.returncode == 0, result.stderr
    print(f"simplex-edu {' '.join(args)}: {seconds:.3f} s (python -c pass: {baseline:.3f} s)")
    assert seconds < 1


def _run_python_pass() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def test_a_mistyped_option_shows_the_subcommands_usage(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["start", "--frsh"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "usage: simplex-edu start" in err and "--frsh" in err


def test_list_lines_up_the_time_column(capsys):
    assert cli.main(["list"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if " min  " in line]
    assert len(lines) >= 7 and len({line.index(" min  ") for line in lines}) == 1, lines


def test_a_missing_extra_is_one_line_site_refuses_and_classroom_still_writes(tmp_path, monkeypatch, capsys):
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(cli.importlib.util, "find_spec",
                        lambda name: None if name in ("sphinx", "myst_nb", "sphinx_book_theme", "nbgrader") else real(name))
    assert cli.main(["site", "--out", str(tmp_path / "site")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ('simplex-edu site: needs the docs extra (sphinx, myst_nb, sphinx_book_theme not installed here): '
                   'pip install -c constraints.txt -e ".[docs]"') and not (tmp_path / "site").exists()
    assert cli.main(["classroom", str(tmp_path / "course")]) == 0
    assert (tmp_path / "course" / "source").is_dir()
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("simplex-edu classroom: grading the course needs the teach extra (nbgrader not installed")
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: real(name) if name != "nbgrader" else object())
    assert cli.missing_extra("classroom") is None and cli.missing_extra("list") is None


def test_ctrl_c_in_any_command_is_one_line(monkeypatch, capsys):
    from simplex_edu import launcher

    def interrupted(notebooks):
        raise KeyboardInterrupt
    monkeypatch.setattr(launcher, "lesson_index", interrupted)
    assert cli.main(["list"]) == 130
    assert capsys.readouterr().err.strip() == "simplex-edu list: interrupted"
