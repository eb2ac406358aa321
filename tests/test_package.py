"""The course anywhere: the wheel carries the course and works from a fresh environment outside the checkout,
and the Colab setup cell installs the course (and nothing Colab already has) in a simulated Colab.

Both fresh environments are throwaway venvs that borrow this test environment's libraries (torch, Jupyter, ...)
through a folder of links, without its own simplex-edu: offline, quick, and this environment is never modified.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

from simplex_edu import address, authoring

ROOT = Path(__file__).resolve().parents[1]
NOT_SHIPPED = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "test-artifacts",
                                     ".ipynb_checkpoints", "simplex-edu-lessons")
BUILD = "from setuptools import build_meta as b; import sys; print(getattr(b, sys.argv[1])(sys.argv[2]))"


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_subpackage_is_packaged():
    """pyproject lists packages by hand (the course folders are mapped in): a new sub-package must be listed."""
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "simplex_edu").rglob("*")
             if p.is_dir() and p.name != "__pycache__" and any(f.is_file() for f in p.iterdir())}
    assert found | {"simplex_edu"} <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"
    mapped = _pyproject()["tool"]["setuptools"]["package-dir"]
    assert mapped == {f"simplex_edu.course.{kind}": kind for kind in ("lessons", "solutions", "site")}


def test_pyproject_and_readme_use_the_one_address():
    urls = _pyproject()["project"]["urls"]
    assert set(urls.values()) == {address.repository_url()}
    readme = (ROOT / "README.md").read_text()
    assert address.readme_badges() in readme, "README badges: paste address.readme_badges()"
    assert _pyproject()["project"]["license"] == "MIT" and "MIT License" in (ROOT / "LICENSE").read_text()


def test_a_checkout_uses_its_own_current_notebooks():
    """In the editable install the tests run in, start and list read the checkout's folders, not a copy."""
    from simplex_edu import launcher

    assert launcher.course_folder("lessons") == ROOT / "lessons"
    assert launcher.course_folder("solutions") == ROOT / "solutions"


def _borrowing_venv(folder: Path) -> Path:
    """A new venv whose only extra libraries are this environment's, minus simplex-edu; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    own_site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    borrowed = folder / "borrowed"
    borrowed.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(("simplex_edu", "simplex-edu", "__editable__")) and entry.suffix != ".pth":
            (borrowed / entry.name).symlink_to(entry)
    (own_site / "borrowed.pth").write_text(f"{borrowed}\n")  # after its own site-packages: what it installs wins
    return python


def _kernel(folder: Path, python: Path, startup: str = "") -> dict[str, str]:
    """Environment variables under which kernel 'fresh' runs ``python`` (with an IPython startup file)."""
    spec = folder / "jupyter" / "kernels" / "fresh"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh", "language": "python"}))
    ipython = folder / "ipython"
    (ipython / "profile_default" / "startup").mkdir(parents=True)
    (ipython / "profile_default" / "startup" / "00-startup.py").write_text(startup)
    return {"JUPYTER_PATH": str(folder / "jupyter"), "JUPYTER_DATA_DIR": str(folder / "jupyter-data"),
            "IPYTHONDIR": str(ipython), "PYTHONNOUSERSITE": "1"}


RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
notebook.cells.append(nbformat.v4.new_code_cell("import simplex_edu; print('FROM', simplex_edu.__file__)"))
NotebookClient(notebook, timeout=300, kernel_name="fresh", resources={"metadata": {"path": sys.argv[2]}}).execute()
print(notebook.cells[-1].outputs[0]["text"].strip())
"""


def _run_notebook(python: Path, notebook: Path, env: dict[str, str]) -> str:
    """Run a notebook top to bottom in kernel 'fresh'; return where its kernel imported simplex_edu from."""
    result = subprocess.run([python, "-c", RUN_NOTEBOOK, str(notebook), str(notebook.parent)], capture_output=True,
                            text=True, env={**os.environ, **env}, cwd=notebook.parent, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result.stdout.strip().splitlines()[-1]


def _site_listing() -> list[str]:
    site = Path(sysconfig.get_paths()["purelib"])
    return sorted(f"{p.name} {p.stat().st_mtime_ns}" for p in site.iterdir())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The course's wheel, built sdist → wheel as `python -m build` does."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "checkout"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    dist = tmp_path / "dist"
    sdist = subprocess.run([sys.executable, "-c", BUILD, "build_sdist", str(dist)], cwd=source, capture_output=True,
                           text=True, check=True).stdout.strip().splitlines()[-1]
    with tarfile.open(dist / sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    unpacked = tmp_path / "unpacked" / sdist.removesuffix(".tar.gz")
    wheel = dist / subprocess.run([sys.executable, "-c", BUILD, "build_wheel", str(dist)], cwd=unpacked,
                                  capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    print(f"wheel {wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB; sdist {(dist / sdist).stat().st_size / 1e6:.2f} MB")
    return wheel


def test_the_wheel_carries_the_course_and_runs_outside_the_checkout(wheel, tmp_path):
    """The wheel installed in a fresh venv: list, start, then run lesson 00."""
    before = _site_listing()
    with zipfile.ZipFile(wheel) as archive:  # the packaged course is the checkout's, byte for byte
        names = set(archive.namelist())
        for kind in ("lessons", "solutions"):
            for notebook in sorted((ROOT / kind).glob("[0-9][0-9]_*.ipynb")):
                packaged = archive.read(f"simplex_edu/course/{kind}/{notebook.name}")
                assert packaged == notebook.read_bytes(), f"the wheel's {kind}/{notebook.name} drifted"
        assert any(name.endswith("licenses/LICENSE") for name in names)
        for source in sorted(p for p in (ROOT / "site").rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            packaged = archive.read(f"simplex_edu/course/site/{source.relative_to(ROOT / 'site').as_posix()}")
            assert packaged == source.read_bytes(), f"the wheel's site/{source.name} drifted"

    python = _borrowing_venv(tmp_path / "venv")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True)
    command = tmp_path / "venv" / "bin" / "simplex-edu"
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    listed = subprocess.run([command, "list"], cwd=elsewhere, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    for notebook in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")):
        assert notebook.name in listed.stdout
    assert listed.stdout.count(" min  ") == len(list((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")))

    for flags, folder in (([], "simplex-edu-lessons"), (["--solutions"], "simplex-edu-solutions")):
        started = subprocess.run([command, "start", "--no-open", *flags], cwd=elsewhere, capture_output=True, text=True)
        assert started.returncode == 0, started.stderr
        kind = "solutions" if flags else "lessons"
        copied = sorted(p.name for p in (elsewhere / folder).glob("*.ipynb"))
        assert copied == sorted(p.name for p in (ROOT / kind).glob("[0-9][0-9]_*.ipynb"))

    # site and classroom read the course the wheel carries; without their extra each says what to install
    course = tmp_path / "venv" / "lib"
    where = subprocess.run([python, "-c", "from simplex_edu import cli, site; print(site.ASSETS); "
                            "print(cli.parser('site').parse_args(['site', '--out', 'x']).lessons)"],
                           cwd=elsewhere, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(course) and Path(p).parent.name == "course" for p in where), where
    if importlib.util.find_spec("sphinx") is None:  # the test extra only: one line, what to install (a build from
        # the wheel with the docs extra would execute every lesson: minutes)
        built = subprocess.run([command, "site", "--out", "site"], cwd=elsewhere, capture_output=True, text=True)
        assert built.returncode == 1 and built.stderr.count("\n") == 1, built.stderr
        assert 'pip install "simplex-edu[docs] @ git+https://' in built.stderr and not (elsewhere / "site").exists()
    graded = subprocess.run([command, "classroom", "course"], cwd=elsewhere, capture_output=True, text=True)
    assert graded.returncode == 0 and (elsewhere / "course" / "source" / "00_welcome").is_dir(), graded.stderr
    assert ("teach extra" in graded.stderr) == (importlib.util.find_spec("nbgrader") is None), graded.stderr

    env = _kernel(tmp_path, python)
    origin = _run_notebook(python, elsewhere / "simplex-edu-lessons" / "00_welcome.ipynb", env)
    assert origin.startswith(f"FROM {tmp_path / 'venv'}"), origin  # the wheel's package, not the checkout's
    assert _site_listing() == before, "the test environment was modified"


CPU_TORCH = ".venv/bin/pip install --no-deps --index-url https://download.pytorch.org/whl/cpu "


def _pip_report(python: Path, args: list[str], report: Path) -> list[tuple[str, str]]:
    """(name, version) of what ``pip install ARGS`` would install into ``python``'s venv (a dry run)."""
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--dry-run", "-q",
                             "--report", str(report), *args], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PIP_RETRIES": "0"})  # offline, the CPU index fails at once
    assert result.returncode == 0, result.stderr[-3000:]
    return [(item["metadata"]["name"].lower(), item["metadata"]["version"])
            for item in json.loads(report.read_text())["install"]]


def test_every_install_route_takes_the_tested_cpu_torch(wheel, tmp_path):
    """Each README route installs torch alone from the CPU index first; the route without a checkout, resolved
    in a fresh venv (the git URL replaced by the wheel built from it), adds no CUDA and no other torch."""
    import shlex

    blocks = re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())
    routes = [block.split(" && ") for block in blocks if block.startswith("python3 -m venv .venv && ")]
    assert len(routes) == 3 and all(route[1].startswith(CPU_TORCH) for route in routes), routes
    pinned = re.search(r"^torch==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    anywhere, = [route for route in routes if "git+https" in route[2]]
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    torch_step = _pip_report(python, shlex.split(anywhere[1])[2:], tmp_path / "torch.json")
    assert [(name, version.split("+")[0]) for name, version in torch_step] == [("torch", pinned)], torch_step

    # torch as the first step leaves it: this environment's own copy of the same CPU build, linked in
    torch = metadata.distribution("torch")
    assert torch.version.split("+")[0] == pinned
    borrowed = tmp_path / "borrowed"
    borrowed.mkdir()
    for entry in (Path(torch.locate_file("torch")), Path(torch.locate_file(f"torch-{torch.version}.dist-info"))):
        (borrowed / entry.name).symlink_to(entry)
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "borrowed.pth").write_text(f"{borrowed}\n")
    course_args = [str(wheel) if "git+https" in arg else arg for arg in shlex.split(anywhere[2])[2:]]
    course_step = _pip_report(python, course_args, tmp_path / "course.json")
    print(f"the route without a checkout installs {len(course_step)} packages after torch")
    unwanted = [item for item in course_step if item[0].startswith(("nvidia-", "cuda-", "triton", "torch"))]
    assert not unwanted, f"the install after torch would add {unwanted}"
    assert ("simplex-edu", "0.1.0") in course_step


def test_colab_setup_cell_installs_the_course_and_nothing_colab_has(tmp_path):
    """A simulated Colab (a `google.colab` module, the checkout as a git repository) runs lesson 00 through its
    setup cell: the course package is installed from git, torch and Jupyter stay Colab's own."""
    if not shutil.which("git"):
        pytest.skip("needs git: Colab's setup cell installs the course from its git repository")
    before = _site_listing()
    repository = tmp_path / "repository"
    shutil.copytree(ROOT, repository, ignore=NOT_SHIPPED)  # the working tree as it is, committed
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", str(repository)]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run([*git, *step], check=True, capture_output=True)

    lesson = nbformat.read(ROOT / "lessons" / "00_welcome.ipynb", as_version=4)
    setup = next(c for c in lesson.cells if c.cell_type == "code")
    assert setup.source == authoring.setup_source() and address.pip_requirement() in setup.source
    # `file://localhost/...`: the packaging that older pips vendor rejects a git+file URL with an empty host.
    local = f"simplex-edu @ git+file://localhost{repository}"
    setup.source = setup.source.replace(address.pip_requirement(), local)
    work = tmp_path / "content"
    work.mkdir()
    nbformat.write(lesson, work / "00_welcome.ipynb")

    python = _borrowing_venv(tmp_path / "colab")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    assert subprocess.run([python, "-c", "import simplex_edu"], capture_output=True, cwd=tmp_path).returncode != 0
    env = _kernel(tmp_path, python, startup="import sys, types\nsys.modules['google.colab'] = "
                                            "types.ModuleType('google.colab')  # what the setup cell looks for\n")
    env.update(PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0")  # offline: build with the setuptools already here
    origin = _run_notebook(python, work / "00_welcome.ipynb", env)
    assert origin.startswith(f"FROM {site}"), origin
    listed = subprocess.run([python, "-m", "simplex_edu.cli", "list"], cwd=work, capture_output=True, text=True)
    assert listed.returncode == 0 and "05_belief_state_geometry.ipynb" in listed.stdout, listed.stderr
    installed = {p.name.split("-")[0].lower() for p in site.iterdir() if p.name != "borrowed.pth"}
    assert installed == {"simplex_edu"}, f"the setup cell installed more than the course package: {installed}"
    assert _site_listing() == before, "the test environment was modified"
