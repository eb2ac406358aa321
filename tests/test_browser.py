"""Every lesson's explorers, in JupyterLab, in headless Chromium: moved from the keyboard, each figure must redraw.

Unit tests prove the update functions and nbval proves the notebooks run headless; this proves what a learner
sees. For each lesson in ``lessons/`` whose code uses ``Explorer(`` (found anew at every run, so new lessons are
covered without edits): open it in JupyterLab (serving a temporary copy of the lessons, so autosave never touches
the repo), Run All, then, with keyboard events only, Tab to every control of every explorer and operate it: a
slider by an arrow key, a dropdown by End or Home, a toggle button by Space, a text box by typing a new value and
Enter (and, in a token box, a letters-only typo, which must give a short note and no traceback); the number
operated must equal the explorer's controls. The first move, and every toggle's and text box's, must change the
figure; its text alternative (the image's title) must be a sentence throughout; and no error, traceback in the log
console (where widget callbacks report) or widget-load failure may appear. Then axe-core checks the lesson's
outputs (every rule, every impact; JupyterLab's own chrome excluded), with colour-contrast shown to have checked
text: zero violations but upstream's one, ipywidgets' slider handle (noUiSlider) without a name
(https://github.com/leongersen/noUiSlider/issues/1223), allowed for that rule on that element only. On failure a
screenshot, with the log console open, is saved in ``test-artifacts/``.

Needs Debian's ``chromium`` and the Python ``playwright`` package (no browser download). Without them the tests
skip, unless ``SIMPLEX_EDU_REQUIRE_BROWSER=1`` (set in CI), where a missing browser fails.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import nbformat
import pytest

from test_accessibility import FILE_NAME

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("SIMPLEX_EDU_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REQUIRED = os.environ.get("SIMPLEX_EDU_REQUIRE_BROWSER", "") not in ("", "0")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
KERNEL_LABEL = "Python 3 (ipykernel)"  # the kernel name the status bar shows, from the kernelspec we write

# Bounded waits, in seconds. Generous against a busy 2-core machine; a healthy lesson takes far less.
SERVER_START = 90
PAGE_LOAD = 60
KERNEL_IDLE = 90
RUN_ALL = 180
WIDGET_RENDER = 30
FIGURE_REDRAW = 20

# What a learner would see go wrong: a traceback or error on stderr (JupyterLab renders error outputs with the
# stderr MIME type too), or a widget the front end could not show (ipywidgets draws an error icon in its place,
# or prints a message).
ERROR_PATTERN = re.compile(r"Traceback|\b\w*Error\b")
WIDGET_FAILURE = re.compile(r"Error displaying widget|Failed to load model")
FAILED_WIDGET = ".jupyter-widgets-error-widget"
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'


def lessons_with_explorers() -> list[Path]:
    """Every lesson notebook whose code cells build an ``Explorer``, in course order."""
    found = []
    for path in sorted(LESSONS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if any(c.cell_type == "code" and "Explorer(" in c.source for c in notebook.cells):
            found.append(path)
    return found


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (pip install playwright)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set SIMPLEX_EDU_CHROMIUM)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_jupyter_config(home: Path) -> dict[str, str]:
    """Private Jupyter config, data, settings and workspace folders; returns the environment that selects them.

    The kernelspec runs this interpreter (the repo's environment), and the news announcement, which would
    otherwise pop up over the corner of the page, is disabled.
    """
    dirs = {name: home / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    (dirs["config"] / "labconfig").mkdir()
    (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    kernel = dirs["data"] / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": KERNEL_LABEL, "language": "python"}))
    env = {key: value for key, value in os.environ.items() if key not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH")}
    env.update(JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
               JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
               JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]), IPYTHONDIR=str(dirs["ipython"]),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1",
               JUPYTER_PREFER_ENV_PATH="0")  # our data folder first, so our kernelspec is the one used
    env.pop("MPLBACKEND", None)  # the kernel picks the inline backend itself, as it does for a learner
    return env


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 serving a folder, with a token; ``stop`` ends it and its kernels."""

    def __init__(self, root: Path, env: dict[str, str], log: Path):
        self.root, self.port, self.token = root, free_port(), uuid.uuid4().hex
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={root}", "--ServerApp.terminals_enabled=False",
                   "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                   "--LabApp.extension_manager=readonly"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                self.api("GET", "status")
                return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"JupyterLab not ready after {SERVER_START} s:\n{self.log.read_text()[-3000:]}")

    def api(self, method: str, path: str) -> object:
        """One call to the server's REST API; the decoded JSON answer (None when empty)."""
        request = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def url(self, notebook: str, workspace: str) -> str:
        """The address that opens ``notebook`` in a fresh named workspace (no layout restored from a previous one)."""
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        """Stop every running kernel, so lessons don't pile up in memory."""
        for kind in ("sessions", "kernels"):  # a session owns its kernel; then any kernel left without one
            for item in self.api("GET", kind) or []:
                try:
                    self.api("DELETE", f"{kind}/{item['id']}")
                except urllib.error.HTTPError as error:
                    if error.code != 404:  # already gone is fine
                        raise

    def stop(self) -> None:
        """End the server, then anything left in its process group (kernels start their own sessions)."""
        import psutil

        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        try:
            self.shutdown_kernels()
        except OSError:
            pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(children, timeout=10)


@contextlib.contextmanager
def serve_lessons(prefix: str, configure: Callable[[dict, Path], None] | None = None) -> Iterator[JupyterLab]:
    """A JupyterLab on a temporary copy of ``lessons/`` (``configure(env, home)`` may adjust it first); stopped after."""
    reason = browser_missing()
    if reason:
        if REQUIRED:
            pytest.fail(f"SIMPLEX_EDU_REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        home = Path(tmp)
        shutil.copytree(LESSONS, home / "root" / "lessons", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        env = write_jupyter_config(home / "jupyter")
        if configure is not None:
            configure(env, home)
        for attempt in range(3):  # the free port can be taken before the server binds it; then try another
            try:
                server = JupyterLab(home / "root", env, home / f"server{attempt}.log")
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def jupyterlab() -> Iterator[JupyterLab]:
    """A JupyterLab server on a temporary copy of ``lessons/``, stopped when the module's tests end."""
    with serve_lessons("simplex-edu-browser-") as server:
        yield server


@pytest.fixture(scope="module")
def browser(jupyterlab: JupyterLab) -> Iterator[Browser]:
    """Headless Debian Chromium driven by playwright, closed when the module's tests end."""
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    try:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                          timeout=PAGE_LOAD * 1000)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        driver.stop()


@pytest.fixture
def page(browser: Browser, jupyterlab: JupyterLab) -> Iterator[Page]:
    """A fresh browser page that may only talk to the local server; its kernels are stopped afterwards."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WIDGET_RENDER * 1000)
    local = re.compile(rf"^(http|ws)://127\.0\.0\.1:{jupyterlab.port}/")
    context.route(lambda url: not local.match(url), lambda route: route.abort())  # no network: as on a workshop
    try:
        yield context.new_page()
    finally:
        context.close()
        jupyterlab.shutdown_kernels()


def error_outputs(page: Page) -> list[str]:
    """The text of every output showing a traceback or error, and of every widget that failed to render."""
    def texts(selector: str) -> list[str]:
        # textContent, not innerText: off-screen cells are not rendered, and innerText would read them as empty.
        return page.locator(f".jp-NotebookPanel:visible {selector}").evaluate_all(
            "nodes => nodes.map(n => n.textContent)")

    found = [text for text in texts(f".jp-OutputArea-output{STDERR}") if ERROR_PATTERN.search(text)]
    found += [text for text in texts(".jp-OutputArea-output") if WIDGET_FAILURE.search(text)]
    found += [f"a widget failed to render ({text.strip()}; see the browser errors)" for text in texts(FAILED_WIDGET)]
    return [text[-2000:] for text in found]


def wait_for_kernel_idle(page: Page, timeout: float) -> None:
    """Wait until the status bar shows this lesson's kernel as idle (the toolbar says idle too early)."""
    page.locator("#jp-main-statusbar").get_by_text(re.compile(rf"{re.escape(KERNEL_LABEL)}\s*\|\s*Idle")).wait_for(
        timeout=timeout * 1000)


def run_all(page: Page) -> None:
    """Run every cell through the Run menu, as a learner would, and wait until the last one has finished."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # Queued cells show [*]; the run is over when none does and some have an execution count.
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]
                .map(p => p.textContent.trim());
            return !prompts.some(p => p.includes('*')) && prompts.some(p => /\\[\\d+\\]/.test(p));
        }""", timeout=RUN_ALL * 1000, polling=250)
    wait_for_kernel_idle(page, KERNEL_IDLE)


def scroll_to(element: Locator, block: str = "start") -> None:
    """Bring an element into the notebook's view (``block``: where, as for ``scrollIntoView``).

    Off-screen cells are skipped by the browser's renderer (JupyterLab's default ``content-visibility`` mode),
    so playwright sees them as invisible and would not scroll to them itself.
    """
    element.evaluate("(e, block) => e.scrollIntoView({block})", block)


# What has the keyboard's focus, relative to an explorer: one of its controls (a slider's handle, a dropdown, a
# toggle button, a text box; named by kind and label), another of its elements (a slider's editable readout), or
# none of its.
FOCUSED_JS = """explorer => {
    const e = document.activeElement;
    if (!explorer.contains(e)) return 'outside';
    const label = widget => e.closest(widget).querySelector('label').textContent;
    if (e.matches('.noUi-handle')) return 'slider ' + label('.widget-slider');
    if (e.matches('select')) return 'dropdown ' + label('.widget-dropdown');
    if (e.matches('.widget-toggle-button')) return 'toggle ' + e.textContent.trim();  // its label is its text
    if (e.matches('.widget-text input')) return 'text box ' + label('.widget-text');
    return 'other';
}"""
# The value the focused control shows (a slider's readout, a dropdown's chosen option, a toggle's state, a text).
FOCUSED_VALUE_JS = """() => {
    const e = document.activeElement;
    if (e.matches('select')) return e.options[e.selectedIndex].text;
    if (e.matches('.widget-toggle-button')) return e.classList.contains('mod-active') ? 'on' : 'off';
    if (e.matches('input')) return e.value;
    return e.closest('.widget-slider').querySelector('.widget-readout').textContent;
}"""
# How many controls an explorer has, of any kind: the widgets in its first row (``Explorer`` puts them there).
COUNT_CONTROLS_JS = "explorer => explorer.firstElementChild.children.length"
KINDS = ("slider", "dropdown", "toggle", "text box")  # how FOCUSED_JS names each kind of control
# Kinds of control whose every move must redraw the figure (a slider's or dropdown's need not: see the test).
REDRAWING = ("toggle", "text box")
TYPO = "abc"  # a letters-only typo for a token box: the explorer must say it ignored it, not raise


def tab_to_control(page: Page, explorer: Locator, from_start: bool = True) -> str | None:
    """Press Tab until one of the explorer's controls has focus; None if Tab leaves the explorer first.

    ``from_start``: focus the explorer itself first (programmatically, no click), as a learner's Tab arriving
    from the cell above would, so the next Tab reaches its first control. Returns what has focus (``FOCUSED_JS``).
    """
    if from_start:
        explorer.evaluate("e => { e.tabIndex = -1; e.focus(); }")
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = explorer.evaluate(FOCUSED_JS)
        if focused == "outside":
            return None
        if focused != "other":
            return focused
    raise AssertionError("12 Tabs neither reached a control nor left the explorer")


def type_into_focused(page: Page, text: str) -> None:
    """Replace the focused text box's text by ``text`` and press Enter (the explorer's boxes send on Enter)."""
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def move_focused_control(page: Page, focused: str) -> str:
    """Change the focused control from the keyboard; returns the change, e.g. ``slider points '3' -> '4'``.

    A slider: one step with an arrow key (back, if at its end). A dropdown: End or Home, since headless
    Chromium's arrow keys open the option list (a popup outside the page); End chooses its last option (Home its
    first, if the last is chosen), as with the list closed. A toggle button: Space. A text box: its text reversed
    (a new value from the same characters, so a token box stays valid), typed, then Enter.
    """
    before = page.evaluate(FOCUSED_VALUE_JS)
    if focused.startswith("toggle"):
        page.keyboard.press("Space")
    elif focused.startswith("text box"):
        type_into_focused(page, before[::-1] if before[::-1] != before else before + before[:1])
    else:
        keys = ("End", "Home") if focused.startswith("dropdown") else ("ArrowRight", "ArrowLeft")
        page.keyboard.press(keys[0])
        if page.evaluate(FOCUSED_VALUE_JS) == before:  # already at its end
            page.keyboard.press(keys[1])
    after = page.evaluate(FOCUSED_VALUE_JS)
    assert after != before, f"{focused}: the keyboard did not change it from {before!r}"
    return f"{focused} {before!r} -> {after!r}"


def text_alternative(explorer: Locator, timeout: float = 0) -> str:
    """The explorer's figure's text alternative (its image's title), waiting up to ``timeout`` s for one."""
    image = explorer.locator("img").last
    deadline = time.monotonic() + timeout
    while True:
        title = image.get_attribute("title") or ""
        if title or time.monotonic() >= deadline:
            return title
        time.sleep(0.1)


def is_sentence(text: str) -> bool:
    """Whether a text alternative reads as a sentence: five words or more, and no file name or hash."""
    return len(text.split()) >= 5 and not FILE_NAME.search(text)


# Upstream, not the course's, and the one violation allowed: ipywidgets draws a slider's handle with noUiSlider,
# whose role="slider" element has no accessible name (the slider's label is not associated with it): axe-core's
# aria-input-field-name. Reported to noUiSlider as https://github.com/leongersen/noUiSlider/issues/1223 (its
# maintainer points to the handleAttributes option, which ipywidgets' slider view does not set). Allowed narrowly:
# that rule, on a noUiSlider handle element only; any other node of that rule is the course's.
UPSTREAM_RULE = "aria-input-field-name"
UPSTREAM_ELEMENT = re.compile(r'^<div class="noUi-handle[ "][^>]*\brole="slider"')
OUTPUTS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea"
# axe-core's colour-contrast rule must have found this many text nodes clear in every lesson's outputs, so zero
# violations is not zero because nothing was checked (measured: 10, lesson 00, to 29, lesson 04).
MIN_OUTPUT_CONTRAST = 8
# Every node of every result type: axe-playwright-python's default keeps violations only (one node for any other
# rule), which would hide how many text nodes colour-contrast checked.
EVERY_NODE = {"resultTypes": ["violations", "incomplete", "passes"]}


def axe_report(results: dict) -> str:
    """One line per violated rule: its id, impact, how many elements, and the first element's selector."""
    return "\n".join(f"  {v['id']} ({v['impact']}): {len(v['nodes'])}× e.g. {v['nodes'][0]['target']} — {v['help']}"
                     for v in results["violations"])


def contrast_results(results: dict) -> tuple[int, int, int]:
    """colour-contrast's nodes in an axe-core result: (passed, incomplete (axe could not tell), violations)."""
    def nodes(kind: str) -> int:
        return sum(len(rule["nodes"]) for rule in results[kind] if rule["id"] == "color-contrast")
    return nodes("passes"), nodes("incomplete"), nodes("violations")


def is_upstream(rule: dict, node: dict) -> bool:
    """Whether one node of a violated rule is upstream's allowance: a noUiSlider handle without a name."""
    return rule["id"] == UPSTREAM_RULE and bool(UPSTREAM_ELEMENT.match(node["html"]))


def split_upstream(violations: list[dict]) -> tuple[list[dict], list[dict]]:
    """The violations split node by node into (the course's, upstream's), each rule keeping only its nodes."""
    parts: tuple[list[dict], list[dict]] = ([], [])
    for rule in violations:
        for side, nodes in enumerate(([n for n in rule["nodes"] if not is_upstream(rule, n)],
                                      [n for n in rule["nodes"] if is_upstream(rule, n)])):
            if nodes:
                parts[side].append({**rule, "nodes": nodes})
    return parts


def axe_on_outputs(page: Page) -> tuple[list[dict], list[dict], tuple[int, int, int]]:
    """axe-core, every rule, on the shown notebook's outputs only: (the course's violations, upstream's,
    colour-contrast's nodes as ``contrast_results`` counts them).

    JupyterLab's own chrome (menus, toolbars, prompts) is outside them; axe-core is the copy bundled with
    ``axe-playwright-python``, injected into the page (nothing fetched).
    """
    from axe_playwright_python.sync_playwright import Axe

    # axe-core checks no contrast on text it takes for clipped (measured: 0 to 2 text nodes in a lesson's outputs):
    # JupyterLab's shell sits, absolutely placed, in a 17-pixel-high container that hides its overflow, the
    # notebook's scroller clips the cells out of view, and off-screen cells are not rendered at all (inline
    # content-visibility). So, while axe-core runs, that container shows its overflow, every cell is rendered and
    # the window is as tall as the whole notebook.
    shown = page.add_style_tag(content=".jp-ThemedContainer:not(.jp-LabShell) { overflow: visible !important }"
                                       ".jp-Cell { content-visibility: visible !important; contain: none !important }")
    viewport = page.viewport_size
    scroller = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer")
    tall = scroller.evaluate("e => e.scrollHeight - e.clientHeight") + viewport["height"]
    page.set_viewport_size({"width": viewport["width"], "height": tall})
    try:
        page.wait_for_function("h => window.innerHeight === h", arg=tall)
        scroller.evaluate("e => e.scrollTop = 0")
        results = Axe().run(page, context={"include": [[OUTPUTS]]}, options=EVERY_NODE).response
    finally:
        page.set_viewport_size(viewport)
        shown.evaluate("style => style.remove()")
    return (*split_upstream(results["violations"]), contrast_results(results))


def log_console_errors(page: Page) -> list[str]:
    """Open the notebook's log console (where tracebacks from widget callbacks go) and return its errors."""
    console = page.locator(".jp-LogConsole")
    if not console.count():
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^View$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Show Log Console$")).click()
        console.first.wait_for(timeout=10_000)
    texts = console.first.locator(".jp-OutputArea-output").evaluate_all("nodes => nodes.map(n => n.innerText)")
    # A traceback's last lines name the error; that is what the failure message needs.
    return ["\n".join(text.strip().splitlines()[-4:]) for text in texts if ERROR_PATTERN.search(text)]


def save_screenshot(page: Page, name: str, focus: Locator) -> tuple[Path, list[str]]:
    """Save what the page shows, with the log console open and ``focus`` in view; also return the log's errors."""
    try:
        logged = log_console_errors(page)
        if focus.count():
            scroll_to(focus.first, "center")
    except Exception as problem:  # the screenshot matters more than the log console
        logged = [f"(could not read the log console: {problem})"]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    try:
        page.screenshot(path=str(path), timeout=15_000)
    except Exception as problem:  # keep the test's own failure as the one reported
        return Path(f"(no screenshot: {problem})"), logged
    return path, logged


FIGURE_DIGEST_JS = """async explorer => {
    // The explorer's figure is its last image (an Image widget's blob: URL, or a data: URL in an Output).
    const images = explorer.querySelectorAll('img');
    const img = images[images.length - 1];
    if (!img || !img.src) return null;
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let hash = 2166136261;  // FNV-1a: the figure's bytes, not its URL, so a mere re-render does not count
    for (const b of bytes) hash = Math.imul(hash ^ b, 16777619) >>> 0;
    return bytes.length + ':' + hash.toString(16);
}"""


def wait_for_figure(explorer: Locator, differs_from: str | None, timeout: float) -> str:
    """Wait until the explorer shows a figure whose bytes differ from ``differs_from``; return its digest."""
    deadline = time.monotonic() + timeout
    while True:
        digest = explorer.evaluate(FIGURE_DIGEST_JS)
        if digest is not None and digest != differs_from:
            return digest
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {'new ' if differs_from else ''}figure within {timeout} s")
        time.sleep(0.1)


def settled_figure(page: Page, explorer: Locator) -> str:
    """The explorer's figure once the kernel is idle and the figure has stopped changing (no redraw in flight)."""
    wait_for_kernel_idle(page, KERNEL_IDLE)
    digest, deadline = wait_for_figure(explorer, None, WIDGET_RENDER), time.monotonic() + FIGURE_REDRAW
    while time.monotonic() < deadline:
        time.sleep(0.3)  # a redraw's image reaches the page a moment after the kernel goes idle
        again = explorer.evaluate(FIGURE_DIGEST_JS)
        if again == digest:
            return digest
        digest = again
    raise TimeoutError(f"the figure kept changing for {FIGURE_REDRAW} s")


def type_typo(page: Page, explorer: Locator) -> str:
    """Type ``TYPO`` into the focused token box and Enter: the figure redraws and the explorer says, in a short
    note and not an error, what it ignored. Returns the note."""
    figure = settled_figure(page, explorer)
    type_into_focused(page, TYPO)
    wait_for_figure(explorer, figure, FIGURE_REDRAW)
    wait_for_kernel_idle(page, KERNEL_IDLE)
    message = explorer.locator(".simplex-explorer-error")
    message.get_by_text(re.compile(r"^Ignored .*\(a b c\)")).wait_for(timeout=FIGURE_REDRAW * 1000)
    note = message.inner_text().strip()
    assert len(note) <= 120 and not ERROR_PATTERN.search(note), f"the typo's note is no short message: {note!r}"
    return note


@pytest.mark.parametrize("lesson", lessons_with_explorers(), ids=lambda p: p.stem)
def test_explorers_redraw_in_jupyterlab(lesson: Path, jupyterlab: JupyterLab, page: Page) -> None:
    """Run the lesson in JupyterLab; every control of every explorer is operated from the keyboard (the first, a
    toggle and a text box redraw the figure; its text alternative a sentence throughout), with no errors; axe-core
    finds nothing but upstream's in the outputs, its colour-contrast rule having checked text."""
    page_errors: list[str] = []  # for the failure message: JupyterLab logs some harmless errors too
    page.on("pageerror", lambda error: page_errors.append(str(error)[:300]))
    page.on("console", lambda message: message.type == "error" and page_errors.append(message.text[:300]))
    (ARTIFACTS / f"browser-{lesson.stem}.png").unlink(missing_ok=True)  # a screenshot left means this run failed
    step, explorer, started = "open the lesson", None, time.monotonic()
    try:
        page.goto(jupyterlab.url(f"lessons/{lesson.name}", lesson.stem), timeout=PAGE_LOAD * 1000)
        step = "wait for the kernel"
        wait_for_kernel_idle(page, KERNEL_IDLE)
        step = "run all cells"
        ready = time.monotonic()
        run_all(page)
        ran = time.monotonic()
        # Every cell must be in the page, or an explorer or error out of view could go unseen (a windowing mode
        # that detaches off-screen cells would do that).
        attached, expected = page.locator(".jp-NotebookPanel:visible .jp-Cell").count(), len(nbformat.read(
            lesson, as_version=4).cells)
        if attached != expected:
            raise AssertionError(f"JupyterLab shows {attached} of the lesson's {expected} cells")
        errors = error_outputs(page)
        if errors:
            raise AssertionError("errors in the outputs after Run All:\n" + "\n---\n".join(errors))

        step = "find the explorers"
        explorers = page.locator(".jp-NotebookPanel:visible .simplex-explorer")
        explorers.first.wait_for(state="attached", timeout=WIDGET_RENDER * 1000)
        # Every move made; how many first moves changed the figure's text alternative; moves by kind of control;
        # what the explorers said of the typo typed into each token box.
        moves, changed, kinds, notes = [], 0, collections.Counter(), []
        for index in range(explorers.count()):
            explorer = explorers.nth(index)
            step = f"explorer {index + 1}: wait for its figure"
            scroll_to(explorer)
            before = wait_for_figure(explorer, None, WIDGET_RENDER)
            described = text_alternative(explorer, FIGURE_REDRAW)
            assert is_sentence(described), f"its figure's text alternative is no sentence: {described!r}"
            step = f"explorer {index + 1}: reach its first control with Tab"
            focused = tab_to_control(page, explorer)
            assert focused, "Tab left the explorer before reaching a control"
            operated, figure = [], before
            while focused:
                step = f"explorer {index + 1}: move the {focused} with the keyboard"
                # The first move, a toggle's and a text box's must redraw; a slider's or dropdown's after the first
                # need not (lesson 03's sampled chain can equal the most likely one).
                redraws = not operated or focused.startswith(REDRAWING)
                if redraws and operated:
                    figure = settled_figure(page, explorer)
                moved = move_focused_control(page, focused)
                if redraws:
                    step = f"explorer {index + 1}: redraw its figure after {moved}"
                    wait_for_figure(explorer, figure, FIGURE_REDRAW)
                now = text_alternative(explorer)
                assert is_sentence(now), f"after {moved}, its text alternative is no sentence: {now!r}"
                if not operated:
                    changed += now != described
                operated.append(moved)
                kinds[next(kind for kind in KINDS if focused.startswith(kind))] += 1
                if focused.startswith("text box"):
                    step = f"explorer {index + 1}: type the typo {TYPO!r} into its {focused}"
                    notes.append(type_typo(page, explorer))
                focused = tab_to_control(page, explorer, from_start=False)
            wait_for_kernel_idle(page, KERNEL_IDLE)
            assert is_sentence(text_alternative(explorer)), "after every move, its text alternative is no sentence"
            controls = explorer.evaluate(COUNT_CONTROLS_JS)
            assert len(operated) == controls, f"the keyboard operated {len(operated)} of its {controls} controls"
            moves += operated
        step = "axe-core on the lesson's outputs"
        moved_at = time.monotonic()
        ours, upstream, contrast = axe_on_outputs(page)
        if ours:
            raise AssertionError(f"axe-core violations in the outputs:\n{axe_report({'violations': ours})}")
        assert contrast[0] >= MIN_OUTPUT_CONTRAST, f"axe-core's colour-contrast passed only {contrast[0]} text nodes"
        checked = time.monotonic()
        step = "check outputs and the log console for errors"
        errors = error_outputs(page) + log_console_errors(page)
        if errors:
            raise AssertionError("errors after moving the explorers:\n" + "\n---\n".join(errors))
        done = time.monotonic()
        print(f"{lesson.name}: {explorers.count()} explorer(s) redrawn from the keyboard, {len(moves)} controls "
              f"operated ({', '.join(f'{n} {kind}' for kind, n in sorted(kinds.items()))}: {'; '.join(moves)}), "
              f"the first move changing the text alternative in {changed}; typo {TYPO!r}: {notes or 'no token box'}; "
              f"axe-core: no violation but upstream's ({axe_report({'violations': upstream}).strip() or 'none'}), "
              f"colour-contrast passed {contrast[0]} text nodes, {contrast[1]} undecided; {done - started:.0f} s "
              f"in all: open {ready - started:.0f} s, Run All {ran - ready:.0f} s, explorers {moved_at - ran:.1f} s, "
              f"axe-core {checked - moved_at:.1f} s")
    except Exception as failure:
        in_view = explorer or page.locator(f".jp-NotebookPanel:visible :is({FAILED_WIDGET}, {STDERR})")
        shot, logged = save_screenshot(page, f"browser-{lesson.stem}", in_view.first)
        raise AssertionError(
            f"{lesson.name}: failed at step '{step}' after {time.monotonic() - started:.0f} s: {failure}\n"
            f"screenshot: {shot}\nlog console errors: {logged}\nbrowser errors: {page_errors[-5:]}") from failure


EXPLORER_ERROR_CELL = """
import ipywidgets as W
from simplex_edu.widgets import Explorer

def compute(x):
    if x > 5:
        raise ValueError(f"x = {x} is beyond what this demo can draw")
    return x

def draw(fig, x):
    fig.axes[0].clear()
    fig.axes[0].plot([0, 1], [0, x])

Explorer(compute, draw, {"x": W.IntSlider(value=2, min=0, max=10, description="x")})
"""


def test_explorer_shows_its_error_and_recovers(jupyterlab: JupyterLab, page: Page) -> None:
    """A compute that raises for some slider values: the message appears in the explorer, the figure stays, and
    moving the slider back to values that work gives a new figure and removes the message."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(EXPLORER_ERROR_CELL)], metadata={
        "kernelspec": {"name": "python3", "display_name": KERNEL_LABEL, "language": "python"}})
    name = "explorer_error.ipynb"
    nbformat.write(notebook, jupyterlab.root / name)
    explorer = page.locator(".jp-NotebookPanel:visible .simplex-explorer")
    step = "open the notebook"
    try:
        page.goto(jupyterlab.url(name, "explorer-error"), timeout=PAGE_LOAD * 1000)
        wait_for_kernel_idle(page, KERNEL_IDLE)
        step = "run it"
        run_all(page)
        explorer.first.wait_for(state="attached", timeout=WIDGET_RENDER * 1000)
        scroll_to(explorer.first)
        first = wait_for_figure(explorer.first, None, WIDGET_RENDER)
        message = explorer.first.locator(".simplex-explorer-error")
        assert not message.is_visible()
        handle = explorer.first.locator(".noUi-handle").first
        step = "move the slider to a value whose compute raises"
        handle.focus()
        handle.press("End")  # x = 10
        message.get_by_text(re.compile(r"x = 10.*ValueError: x = 10 is beyond")).wait_for(
            timeout=FIGURE_REDRAW * 1000)
        assert explorer.first.evaluate(FIGURE_DIGEST_JS) == first, "the last good figure was not kept"
        step = "move the slider back to a value that works"
        handle.press("Home")  # x = 0
        wait_for_figure(explorer.first, first, FIGURE_REDRAW)
        message.wait_for(state="hidden", timeout=FIGURE_REDRAW * 1000)
        assert not log_console_errors(page), "the failure went to the log console instead of the explorer"
    except Exception as failure:
        shot, logged = save_screenshot(page, "browser-explorer-error", explorer.first)
        raise AssertionError(f"explorer error display: failed at step '{step}': {failure}\nscreenshot: {shot}\n"
                             f"log console errors: {logged}") from failure
