"""The simplex-edu command: argument parsing and dispatch only; each job lives in its own module.

To add a subcommand: write a module with ``register(commands)`` (see ``simplex_edu.command``), import it
below and add it to ``COMMAND_MODULES``.
"""

from __future__ import annotations

import argparse
import sys

from simplex_edu import authoring, classroom, launcher, site
from simplex_edu.command import CommandError
# Still importable from here, as before the split, for tools that call them as `cli.build(...)`.
from simplex_edu.authoring import BuildError, build, build_lesson, build_to_temp, stub_solutions  # noqa: F401
from simplex_edu.launcher import copy_lessons  # noqa: F401

# The learner's launcher first, then the authors' tools: the order `simplex-edu --help` lists them in.
COMMAND_MODULES = (launcher, authoring, classroom, site)


def parser() -> argparse.ArgumentParser:
    """The ``simplex-edu`` argument parser with every module's subcommands."""
    top = argparse.ArgumentParser(
        prog="simplex-edu",
        description="Where do you pay for an answer? Start the course's lessons, or (authors) build them.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simplex-edu`` command: a failure is one line on stderr and exit code 1."""
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except CommandError as error:
        print(f"simplex-edu {args.command}: {error}", file=sys.stderr)
    except OSError as error:  # permissions, a full disk, a vanished folder: the system's reason, in one line
        where = f" ({error.filename})" if error.filename else ""
        print(f"simplex-edu {args.command}: {error.strerror or error}{where}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
