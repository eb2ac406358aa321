"""The machinery every exercise check shares: run the learner's function, compare with the reference, explain.

A check never crashes a lesson for an unattempted stub: it prints one friendly line and returns ``False``.
A wrong answer raises :class:`CheckFailed`, whose message says what was expected, what came back and a hint,
and which IPython renders as that message alone (no wall of traceback).

Every call of a learner's function runs under a time limit (a loop that never ends becomes a message, not a hung
kernel), an interrupt during a check ends in one line, and a learner's function that raises gets the hint too.
Under a grader the checks add fresh seeded cases and refuse the course's own reference handed in as the answer.
"""

from __future__ import annotations

import copy
import ctypes
import dataclasses
import inspect
import math
import os
import sys
import sysconfig
import threading
import time
import traceback
import types
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

DEFAULT_TIME_LIMIT = 10.0  # seconds per call of a learner's function; generous for every exercise in the course


class CheckFailed(AssertionError):
    """A learner's answer is wrong; the message is everything they need to fix it."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing the traceback: the learner sees the explanation only.
        return ["\x1b[31m✗ " + str(self).replace("\n", "\n  ") + "\x1b[0m"]


@dataclass
class Case:
    """One input to try: positional and keyword arguments, and a label the learner will recognise."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    def describe(self) -> str:
        """A short readable description of the input, for failure messages."""
        if self.label:
            return self.label
        parts = [_short(a) for a in self.args] + [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return f"({', '.join(parts)})"


def _short(value: Any, width: int = 60) -> str:
    text = repr(_to_numpy(value)) if _is_arraylike(value) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _is_arraylike(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (type(value).__module__.startswith("torch") and hasattr(value, "detach"))


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    return value.detach().cpu().numpy()  # a torch tensor


def _copy(value: Any) -> Any:
    """A defensive copy, so a learner's function that mutates its input cannot change the reference's input."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value).__module__.startswith("torch") and hasattr(value, "clone"):
        return value.clone()
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return copy.deepcopy(value)  # e.g. a ModelSpec: a learner's change to it must not reach the reference
    return value


def _where_changed(original: Any, after: Any) -> str | None:
    """``None`` if ``after`` still equals ``original``; else where it differs ("" for the value itself, "['W1']")."""
    if _is_arraylike(original):
        if not _is_arraylike(after):
            return ""
        a, b = _to_numpy(original), _to_numpy(after)
        return None if a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") else ""
    if isinstance(original, dict):
        if not isinstance(after, dict) or set(after) != set(original):
            return ""
        for key in original:
            inner = _where_changed(original[key], after[key])
            if inner is not None:
                return f"[{key!r}]{inner}"
        return None
    if isinstance(original, (list, tuple)):
        if type(after) is not type(original) or len(after) != len(original):
            return ""
        for i, (o, a) in enumerate(zip(original, after)):
            inner = _where_changed(o, a)
            if inner is not None:
                return f"[{i}]{inner}"
        return None
    if dataclasses.is_dataclass(original) and not isinstance(original, type):
        for f in dataclasses.fields(original):
            inner = _where_changed(getattr(original, f.name), getattr(after, f.name, None))
            if inner is not None:
                return f".{f.name}{inner}"
        return None
    try:
        return None if bool(original == after) else ""
    except Exception:  # values that cannot be compared are not something a docstring asks to keep
        return None


def compare(expected: Any, got: Any, rtol: float = 1e-6, atol: float = 1e-8, where: str = "the result") -> str | None:
    """Return ``None`` if ``got`` matches ``expected``, else a one-paragraph explanation of the difference."""
    if got is None and expected is not None:
        return f"{where} is None. Did you forget a `return` statement?"
    if isinstance(expected, (tuple, list)) and _is_arraylike(got):
        return (f"{where} should be a {type(expected).__name__} of {len(expected)} items (e.g. `return a, b`), "
                f"got an array of shape {tuple(_to_numpy(got).shape)}.")
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return f"{where} should be a {type(expected).__name__} of {len(expected)} items, got {type(got).__name__}."
        if len(got) != len(expected):
            return f"{where} should have {len(expected)} items, got {len(got)}."
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = compare(e, g, rtol, atol, where=f"item {i} of {where}")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{where} should be a dict, got {type(got).__name__}."
        missing = set(expected) - set(got)
        if missing:
            return f"{where} is missing the key(s) {sorted(missing)}."
        for key in expected:
            problem = compare(expected[key], got[key], rtol, atol, where=f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            return f"{where} should be True or False, got {type(got).__name__} {_short(got)}."
        return None if bool(got) == bool(expected) else f"{where}: expected {bool(expected)}, got {bool(got)}."
    if isinstance(expected, str):
        return None if got == expected else f"{where}: expected {expected!r}, got {_short(got)}."
    if _is_arraylike(expected):
        return _compare_arrays(_to_numpy(expected), got, rtol, atol, where)
    if isinstance(expected, (int, float, np.number)):
        if _is_arraylike(got) and np.size(_to_numpy(got)) == 1:
            got = _to_numpy(got).item()
        if not isinstance(got, (int, float, np.number)) or isinstance(got, (bool, np.bool_)):
            return f"{where} should be a number, got {type(got).__name__} {_short(got)}."
        if math.isnan(float(got)):
            return f"{where} is NaN (not a number). Look for a 0/0, a log of 0, or a NaN in the input that spread."
        if isinstance(expected, (int, np.integer)) and not isinstance(expected, bool):
            if math.isinf(float(got)):
                return f"{where} should be a whole number, got {float(got)} (an overflow or a division by zero?)."
            if float(got) != int(got):
                return f"{where} should be a whole number, got {got!r}."
        if math.isinf(float(got)) and not math.isinf(float(expected)):
            return f"{where}: expected {float(expected):.10g}, got {float(got)} (a division by zero or an overflow?)."
        if not math.isclose(float(got), float(expected), rel_tol=rtol, abs_tol=atol):
            return f"{where}: expected {float(expected):.10g}, got {float(got):.10g}.{_dtype_note(expected, got)}"
        return None
    try:
        same = bool(got == expected)
    except Exception:  # e.g. an array compared with a non-array: not equal, and say what came back
        same = False
    return None if same else f"{where}: expected {_short(expected)}, got {type(got).__name__} {_short(got)}."


def _low_precision(got: Any) -> bool:
    """True for float16/float32 values (numpy or torch): they keep only about 3 or 7 significant digits."""
    dtype = getattr(got, "dtype", None)
    return dtype is not None and str(dtype).replace("torch.", "") in ("float32", "float16", "bfloat16")


def _dtype_note(expected: Any, got: Any) -> str:
    """A sentence for a float32 answer that would match in float64, else ""."""
    if not _low_precision(got) or _low_precision(expected):
        return ""
    got_np = _to_numpy(got) if _is_arraylike(got) else np.asarray(got)
    if np.allclose(got_np.astype(float), np.asarray(expected, dtype=float), rtol=1e-3, atol=1e-6):
        return (f" The digits agree but your dtype is {str(got.dtype).replace('torch.', '')}, which keeps only about "
                "7 significant digits: compute in float64 (np.float64, torch.float64 or .double()).")
    return ""


def _compare_arrays(expected: np.ndarray, got: Any, rtol: float, atol: float, where: str) -> str | None:
    if not _is_arraylike(got):
        if isinstance(got, (list, tuple)):
            return f"{where} is a {type(got).__name__}; return an array (np.asarray / torch.tensor) of shape {expected.shape}."
        if expected.ndim == 0 and isinstance(got, (int, float, np.number)):
            got = np.asarray(got)
        else:
            return f"{where} should be an array of shape {expected.shape}, got {type(got).__name__} {_short(got)}."
    got_np = _to_numpy(got)
    if got_np.shape != expected.shape:
        return f"{where} has shape {got_np.shape}, expected {expected.shape}. Check which axis you sum or index over."
    if expected.dtype.kind in "fc" and got_np.dtype.kind not in "fc":
        return f"{where} has dtype {got_np.dtype}, expected floating point ({expected.dtype})."
    if expected.dtype.kind in "iub" and got_np.dtype.kind in "fc" and not np.all(got_np == np.round(got_np)):
        return f"{where} should hold whole numbers ({expected.dtype}), got non-integer values of dtype {got_np.dtype}."
    if got_np.dtype.kind in "fc":
        bad = ~np.isfinite(got_np) & np.isfinite(expected)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            return (f"{where} contains NaN or infinity (first at index {idx}, where {expected[idx]:.6g} was expected). "
                    "Look for a division by zero, a log of 0, or an overflow.")
    if not np.allclose(got_np, expected, rtol=rtol, atol=atol, equal_nan=True):
        diff = np.abs(got_np.astype(float) - expected.astype(float))
        idx = tuple(int(i) for i in np.unravel_index(np.nanargmax(diff), diff.shape)) if diff.ndim else ()
        return (f"{where} differs from the expected value: at index {idx} expected {expected[idx]:.6g}, "
                f"got {got_np[idx]:.6g} (largest difference {np.nanmax(diff):.3g}).{_dtype_note(expected, got)}")
    return None


class CheckResult:
    """What a check returns: truthy when the answer is right, falsy when not attempted; shows nothing itself."""

    def __init__(self, exercise: str, correct: bool):
        self.exercise, self.correct = exercise, correct

    def __bool__(self) -> bool:
        return self.correct

    def __eq__(self, other: object) -> bool:
        return self.correct == other if isinstance(other, bool) else NotImplemented

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"CheckResult({self.exercise!r}, correct={self.correct})"

    def _ipython_display_(self) -> None:
        """The check already printed its message; don't echo the result as a cell output too."""


def grading() -> bool:
    """True when a grader runs the notebook: nbgrader (it sets NBGRADER_EXECUTION) or SIMPLEX_EDU_GRADING=1."""
    # nbgrader sets NBGRADER_EXECUTION to "autograde" or "validate" around the kernel it starts (nbgrader 0.7+).
    return (os.environ.get("NBGRADER_EXECUTION", "") != ""
            or os.environ.get("SIMPLEX_EDU_GRADING", "") not in ("", "0"))


def not_attempted(exercise: str) -> CheckResult:
    """Print the friendly line for an exercise that is still a stub; the result is falsy.

    Under a grader (see :func:`grading`) an unattempted exercise raises instead, so it earns no points; under
    ``nbgrader validate`` the message tells the student what to do before submitting.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "validate":
        raise CheckFailed(f"{exercise}: not attempted yet. Fill in the function above before you submit: "
                          "as it is, this exercise earns no points.")
    if grading():
        raise CheckFailed(f"{exercise}: not attempted.")
    print(f"○ {exercise}: not attempted yet — fill in the function above and run this cell again. "
          "(The lesson goes on with the library's own version, so you can come back later.)")
    return CheckResult(exercise, False)


def passed(exercise: str, detail: str = "") -> CheckResult:
    """Print the success line for an exercise; the result is truthy."""
    print(f"✓ {exercise}: correct{' — ' + detail if detail else ''}.")
    return CheckResult(exercise, True)


@dataclass(frozen=True)
class Diagnosis:
    """A recognisable mistake: ``variant`` computes the mistaken answer; ``message`` names it ("b2 is missing")."""

    variant: Callable
    message: str


class _TimeLimit(BaseException):
    """Raised inside a learner's call by the watchdog; a BaseException, so their `except Exception` cannot eat it."""


class _StubUsed(Exception):
    """The learner's function itself is still a stub (raised NotImplementedError in its own body)."""


def _raise_in_thread(thread_id: int, error: type[BaseException] | None) -> None:
    """Raise ``error`` in the thread at its next Python instruction (``None`` cancels one not yet raised).

    CPython's PyThreadState_SetAsyncExc works the same on Linux, macOS and Windows and in any thread, unlike
    SIGALRM (Unix, main thread only); a call blocked inside one long C function is stopped when that returns.
    """
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(error) if error is not None else None)


class _Watchdog:
    """Stops the calling thread with :class:`_TimeLimit` if it is still inside a call after ``seconds``."""

    def __init__(self, seconds: float | None):
        self.seconds, self.thread_id = seconds, threading.get_ident()
        self.lock, self.done, self.fired = threading.Lock(), threading.Event(), False

    def start(self) -> None:
        """Begin timing the call that follows."""
        if self.seconds is not None and math.isfinite(self.seconds):
            threading.Thread(target=self._watch, daemon=True, name="simplex-edu check time limit").start()

    def _watch(self) -> None:
        if self.done.wait(self.seconds):
            return
        while True:
            with self.lock:
                if self.done.is_set():
                    return
                self.fired = True
                _raise_in_thread(self.thread_id, _TimeLimit)
            if self.done.wait(0.5):  # raise again if the learner's code swallowed it with a bare `except:`
                return

    def stop(self) -> None:
        """The call returned: stand the watchdog down, and cancel a time-out raised but not yet delivered."""
        while True:
            try:
                with self.lock:
                    self.done.set()
                    if self.fired:
                        _raise_in_thread(self.thread_id, None)
                return
            except _TimeLimit:  # delivered just as the call returned: the call did finish, so go on
                continue


_LIBRARY_DIRS = tuple({str(Path(__file__).resolve().parents[1])} |
                      {str(Path(p).resolve()) for k, p in sysconfig.get_paths().items()
                       if k in ("stdlib", "platstdlib", "purelib", "platlib")})


def _is_library(filename: str) -> bool:
    """True for code of this course's package, the standard library or installed packages (not the learner's)."""
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    return path.startswith(_LIBRARY_DIRS)


def _learner_line(frames: list[traceback.FrameSummary]) -> str:
    learner = [f for f in frames if not _is_library(f.filename)]
    return f" (line {learner[-1].lineno}: `{learner[-1].line}`)" if learner else ""


def time_limit_message(exercise: str, time_limit: float | None, case: Case, hint: str) -> str:
    """The failure message for a learner's call that ran past its time limit."""
    return (f"{exercise}: your function did not return within {time_limit:g} s on input "
            f"{case.describe()} — is there a loop that never ends? (A `while` whose condition "
            f"never changes, or a tolerance finer than floats can resolve.)\nHint: {hint}")


class Judged:
    """A learner's function that runs elsewhere (the grading judge's runner, :mod:`simplex_edu.checks.judge`).

    The check treats it as the learner's function; :func:`_call` hands each call to :meth:`call`, which raises the
    check's own failures, and :func:`check_function` first names the references it must refuse (:meth:`forbid`).
    """

    def forbid(self, functions: Sequence[Callable]) -> None:
        """The references this check refuses: the runner makes them raise."""

    def call(self, args: tuple, kwargs: dict, case: Case, exercise: str, hint: str,
             time_limit: float | None) -> Any:
        """The learner's answer on one input, or :class:`CheckFailed` / a stub, as :func:`_call` would give."""
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(args, kwargs, Case(args, kwargs), "your function", "", DEFAULT_TIME_LIMIT)


def _call(fn: Callable, args: tuple, kwargs: dict, case: Case, exercise: str, hint: str,
          time_limit: float | None) -> Any:
    """Call the learner's function on one case under the time limit, turning every failure into a named problem."""
    if isinstance(fn, Judged):
        return fn.call(args, kwargs, case, exercise, hint, time_limit)
    watchdog, start = _Watchdog(time_limit), time.perf_counter()
    try:
        try:
            watchdog.start()
            return fn(*args, **kwargs)
        finally:
            watchdog.stop()
    except _TimeLimit:
        raise CheckFailed(time_limit_message(exercise, time_limit, case, hint)) from None
    except KeyboardInterrupt:
        raise CheckFailed(f"{exercise}: interrupted after {time.perf_counter() - start:.1f} s while your function "
                          f"ran on input {case.describe()} — is there a loop that never ends?") from None
    except NotImplementedError as error:
        frames = traceback.extract_tb(error.__traceback__)[1:]  # [0] is this function's own frame
        learner = [f for f in frames if not _is_library(f.filename)]
        raiser = frames[-1] if frames else None
        # A stub is learner code whose own line says `raise NotImplementedError`; torch raising it is a bug.
        says_stub = raiser is not None and "NotImplementedError" in (raiser.line or "NotImplementedError")
        if says_stub and learner and raiser is learner[-1]:
            if raiser is learner[0] or raiser.name.startswith("<"):
                raise _StubUsed() from None  # the learner's function itself: not attempted yet
            raise CheckFailed(f"{exercise}: this uses your `{raiser.name}` from an earlier exercise, which is "
                              "still a stub (it raises NotImplementedError). Complete that exercise first, then run "
                              "this check again.") from None
        raise CheckFailed(f"{exercise}: your function raised NotImplementedError: {error}{_learner_line(frames)}\n"
                          f"on input {case.describe()}.\nHint: {hint}") from None
    except Exception as error:  # any learner bug: name it, point at their line, no wall of traceback
        line = _learner_line(traceback.extract_tb(error.__traceback__))
        raise CheckFailed(f"{exercise}: your function raised {type(error).__name__}: {error}{line}\n"
                          f"on input {case.describe()}.\nHint: {hint}") from None


def _code_names(code: types.CodeType) -> set[str]:
    """Every global or attribute name a function's code (and the functions defined inside it) refers to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _hands_in_reference(fn: Callable, forbidden: Sequence[Callable]) -> Callable | None:
    """The forbidden function ``fn`` is, copies, or calls (a thin wrapper), else ``None``.

    Only the named reference objects count, so a learner who calls other library helpers is never refused.
    """
    fn = inspect.unwrap(fn) if callable(fn) else fn
    targets = [inspect.unwrap(f) for f in forbidden]
    code = getattr(fn, "__code__", None)
    for target in targets:
        if fn is target or (code is not None and code is getattr(target, "__code__", None)):
            return target
    if code is None:
        inner = getattr(fn, "func", None)  # functools.partial of the reference
        return _hands_in_reference(inner, forbidden) if callable(inner) else None
    names = _code_names(code)
    reachable = [getattr(fn, "__globals__", {}).get(n) for n in names]
    reachable += [cell.cell_contents for cell in (fn.__closure__ or ()) if cell.cell_contents is not None]
    reachable += [sys.modules[n] for n in names if n in sys.modules]  # `import simplex_edu.welcome` inside the body
    for _ in range(2):  # module.function and package.module.function
        reachable += [vars(m).get(n) for m in reachable if isinstance(m, types.ModuleType) for n in names]
    return next((t for t in targets if any(r is t for r in reachable)), None)


def _fresh_seed(exercise: str) -> int:
    """A seed fixed by the exercise's name: a regrade draws the same fresh cases, so it gives the same score."""
    return zlib.crc32(exercise.encode())


def _argument_name(fn: Callable, position: int | str) -> str:
    if isinstance(position, str):
        return position
    try:
        return list(inspect.signature(fn).parameters)[position]
    except (TypeError, ValueError, IndexError):
        return f"argument {position + 1}"


def _changed_input(fn: Callable, case: Case, args: tuple, kwargs: dict) -> str | None:
    """The name of an input the learner's call modified in place (``weights['W1']``), else ``None``."""
    pairs = [(i, o, a) for i, (o, a) in enumerate(zip(case.args, args))]
    pairs += [(k, case.kwargs[k], kwargs[k]) for k in case.kwargs]
    for position, original, after in pairs:
        where = _where_changed(original, after)
        if where is not None:
            return _argument_name(fn, position) + where
    return None


def check_function(
    learner_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    *,
    exercise: str,
    hint: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    compare_fn: Callable[[Any, Any], str | None] | None = None,
    fresh_cases: Callable[[np.random.Generator], list[Case]] | None = None,
    diagnoses: Sequence[Diagnosis] = (),
    inputs_read_only: bool = False,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    forbidden: Sequence[Callable] | None = None,
) -> CheckResult:
    """Run ``learner_fn`` on every case against ``reference_fn``; True if all match, False if not attempted.

    Raises :class:`CheckFailed` with expected value, returned value and ``hint`` on the first mismatch, naming the
    mistake when one of ``diagnoses`` reproduces the learner's answer. ``inputs_read_only``: the docstring forbids
    changing the inputs, so a change is a failure. ``time_limit``: seconds per call (None: no limit). Under a
    grader (:func:`grading`), ``fresh_cases(rng)`` adds cases from a generator seeded by ``exercise``, and a
    function that is (or just calls) one of ``forbidden`` (default: ``reference_fn``) is refused.
    """
    if not callable(learner_fn):
        raise CheckFailed(f"{exercise}: expected a function, got {type(learner_fn).__name__}. "
                          "Pass the function itself, without calling it (no parentheses).")
    cases = list(cases)
    if grading():
        judged = inspect.unwrap(learner_fn)  # also a check's own wrapper around the learner's function
        if isinstance(judged, Judged):
            judged.forbid([reference_fn] if forbidden is None else forbidden)
        handed_in = _hands_in_reference(learner_fn, [reference_fn] if forbidden is None else forbidden)
        if handed_in is not None:
            raise CheckFailed(f"{exercise}: this hands in the course's own `{handed_in.__name__}` (from "
                              f"{handed_in.__module__}) instead of your code. Write the function yourself.")
        if fresh_cases is not None:
            cases += fresh_cases(np.random.default_rng(_fresh_seed(exercise)))
    case = cases[0] if cases else Case()
    try:
        for case in cases:
            args, kwargs = _copy(case.args), _copy(case.kwargs)
            try:
                got = _call(learner_fn, args, kwargs, case, exercise, hint, time_limit)
            except _StubUsed:
                return not_attempted(exercise)
            if inputs_read_only:
                changed = _changed_input(reference_fn, case, args, kwargs)  # named as in the docstring
                if changed is not None:
                    raise CheckFailed(f"{exercise}: on input {case.describe()}: your function changed its input "
                                      f"`{changed}` in place; the docstring asks for a new one (copy first, e.g. "
                                      f".copy(), or build new arrays).\nHint: {hint}")
            expected = reference_fn(*_copy(case.args), **_copy(case.kwargs))
            problem = _problem(expected, got, rtol, atol, compare_fn)
            if problem:
                named = _diagnose(diagnoses, learner_fn, cases, case, expected, got, rtol, atol, time_limit)
                raise CheckFailed(f"{exercise}: on input {case.describe()}:\n{problem}{named}\nHint: {hint}")
    except KeyboardInterrupt:  # during the reference or the comparison: still one line, not a traceback
        raise CheckFailed(f"{exercise}: interrupted while checking input {case.describe()}.") from None
    return passed(exercise, f"{len(cases)} cases match the reference")


def _problem(expected: Any, got: Any, rtol: float, atol: float,
             compare_fn: Callable[[Any, Any], str | None] | None) -> str | None:
    """The comparison's explanation; a value the comparison cannot even handle is named, not a traceback."""
    try:
        return compare_fn(expected, got) if compare_fn else compare(expected, got, rtol=rtol, atol=atol)
    except Exception as error:
        return f"the result could not be compared with the expected one ({type(error).__name__}: {error}); " \
               f"got {type(got).__name__} {_short(got)}."


def _diagnose(diagnoses: Sequence[Diagnosis], learner_fn: Callable, cases: Sequence[Case], failing: Case,
              expected: Any, got: Any, rtol: float, atol: float, time_limit: float | None) -> str:
    """"\nIt looks like …" for the known mistake that reproduces the learner's answer, else "".

    A mistake counts if its answer on the failing case is the learner's and not the right one. When several do,
    the learner's function is run on the other cases too and only a mistake that matches it on all of them is named.
    """
    def mistaken(diagnosis: Diagnosis, case: Case) -> Any:
        return diagnosis.variant(*_copy(case.args), **_copy(case.kwargs))

    def matches(diagnosis: Diagnosis, case: Case, answer: Any, right: Any = None) -> bool:
        try:
            theirs = mistaken(diagnosis, case)
            return compare(theirs, answer, rtol=rtol, atol=atol) is None and (
                right is None or compare(right, theirs, rtol=rtol, atol=atol) is not None)
        except Exception:  # a variant that cannot handle this case does not match it
            return False

    candidates = [d for d in diagnoses if matches(d, failing, got, right=expected)]
    for case in cases:
        if len(candidates) < 2:
            break
        if case is failing:
            continue
        try:
            answer = _call(learner_fn, _copy(case.args), _copy(case.kwargs), case, "", "", time_limit)
        except (CheckFailed, _StubUsed):
            continue
        candidates = [d for d in candidates if matches(d, case, answer)]
    return f"\nIt looks like {candidates[0].message}." if len(candidates) == 1 else ""


def check_value(
    got: Any,
    expected: Any,
    *,
    exercise: str,
    hint: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> CheckResult:
    """Check a value (not a function) the learner computed; ``Ellipsis`` (``...``) means not attempted yet."""
    if got is Ellipsis:
        return not_attempted(exercise)
    problem = compare(expected, got, rtol=rtol, atol=atol, where="your value")
    if problem:
        raise CheckFailed(f"{exercise}: {problem}\nHint: {hint}")
    return passed(exercise)
