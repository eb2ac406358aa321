"""The simplex-edu command: argument parsing and dispatch only; each job lives in its own module.

``COMMANDS`` lists every subcommand with the module that registers it (``register(commands)``, see
``simplex_edu.command``) and its one-line help. A call imports only the module of the command it runs, so
``simplex-edu --help`` and ``simplex-edu list`` start without loading nbformat, Jupyter or torch. To add a
subcommand: write its module's ``register``, then add a row here (``tests/test_cli_speed.py`` holds the help
lines to the module's own).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from simplex_edu import address
from simplex_edu.command import CommandError

# name: (module, help), in the order `simplex-edu --help` lists them: the learner's launcher, then the authors' tools.
COMMANDS = {
    "start": ("launcher", "copy the lessons into a folder and open JupyterLab there"),
    "list": ("launcher", "list the lessons with their time estimates"),
    "build": ("authoring", "(authors) generate lessons/ from solutions/"),
    "execute": ("authoring", "(authors) run solution notebooks in place, as the tests do"),
    "classroom": ("classroom", "(teachers) write a ready nbgrader course into DIR"),
    "classroom-report": ("classroom", "(teachers) scores and tampering, per student and lesson"),
    "site": ("site", "(authors) build the course website into a folder (needs the docs extra)"),
}

# name: (the extra it needs, the modules that extra brings, what needs them when the command works without them).
# `site` cannot build without Sphinx; `classroom` writes the course without nbgrader, but grading it needs nbgrader.
EXTRAS = {
    "site": ("docs", ("sphinx", "myst_nb", "sphinx_book_theme"), None),
    "classroom": ("teach", ("nbgrader",), "grading the course"),
}


def missing_extra(command: str) -> str | None:
    """What ``command`` lacks here and how to install it, in one line; None if its extra is installed."""
    extra, modules, later = EXTRAS.get(command, ("", (), None))
    absent = [module for module in modules if importlib.util.find_spec(module) is None]
    if not absent:
        return None
    from simplex_edu.launcher import REPO_DIR  # a checkout installs its extras from itself

    install = f'pip install -c constraints.txt -e ".[{extra}]"' if (REPO_DIR / "pyproject.toml").is_file() else \
        f'pip install "simplex-edu[{extra}] @ git+{address.repository_url()}"'
    needs = f"{later} needs" if later else "needs"
    return f"{needs} the {extra} extra ({', '.join(absent)} not installed here): {install}"


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``simplex-edu`` argument parser: every subcommand in full, or (given ``command``) only that one's
    module loaded and the others as names with their help."""
    top = argparse.ArgumentParser(
        prog="simplex-edu",
        description="Where do you pay for an answer? Start the course's lessons, or (authors) build them.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = list(dict.fromkeys(module for module, _ in COMMANDS.values())) if command is None else \
        [COMMANDS[command][0]] if command in COMMANDS else []
    loaded: set[str] = set()
    for name, (module, text) in COMMANDS.items():
        if module in wanted and module not in loaded:
            importlib.import_module(f"simplex_edu.{module}").register(commands)
            loaded.add(module)
        if name not in commands.choices:
            commands.add_parser(name, help=text)
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simplex-edu`` command: a failure is one line on stderr and exit code 1."""
    argv = sys.argv[1:] if argv is None else list(argv)
    top = parser(next((word for word in argv if not word.startswith("-")), ""))
    args, unknown = top.parse_known_args(argv)
    if unknown:  # a mistyped option: the subcommand's usage, not the top level's
        top._subparsers._group_actions[0].choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    missing = missing_extra(args.command)
    if missing and not EXTRAS[args.command][2]:
        print(f"simplex-edu {args.command}: {missing}", file=sys.stderr)
        return 1
    try:
        code = args.run(args)
        if missing and code == 0:  # done without the extra, which the next step needs: said last, where it is seen
            print(f"simplex-edu {args.command}: {missing}", file=sys.stderr)
        return code
    except CommandError as error:
        print(f"simplex-edu {args.command}: {error}", file=sys.stderr)
    except OSError as error:  # permissions, a full disk, a vanished folder: the system's reason, in one line
        where = f" ({error.filename})" if error.filename else ""
        print(f"simplex-edu {args.command}: {error.strerror or error}{where}", file=sys.stderr)
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's usual exit code for it
        print(f"\nsimplex-edu {args.command}: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
