"""The learner's commands: ``simplex-edu list`` shows the lessons, ``simplex-edu start`` copies them and opens them.

The lessons (and the worked solutions) come from the installed package: in a checkout the checkout's own
``lessons/`` and ``solutions/``, in a pip install the copies the wheel carries in ``simplex_edu/course/``.

``start`` never overwrites anything the learner changed. It copies what is missing, updates only files it can
prove the learner never touched (their digest is the one it recorded in the folder's manifest when it copied
them), and with ``--fresh`` keeps each changed file beside the fresh copy under a name that never existed before.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import webbrowser
from pathlib import Path
from typing import Any

from simplex_edu.command import CommandError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
LESSONS, SOLUTIONS = "lessons", "solutions"
MANIFESTS = {LESSONS: ".simplex-edu.json", SOLUTIONS: ".simplex-edu-solutions.json"}
DEFAULT_DIRS = {LESSONS: "simplex-edu-lessons", SOLUTIONS: "simplex-edu-solutions"}
NOTEBOOKS = "[0-9][0-9]_*.ipynb"
_TIME = re.compile(r"Time:\s*~?\s*(\d+)\s*min", re.I)
REPORT_KEYS = ("copied", "updated", "unchanged", "kept", "linked", "invalid", "backed_up", "problems")


def course_folder(kind: str = LESSONS) -> Path:
    """Where the installed course keeps its ``lessons`` or ``solutions``.

    A checkout (an editable install) uses its own folders, so authors see their current notebooks; an installed
    wheel uses the copies it carries.
    """
    if (REPO_DIR / "pyproject.toml").is_file() and (REPO_DIR / kind).is_dir():
        return REPO_DIR / kind
    return PACKAGE_DIR / "course" / kind


def course_notebooks(kind: str = LESSONS) -> list[Path]:
    """The course's notebooks of one kind, in order; a one-line error if the installation has none."""
    folder = course_folder(kind)
    notebooks = sorted(folder.glob(NOTEBOOKS))
    if not notebooks:
        raise CommandError(f"no {kind} found in {folder}: this installation of simplex-edu lacks the course; "
                           "reinstall it (`pip install --force-reinstall simplex-edu`, or `pip install -e .` in a checkout)")
    return notebooks


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_notebook(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_bytes()), dict)
    except ValueError:  # not JSON, or not UTF-8
        return False


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a failure never leaves half a file behind."""
    temporary = path.with_name(f".{path.name}.simplex-edu-partial")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _backup(mine: Path, stamp: str) -> Path:
    """Copy the learner's file to ``NN_name.mine-STAMP[-k].ipynb``, a name created here and nowhere else."""
    data = mine.read_bytes()
    for count in itertools.count(1):
        backup = mine.with_name(f"{mine.stem}.mine-{stamp}{'' if count == 1 else f'-{count}'}{mine.suffix}")
        try:
            with open(backup, "xb") as file:  # exclusive: fails rather than replace an earlier backup
                file.write(data)
            return backup
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def read_manifest(path: Path) -> dict[str, str] | None:
    """The digests ``start`` recorded for the files it copied: {} if there is no manifest, None if unreadable."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except ValueError:  # empty, truncated, not JSON, not UTF-8
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def _check_target(target: Path, kind: str) -> None:
    if target.is_symlink() and not target.exists():
        raise CommandError(f"{target} is a broken symbolic link (to {os.readlink(target)}): remove it or give "
                           "another folder")
    if target.exists() and not target.is_dir():
        raise CommandError(f"{target} is a file, not a folder: give another folder (simplex-edu start OTHER_DIR)")
    for other, manifest in MANIFESTS.items():
        if other != kind and (target / manifest).exists():
            raise CommandError(f"{target} holds the course's {other}; put the {kind} in another folder "
                               f"(the default is {DEFAULT_DIRS[kind]})")


def copy_course(source: list[Path], target: Path, fresh: bool = False, kind: str = LESSONS) -> dict[str, list[str]]:
    """Copy notebooks into ``target`` without ever overwriting a learner's changes; return what happened."""
    _check_target(target, kind)
    target.mkdir(parents=True, exist_ok=True)
    manifest_path = target / MANIFESTS[kind]
    manifest = read_manifest(manifest_path)
    if manifest is None:  # rebuild it from the disk: only files identical to the course count as ours
        rebuilt = {p.name: _digest(p) for p in source if (target / p.name).is_file()
                   and not (target / p.name).is_symlink() and _digest(target / p.name) == _digest(p)}
        _write_new(manifest_path, json.dumps(rebuilt, indent=1, sort_keys=True).encode())
        raise CommandError(f"{manifest_path} (the record of what start copied) was unreadable; rebuilt it from the "
                           "files on disk, counting every lesson that differs from the course as yours. Run the "
                           "command again")
    recorded = dict(manifest)
    report: dict[str, list[str]] = {key: [] for key in REPORT_KEYS}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for lesson in source:
        mine, new_digest = target / lesson.name, _digest(lesson)
        if mine.is_symlink() or (mine.exists() and not mine.is_file()):  # the learner's doing: never written
            if mine.is_file():
                report["unchanged" if _digest(mine) == new_digest else "linked"].append(lesson.name)
                continue
            what = "not a file" if mine.exists() else "a broken symbolic link"
            report["problems"].append(f"{mine} is {what}: left it alone (remove or rename it to get the lesson)")
            continue
        if not mine.exists():
            report["copied"].append(lesson.name)
        elif (digest := _digest(mine)) == new_digest:
            report["unchanged"].append(lesson.name)
            manifest[lesson.name] = new_digest
            continue
        elif digest == manifest.get(lesson.name):  # the learner never touched it: safe to update
            report["updated"].append(lesson.name)
        else:
            if not _is_notebook(mine):
                report["invalid"].append(lesson.name)
            if not fresh:
                report["kept"].append(lesson.name)
                continue
            report["backed_up"].append(_backup(mine, stamp).name)
        _write_new(mine, lesson.read_bytes())
        manifest[lesson.name] = new_digest
    if manifest != recorded or not manifest_path.exists():  # an up-to-date read-only folder still opens
        _write_new(manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return report


def copy_lessons(source: Path, target: Path, fresh: bool = False) -> dict[str, list[str]]:
    """Copy the lessons in folder ``source`` into ``target`` (see ``copy_course``)."""
    return copy_course(sorted(source.glob(NOTEBOOKS)), target, fresh=fresh)


def lesson_index(notebooks: list[Path]) -> list[tuple[str, str, int | None]]:
    """(file name, title, minutes) for every lesson, read from its first heading and 'Time: ~N min'."""
    index = []
    for path in notebooks:  # plain JSON, not nbformat: `list` starts in a fraction of a second
        cells = json.loads(path.read_bytes())["cells"][:4]
        intro = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        title = next((line.lstrip("# ").strip() for line in intro.splitlines() if line.startswith("# ")), path.stem)
        minutes = _TIME.search(intro)
        index.append((path.name, title, int(minutes.group(1)) if minutes else None))
    return index


def _print_report(report: dict[str, list[str]], target: Path, kind: str) -> None:
    labels = {"copied": "copied", "updated": "updated (you had not changed them)", "unchanged": "already up to date",
              "kept": "kept YOUR version (you changed it; `--fresh` puts the course's copy in its place and keeps "
                      "yours beside it)",
              "linked": "a symbolic link of yours, left as it is (even with --fresh)",
              "invalid": "not a valid notebook (not JSON), kept as it is",
              "backed_up": "your old version kept as"}
    print(f"{kind.capitalize()} in {target}:")
    for key, label in labels.items():
        if report[key]:
            print(f"  {label}: {', '.join(report[key])}")
    for problem in report["problems"]:
        print(f"simplex-edu start: {problem}", file=sys.stderr)


def _run_list(args: argparse.Namespace) -> int:
    index = lesson_index(course_notebooks(LESSONS))
    width = max(len(name) for name, _, _ in index)
    for name, title, minutes in index:
        print(f"{name:<{width}} {('~%d min' % minutes) if minutes else '':>8}  {title}")
    print("Worked solutions: `simplex-edu start --solutions` copies them into a folder of their own.")
    return 0


def _run_start(args: argparse.Namespace) -> int:
    kind = SOLUTIONS if args.solutions else LESSONS
    target = Path(args.dir or DEFAULT_DIRS[kind]).absolute()
    report = copy_course(course_notebooks(kind), target, fresh=args.fresh, kind=kind)
    _print_report(report, target, kind)
    if report["problems"]:
        return 1
    if args.no_open:
        return 0
    running = running_server(target)
    if running:  # a second server on the same notebooks would let two kernels write one file
        url = f"{running['url'].rstrip('/')}/lab?token={running.get('token', '')}"
        print(f"JupyterLab already runs on {target} (process {running['pid']}): opening it, not starting another. "
              f"Its address: {url}")
        webbrowser.open(url)
        return 0
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={target}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers (Docker, some cloud notebooks) run as root
        command.append("--allow-root")
    # So `!simplex-edu ...` in a notebook finds this installation even when its environment was never activated.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    return run_jupyterlab(command, env)


def running_server(folder: Path) -> dict[str, Any] | None:
    """The running Jupyter server whose root is ``folder`` (from the ``jpserver-*.json`` files every Jupyter
    server writes into Jupyter's runtime folder while it runs), or None."""
    from jupyter_core.paths import jupyter_runtime_dir  # not jupyter_server.serverapp: 5 s to import under load
    from jupyter_server.utils import check_pid

    for path in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            info = json.loads(path.read_bytes())
        except (OSError, ValueError):  # being written, or removed meanwhile
            continue
        if isinstance(info, dict) and "pid" in info and check_pid(info["pid"]) \
                and Path(info.get("root_dir", "")).resolve() == folder.resolve():
            return info
    return None


def run_jupyterlab(command: list[str], env: dict[str, str], grace: float = 30) -> int:
    """Run JupyterLab until it exits, or until Ctrl-C: then stop it cleanly (kernels shut down, its runtime file
    removed) and say so in one line."""
    # Its own session on POSIX: the terminal's Ctrl-C reaches only this process, which then stops JupyterLab with
    # SIGTERM (a Ctrl-C of its own would ask "Shutdown this Jupyter server (y/[n])?").
    # A shell starts background jobs with SIGINT ignored, and Python then never raises KeyboardInterrupt: a SIGINT
    # (only the foreground job gets the terminal's) must stop JupyterLab however this process was started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    server = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        return server.wait()
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        try:
            server.terminate()
            try:
                server.wait(grace)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
        print("\nsimplex-edu start: stopped JupyterLab; the same command starts it again")
        return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the learner's commands: start and list."""
    start = commands.add_parser(
        "start", help="copy the lessons into a folder and open JupyterLab there",
        description="Copy the course's lessons (from this installation of simplex-edu) into a folder and open "
                    "JupyterLab there. Lessons you changed are never overwritten.")
    start.add_argument("dir", nargs="?", metavar="DIR",
                       help=f"working folder (default: {DEFAULT_DIRS[LESSONS]}, or {DEFAULT_DIRS[SOLUTIONS]} "
                            "with --solutions)")
    start.add_argument("--fresh", action="store_true",
                       help="replace the lessons you changed with the installed course's copies; keep yours beside "
                            "them as NN_name.mine-DATE.ipynb")
    start.add_argument("--solutions", action="store_true",
                       help="copy the worked solutions (every exercise solved) instead, into their own folder")
    start.add_argument("--no-open", action="store_true", help="copy only; do not start JupyterLab")
    start.set_defaults(run=_run_start)
    lister = commands.add_parser("list", help="list the lessons with their time estimates",
                                 description="List the lessons this installation carries, with time estimates.")
    lister.set_defaults(run=_run_list)
