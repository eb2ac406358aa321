"""Grading out of the student's reach (issue 20): the judge runs each check outside the student's kernel.

Under ``nbgrader autograde`` the kernel's own check outputs count for nothing: after the kernel finished, the
preprocessor :func:`judge_notebook` (in nbgrader's own process) runs every graded check again. For each exercise
it starts one fresh ``python -I`` runner that executes the notebook's imports and the student's answer cells up
to that check, with the exercise's reference refusing to run, the lesson's checks unimportable, and an audit
hook refusing the package's files, the course folder, /proc, gc, ctypes, writes and new processes. The check
itself runs here, in the judge: it computes the references, sends the runner each input, and gets back only
data (JSON, arrays as ``.npy`` bytes). Whatever the student's code did to the kernel, or to the runner, changes
no comparison. The verdict replaces the check cell's outputs and is recorded in its metadata for the report.
"""

from __future__ import annotations

import ast
import atexit
import base64
import builtins
import contextlib
import functools
import importlib
import io
import json
import linecache
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from simplex_edu.checks import core

PACKAGE_DIR = Path(__file__).resolve().parents[1]
SETUP_SECONDS = 300.0  # importing the lesson's modules and defining the answers, on a busy machine
REFUSED = "is not available while grading: write the function yourself"
VERDICT_KEY = "simplex_edu"
# Checks whose answer must stay a live object (a loss that keeps its autograd graph), which data cannot carry:
# their verdict is the kernel's own, as before the judge (the report names them).
KERNEL_ONLY = frozenset({"check_gaussian_nll"})
COURSE_PRIVATE = ("source", "release", "submitted", "autograded", "feedback", "gradebook.db", "points.toml")  # a graded check cell's metadata key for the judge's verdict


# ------------------------------------------------------------------ the wire: length-prefixed frames


def _send(stream: Any, payload: bytes) -> None:
    stream.write(struct.pack("!I", len(payload)) + payload)
    stream.flush()


def _receive(stream: Any) -> bytes:
    header = stream.read(4)
    if len(header) < 4:
        raise EOFError("the runner closed its side")
    (size,) = struct.unpack("!I", header)
    return stream.read(size)


def encode(value: Any) -> Any:
    """A learner's value as JSON-ready data: arrays become ``.npy`` bytes, anything else unknown its repr."""
    if value is None or isinstance(value, (bool, str)):
        return {"v": value}
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return {"v": value}
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return {"np": _npy(np.asarray(value))}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        return {"npy": _npy(value)}
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return {"torch": _npy(value.detach().cpu().numpy()), "dtype": str(value.dtype)}
    if type(value) in (tuple, list):
        return {type(value).__name__: [encode(v) for v in value]}
    if type(value) is dict:
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    return {"opaque": type(value).__name__, "repr": core._short(value)}


def _npy(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)  # (ascontiguousarray would make a 0-d array 1-d)
    return base64.b64encode(buffer.getvalue()).decode()


def _array(text: str) -> np.ndarray:
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


class Opaque:
    """A value the runner could not send as data; shows the type and repr it had there."""

    def __init__(self, kind: str, text: str):
        self.kind, self.text = kind, text

    def __repr__(self) -> str:
        return self.text


def decode(data: Any) -> Any:
    """The value :func:`encode` described (never runs code: no pickle)."""
    if "v" in data:
        return data["v"]
    if "np" in data:
        return _array(data["np"])[()]
    if "npy" in data:
        return _array(data["npy"])
    if "torch" in data:
        import torch
        return torch.from_numpy(_array(data["torch"]).copy())
    if "tuple" in data:
        return tuple(decode(v) for v in data["tuple"])
    if "list" in data:
        return [decode(v) for v in data["list"]]
    if "dict" in data:
        return {decode(k): decode(v) for k, v in data["dict"]}
    return Opaque(str(data.get("opaque")), str(data.get("repr")))


# ------------------------------------------------------------------ the judge's side


def _topic_check_modules() -> list[str]:
    """The lessons' check modules: they hold near-references (the mistakes' variants), so no runner imports them."""
    return [f"simplex_edu.checks.{p.stem}" for p in (PACKAGE_DIR / "checks").glob("*.py")
            if p.stem not in ("__init__", "core", "judge")]


class _Pickler(pickle.Pickler):
    """Pickles the inputs for the runner; functions it must not import (the checks' own) become callbacks."""

    def __init__(self, file: Any, callbacks: list[Callable]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.callbacks = callbacks

    def reducer_override(self, obj: Any) -> Any:
        if type(obj).__name__ == "Generator" and type(obj).__module__.startswith("torch"):
            return _torch_generator, (obj.get_state().numpy().tobytes(),)
        if isinstance(obj, (types.FunctionType, types.MethodType, functools.partial)):
            module = getattr(obj, "__module__", "") or ""
            qualname = getattr(obj, "__qualname__", "")
            ours = module.startswith("simplex_edu.checks") and module != __name__  # the judge's own: importable
            if ours or "<" in qualname or not qualname:
                self.callbacks.append(obj)
                return Callback, (len(self.callbacks) - 1,)
        return NotImplemented


def _torch_generator(state: bytes) -> Any:
    """A torch generator in the state the judge's had (they cannot be pickled as they are)."""
    import torch
    generator = torch.Generator()
    generator.set_state(torch.frombuffer(bytearray(state), dtype=torch.uint8))
    return generator


def _dumps(value: Any, callbacks: list[Callable]) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, callbacks).dump(value)
    return buffer.getvalue()


class Remote(core.Judged):
    """The learner's function, living in a runner: the check calls it here, it runs there."""

    def __init__(self, zygote: "Zygote", cells: list[tuple[str, str]], name: str, deny: Sequence[str]):
        self.zygote, self.cells, self.name, self.deny = zygote, cells, name, list(deny)
        self.pid: int | None = None
        self.closed = False
        self.callbacks: list[Callable] = []
        self.reached_reference = False
        self.broken: str | None = None
        self.error = ""

    def forbid(self, functions: Sequence[Callable]) -> None:
        """Start the runner with these references refusing to run (the check names them)."""
        if self.pid is not None:
            return
        forbidden = []
        for fn in functions:
            for target in {fn, getattr(fn, "__wrapped__", fn)}:
                forbidden.append((target.__module__, target.__qualname__))
        self.pid, self.incoming, self.outgoing = self.zygote.fork()
        setup = {"cells": self.cells, "name": self.name, "forbidden": forbidden,
                 "blocked": _topic_check_modules(), "deny": self.deny}
        _send(self.outgoing, pickle.dumps(setup))
        try:
            reply = self._wait(SETUP_SECONDS)
        except TimeoutError:
            reply = {"failed": f"the answer cells did not finish running within {SETUP_SECONDS:g} s."}
        if "missing" in reply:
            self.broken = "missing"
            self.error = reply["missing"]
        elif "failed" in reply:
            self.broken = reply["failed"]

    def _wait(self, seconds: float | None) -> dict:
        """The runner's next reply, serving its callbacks meanwhile; a runner past ``seconds`` is stopped."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.incoming], [], [], left)
            if not ready:
                self.close()
                raise TimeoutError
            try:
                reply = json.loads(_receive(self.incoming))
            except (EOFError, ValueError):
                self.close()
                return {"failed": "your code stopped the Python process it ran in (it exited or crashed)."}
            if "callback" not in reply:
                return reply
            self._serve_callback(reply)

    def _serve_callback(self, request: dict) -> None:
        try:
            args, kwargs = decode(request["args"])
            answer = ("return", self.callbacks[int(request["callback"])](*args, **kwargs))
        except Exception as error:  # the learner passed the vector field something it cannot take
            answer = ("raise", f"{type(error).__name__}: {error}")
        _send(self.outgoing, _dumps(answer, self.callbacks))

    def call(self, args: tuple, kwargs: dict, case: core.Case, exercise: str, hint: str,
             time_limit: float | None) -> Any:
        """Run the learner's function on one input in the runner; its failures come back as the check's."""
        if self.pid is None:
            self.forbid([])
        if self.broken == "missing":
            why = f" (an answer cell raised {self.error})" if self.error else " (did you rename or delete it?)"
            raise core.CheckFailed(f"{exercise}: there is no function `{self.name}` in the notebook{why}.")
        if self.broken:
            raise core.CheckFailed(f"{exercise}: {self.broken}")
        if self.closed:
            raise core.CheckFailed(f"{exercise}: your code stopped the Python process it ran in.")
        _send(self.outgoing, _dumps(("call", args, kwargs, case.describe(), exercise, hint), self.callbacks))
        try:
            reply = self._wait(None if time_limit is None else time_limit + 5.0)
        except TimeoutError:
            raise core.CheckFailed(core.time_limit_message(exercise, time_limit, case, hint)) from None
        if "stub" in reply:
            raise core._StubUsed()
        if "failed" in reply:
            if REFUSED in reply["failed"]:
                self.reached_reference = True
            raise core.CheckFailed(reply["failed"])
        for position, after in reply.get("changed", []):
            _write_back(args, kwargs, position, decode(after))
        return decode(reply["result"])

    def close(self) -> None:
        """Stop the runner (if still running)."""
        if self.pid is not None and not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            self.incoming.close()
            self.outgoing.close()


class Zygote:
    """One ``python -I`` process per notebook that loads the lesson's modules once and forks a runner per check."""

    def __init__(self, modules: Sequence[str]):
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")}
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        self.folder = tempfile.TemporaryDirectory(prefix="simplex-edu-judge-")
        self.address = os.path.join(self.folder.name, "runner")
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", "from simplex_edu.checks.judge import zygote; zygote()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=self.folder.name,
            env=env)
        _send(self.process.stdin, json.dumps({"modules": list(modules), "address": self.address}).encode())
        json.loads(_receive(self.process.stdout))  # loaded and listening

    def fork(self) -> tuple[int, Any, Any]:
        """A fresh runner forked from the loaded process: its pid and the two ends of its connection."""
        _send(self.process.stdin, b"fork")
        pid = json.loads(_receive(self.process.stdout))["pid"]
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(self.address)
        return pid, connection.makefile("rb"), connection.makefile("wb")

    def close(self) -> None:
        """Stop the process and remove its folder."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.folder.cleanup()


def _write_back(args: tuple, kwargs: dict, position: int | str, after: Any) -> None:
    """Make the judge's copy of an input show the change the learner's function made to it in the runner."""
    target = kwargs.get(position) if isinstance(position, str) else args[position]
    if isinstance(target, np.ndarray) and isinstance(after, np.ndarray) and after.shape == target.shape:
        np.copyto(target, after, casting="unsafe")
    elif isinstance(target, np.ndarray):
        target[...] = np.nan  # reshaped or replaced: still a change the check must see
    elif isinstance(target, dict) and isinstance(after, dict):
        target.clear()
        target.update(after)
    elif isinstance(target, list) and isinstance(after, list):
        target[:] = after


# ------------------------------------------------------------------ the runner's side


class Callback:
    """In the runner: a function of the check's (a vector field, say) that runs in the judge when called."""

    channel: tuple[Any, Any] | None = None

    def __init__(self, index: int):
        self.index = index

    def __reduce__(self) -> tuple:
        return Callback, (self.index,)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        incoming, outgoing = Callback.channel
        _send(outgoing, json.dumps({"callback": self.index, "args": encode((args, kwargs))}).encode())
        kind, value = pickle.loads(_receive(incoming))
        if kind == "raise":
            raise RuntimeError(value)
        return value


_DENIED_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
                  "sys.addaudithook", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.truncate",
                  "os.chmod", "os.kill", "signal.pthread_kill")


def _audit_hook(roots: list[str]) -> Callable[[str, tuple], None]:
    """The runner's audit hook: no reading our files or /proc, no writes, no gc, ctypes or new processes."""
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

    def hook(event: str, args: tuple) -> None:
        if event.startswith("ctypes.") or event in _DENIED_EVENTS or event.startswith("os.exec"):
            raise PermissionError(f"{event} is not allowed while grading")
        if event == "open" and args:
            path, mode, flags = (tuple(args) + (None, None))[:3]
            if isinstance(path, int):
                return
            writes = isinstance(mode, str) and any(c in mode for c in "wax+")
            if writes or (isinstance(flags, int) and flags & write_flags):
                raise PermissionError("writing files is not allowed while grading")
            text = os.path.realpath(os.fsdecode(path))
            if text.startswith("/proc") or any(text == r or text.startswith(r + os.sep) for r in roots):
                raise PermissionError(f"{path} cannot be read while grading")
    return hook


def _refuse(module: Any, qualname: str) -> None:
    """Make the reference ``module.qualname`` raise when called, wherever a reference to it hides."""
    owner, name = module, qualname
    for part in qualname.split(".")[:-1]:
        owner = getattr(owner, part)
    name = qualname.split(".")[-1]
    target = getattr(owner, name, None)
    label = f"`{name}` ({module.__name__})"
    namespace: dict = {}
    message = f"the course's own {label} {REFUSED}"
    exec(compile(f"def {name}(*args, **kwargs):\n    raise RuntimeError({message!r})",
                 __file__, "exec"), namespace)
    stub = namespace[name]
    code = getattr(target, "__code__", None)
    if code is not None and not code.co_freevars:
        target.__code__ = stub.__code__
        target.__defaults__ = target.__kwdefaults__ = None
    for loaded in list(sys.modules.values()):  # aliases in other modules, e.g. `from .dynamics import rk4_step`
        for key, value in list(getattr(loaded, "__dict__", {}).items()):
            if value is target and target is not None:
                setattr(loaded, key, stub)


def _import_names(source: str) -> list[str]:
    """Modules a cell's top-level imports name."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _imports_only(source: str, used: set[str]) -> str:
    """A cell's top-level imports of names the answers use (what they may rely on), nothing else of it."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    kept = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
            and any((a.asname or a.name.split(".")[0]) in used for a in n.names)]
    return "\n".join(ast.unparse(n) for n in kept)


def _used_names(sources: Sequence[str]) -> set[str]:
    """Every name the answer cells read."""
    names: set[str] = set()
    for source in sources:
        with contextlib.suppress(SyntaxError):
            names |= {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    return names


def zygote() -> None:
    """The judge's loaded process: import the lesson's modules, then fork one runner per request."""
    incoming, outgoing = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # the learner's prints go nowhere, not into the answers
    setup = json.loads(_receive(incoming))
    for module in setup["modules"]:
        if not module.startswith("simplex_edu.checks"):
            with contextlib.suppress(BaseException):
                importlib.import_module(module)  # load now: the package's files are closed in the runners
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(setup["address"])
    listener.listen(1)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # runners are reaped as they end
    _send(outgoing, b"{}")
    while True:
        try:
            _receive(incoming)
        except EOFError:
            return
        pid = os.fork()
        if pid == 0:
            incoming.close()
            outgoing.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            connection, _ = listener.accept()
            listener.close()
            serve(connection.makefile("rb"), connection.makefile("wb"))
            os._exit(0)
        _send(outgoing, json.dumps({"pid": pid}).encode())


def serve(incoming: Any, outgoing: Any) -> None:
    """A runner: define the learner's answers under the audit hook, then run their function on each input."""
    Callback.channel = (incoming, outgoing)
    setup = pickle.loads(_receive(incoming))
    for name in setup["blocked"]:
        sys.modules[name] = None  # `import simplex_edu.checks.dynamics` now fails
    for module, qualname in setup["forbidden"]:
        with contextlib.suppress(Exception):
            _refuse(importlib.import_module(module), qualname)
    roots = [os.path.realpath(p) for p in [str(PACKAGE_DIR), *setup["deny"]]]
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    for name in setup["blocked"]:
        parent, _, child = name.rpartition(".")
        with contextlib.suppress(Exception):
            delattr(sys.modules[parent], child)
    sys.addaudithook(_audit_hook(roots))
    last_error = ""
    for index, (kind, source) in enumerate(setup["cells"]):
        code = source
        filename = f"<answer cell {index}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        try:
            exec(compile(code, filename, "exec"), namespace)
        except BaseException as error:  # a cell that fails, as in the notebook: the next ones still run
            last_error = f"{type(error).__name__}: {error}" if kind == "answer" else last_error
    learner = namespace.get(setup["name"])
    _send(outgoing, json.dumps({"missing": last_error} if not callable(learner) else {"ready": True}).encode())
    while True:
        try:
            message = pickle.loads(_receive(incoming))
        except EOFError:
            return
        _, args, kwargs, label, exercise, hint = message
        _send(outgoing, json.dumps(_run_one(learner, args, kwargs, label, exercise, hint)).encode())


def _changed(before: Any, after: Any) -> bool:
    """True if the learner's call changed this input (a torch generator and the like: never)."""
    try:
        return core._where_changed(before, after) is not None
    except Exception:
        return False


def _run_one(learner: Callable, args: tuple, kwargs: dict, label: str, exercise: str, hint: str) -> dict:
    """One call of the learner's function, as data: its result, or the failure the check would name."""
    before_args, before_kwargs = core._copy(args), core._copy(kwargs)
    try:
        result = core._call(learner, args, kwargs, core.Case(label=label), exercise, hint, None)
    except core._StubUsed:
        return {"stub": True}
    except core.CheckFailed as failure:
        return {"failed": str(failure)}
    except BaseException as error:  # SystemExit, or a learner's own BaseException: still one line
        return {"failed": f"{exercise}: your function raised {type(error).__name__}: {error}\nHint: {hint}"}
    changed = [[i, encode(a)] for i, (b, a) in enumerate(zip(before_args, args)) if _changed(b, a)]
    changed += [[k, encode(kwargs[k])] for k in before_kwargs if _changed(before_kwargs[k], kwargs[k])]
    try:
        return {"result": encode(result), "changed": changed}
    except Exception as error:
        return {"failed": f"{exercise}: the result could not be read back ({type(error).__name__}: {error})."}


# ------------------------------------------------------------------ judging a notebook


def _check_call(source: str) -> tuple[str, str, str] | None:
    """``(imports, check name, argument name)`` of a check cell ``from … import check_x`` / ``check_x(x)``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    calls = [n.value for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    if len(calls) != 1 or not isinstance(calls[0].func, ast.Name) or len(calls[0].args) != 1 \
            or not isinstance(calls[0].args[0], ast.Name) or calls[0].keywords:
        return None
    return "\n".join(ast.unparse(n) for n in imports), calls[0].func.id, calls[0].args[0].id


def _python(source: str) -> str:
    """A cell's source as plain Python (IPython's %magics turned into calls)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def judge_check(zygote: Zygote, cells: list[tuple[str, str]], check_source: str, deny: Sequence[str],
                namespace: dict) -> dict:
    """The verdict on one check cell: ``{"status", "message", "reached_reference"}``, computed out of reach."""
    parsed = _check_call(check_source)
    if parsed is None:
        return {"status": "not judged", "message": "this check cell is not in the course's form", "reached": False}
    imports, check_name, argument = parsed
    exec(imports, namespace)  # ``namespace`` keeps earlier check cells' imports, as the kernel does
    remote = Remote(zygote, cells, argument, deny)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            namespace[check_name](remote)
        status, message = "passed", printed.getvalue().strip()
    except core.CheckFailed as failure:
        status, message = "failed", str(failure)
    except Exception as error:
        status, message = "failed", f"{check_name}: could not be judged ({type(error).__name__}: {error})"
    finally:
        remote.close()
    if status == "failed" and "not attempted" in message:
        status = "not attempted"
    return {"status": status, "message": message, "reached": remote.reached_reference}


def _kernel_status(cell: Any) -> str:
    """What the student's kernel showed for a check cell: passed, failed, or did not run."""
    outputs = cell.get("outputs", [])
    if any(o.get("output_type") == "error" for o in outputs):
        return "failed"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    return "passed" if "✓" in text else "did not run"


def judge_notebook(nb: Any, resources: dict) -> tuple[Any, dict]:
    """nbconvert preprocessor (after Execute): every graded check's outputs become the judge's verdict."""
    from simplex_edu.launcher import REPO_DIR, SOLUTIONS, course_folder
    # the course folder's sources (with answers), other students' work, the gradebook, and the worked solutions;
    # not the whole folder, which may hold the teacher's environment
    deny = [os.path.join(os.getcwd(), name) for name in COURSE_PRIVATE]
    deny += [str(course_folder(SOLUTIONS)), str(REPO_DIR / SOLUTIONS)]
    code = [c for c in nb.cells if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")]
    answers = [_python(c.source) for c in code if c.metadata.get("nbgrader", {}).get("solution")]
    used = _used_names(answers)
    cells = [("answer", _python(c.source)) if c.metadata.get("nbgrader", {}).get("solution")
             else ("imports", _imports_only(_python(c.source), used)) for c in code]
    checks = [c.source for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    modules = {m for _, source in cells for m in _import_names(source)} | set(_reference_modules(checks))
    zygote = _zygote(sorted(modules))
    _judge_cells(nb, zygote, cells, deny)
    return nb, resources


_ZYGOTES: dict[tuple[str, ...], Zygote] = {}


def _close_zygotes() -> None:
    """Stop every loaded process (at exit)."""
    for zygote in _ZYGOTES.values():
        zygote.close()


def _zygote(modules: list[str]) -> Zygote:
    """The loaded process for these modules, started once per nbgrader run (every student's runners fork from it).

    It never runs a student's code itself, so one class shares it safely; it stops when nbgrader exits.
    """
    key = tuple(modules)
    if key not in _ZYGOTES or _ZYGOTES[key].process.poll() is not None:
        if not _ZYGOTES:
            atexit.register(_close_zygotes)
        _ZYGOTES[key] = Zygote(modules)
    return _ZYGOTES[key]


def _reference_modules(check_sources: Sequence[str]) -> list[str]:
    """The course modules the checks compare with: loaded in every runner, so reaching them is seen, not an error."""
    modules = set()
    for source in check_sources:
        for name in _import_names(source):
            with contextlib.suppress(Exception):
                for value in vars(importlib.import_module(name)).values():
                    module = value.__name__ if isinstance(value, type(core)) else getattr(value, "__module__", "")
                    if isinstance(module, str) and module.startswith("simplex_edu.") \
                            and not module.startswith("simplex_edu.checks"):
                        modules.add(module)
    return sorted(modules)


def _judge_cells(nb: Any, zygote: Zygote, cells: list[tuple[str, str]], deny: list[str]) -> None:
    """Judge each graded check cell in order, with the answers and imports (``cells``) before it."""
    before, namespace = 0, {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        parsed = _check_call(cell.source) if meta.get("grade") else None
        if parsed is not None and parsed[1] in KERNEL_ONLY:
            cell.metadata[VERDICT_KEY] = {"kernel": _kernel_status(cell), "judge": "kernel only",
                                          "reaches_reference": False}
        elif meta.get("grade") and not meta.get("solution"):
            kernel = _kernel_status(cell)
            verdict = judge_check(zygote, cells[:before], cell.source, deny, namespace)
            cell.metadata[VERDICT_KEY] = {"kernel": kernel, "judge": verdict["status"],
                                          "reaches_reference": verdict["reached"]}
            cell.outputs = [_stream(verdict["message"]) if verdict["status"] == "passed"
                            else _error(verdict["message"])]
        elif not meta.get("grade"):
            before += 1


def _stream(text: str) -> dict:
    from nbformat.v4 import new_output
    return new_output("stream", name="stdout", text=text + "\n")


def _error(message: str) -> dict:
    from nbformat.v4 import new_output
    return new_output("error", ename="CheckFailed", evalue=message,
                      traceback=["✗ " + message.replace("\n", "\n  ")])
