"""What every ``simplex-edu`` subcommand module shares.

A module that adds subcommands defines ``register(commands)``: for each command it calls
``commands.add_parser(...)``, adds its options (each with a ``help``), and sets ``run=`` a function taking the
parsed arguments and returning the exit code. ``cli.py`` lists the modules. A failure the user can act on is
raised as ``CommandError`` (or is an ``OSError``): the command prints one line and exits with 1.
"""

from __future__ import annotations


class CommandError(Exception):
    """A failure the user can act on: ``simplex-edu`` prints its message on one line and exits with 1."""
