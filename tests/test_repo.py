"""The delivery: README commands match CI, the Binder environment renders with repo2docker's own detection."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    open_command, test_command = _readme_commands()[:2]
    assert open_command.endswith("simplex-edu start")
    assert test_command.endswith("python -m pytest")
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines, "`.ci/run` must run the README's test command exactly as written"


def test_readme_lists_every_lesson():
    readme = (ROOT / "README.md").read_text()
    for lesson in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")):
        assert f"(lessons/{lesson.name})" in readme, f"README's lesson table is missing {lesson.name}"


def test_binder_renders_with_repo2docker(tmp_path):
    """`jupyter-repo2docker --no-build --debug` prints the Dockerfile it would build, without a Docker daemon."""
    repo2docker = shutil.which("jupyter-repo2docker") or str(Path(sys.executable).parent / "jupyter-repo2docker")
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv*", ".git", "*.egg-info", "__pycache__"))
    result = subprocess.run([repo2docker, "--no-build", "--debug", str(copy)], capture_output=True, text=True,
                            timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-2000:]
    assert "python=3.11" in output, "binder/runtime.txt should select Python 3.11"
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in output
    assert "./binder/postBuild" in output
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    assert re.search(r"^torch==[\d.]+\+cpu$", requirements, re.M), "Binder must get torch's CPU build"
    assert "download.pytorch.org/whl/cpu" in requirements
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text() and "-e ." in (ROOT / "binder" / "postBuild").read_text()


def test_binder_badge_opens_the_lessons():
    assert "urlpath=lab/tree/lessons" in (ROOT / "README.md").read_text()


def test_declared_floors_are_the_tested_minimum_versions():
    """pyproject's lower bounds are exactly the versions .ci/min-versions.sh installs (constraints-min.txt)."""
    import tomllib

    declared = {}
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        name, _, floor = requirement.partition(">=")
        declared[name.strip().lower()] = floor.strip()
    pinned = dict(re.findall(r"^([\w-]+)==([\w.]+)$", (ROOT / "constraints-min.txt").read_text(), re.M))
    for name, version in pinned.items():
        assert declared.get(name.lower()) is not None, f"{name} is pinned in constraints-min.txt but not a dependency"
        assert tuple(map(int, version.split("."))) == tuple(map(int, (declared[name.lower()] + ".0").split(".")[:3])), \
            f"pyproject allows {name}>={declared[name.lower()]} but CI's minimum run tests {version}"
    untested = set(declared) - {n.lower() for n in pinned} - {"torch"}  # torch: pinned in constraints.txt
    assert not untested, f"no minimum-versions run for {sorted(untested)}"
    torch_pin = re.search(r"^torch==([\d.]+)", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert declared["torch"] == torch_pin.rsplit(".", 1)[0], "torch's floor should be the tested release"
