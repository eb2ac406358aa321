"""The check machinery: stubs are 'not attempted', wrong answers fail with a specific message, bad values are named."""

import asyncio
import math
import queue
import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from jupyter_client import KernelManager

from simplex_edu.checks.core import Case, CheckFailed, Diagnosis, check_function, check_value, compare
from simplex_edu.welcome import solve_by_bisection


def reference(x):
    return np.asarray(x, dtype=float) * 2


CASES = [Case((np.arange(3.0),)), Case((np.zeros(0),), label="an empty array")]


def stub(x):
    raise NotImplementedError("fill me in")


def test_stub_is_not_attempted(capsys):
    result = check_function(stub, reference, CASES, exercise="Ex", hint="h")
    assert not result and result == False  # noqa: E712 (the result compares equal to the bool too)
    assert "not attempted" in capsys.readouterr().out


def test_grading_mode_fails_a_stub(monkeypatch):
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    with pytest.raises(CheckFailed, match="not attempted"):
        check_function(stub, reference, CASES, exercise="Ex", hint="h")


def test_correct_answer_passes(capsys):
    assert check_function(lambda x: x * 2.0, reference, CASES, exercise="Ex", hint="h")
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda x: x * 3.0, "differs from the expected value"),
    (lambda x: (x * 2.0)[None], "has shape (1, 3), expected (3,)"),
    (lambda x: (x * 2.0).tolist(), "is a list"),
    (lambda x: np.full_like(x, np.nan), "NaN"),
    (lambda x: (x * 2).astype(int), "floating point"),
    (lambda x: None, "forget a `return`"),
    (lambda x: 1 / 0, "ZeroDivisionError"),
    (lambda x: torch.tensor(x * 3.0), "expected 4, got 6"),
])
def test_wrong_answers_are_named(wrong, message):
    with pytest.raises(CheckFailed) as error:
        check_function(wrong, reference, CASES, exercise="Ex", hint="the hint")
    assert message in str(error.value)
    assert "Ex" in str(error.value)


def test_failure_renders_without_traceback():
    with pytest.raises(CheckFailed) as error:
        check_function(lambda x: x, reference, CASES, exercise="Ex", hint="the hint")
    rendered = error.value._render_traceback_()
    assert len(rendered) == 1 and "Hint: the hint" in rendered[0] and "Traceback" not in rendered[0]


def test_learner_cannot_corrupt_reference_inputs():
    def mutating(x):
        x[:] = 100.0
        return x * 0 + 2 * np.arange(3.0)[: len(x)]
    assert check_function(mutating, reference, [Case((np.arange(3.0),))], exercise="Ex", hint="h")


def test_not_a_function():
    with pytest.raises(CheckFailed, match="without calling it"):
        check_function(3.0, reference, CASES, exercise="Ex", hint="h")


def test_compare_structures():
    assert compare((1.0, {"a": np.ones(2)}), (1.0, {"a": np.ones(2)})) is None
    assert "missing the key" in compare({"a": 1.0}, {})
    assert "2 items" in compare((1, 2), (1,))
    assert "whole number" in compare(3, 3.5)
    assert compare(math.inf, math.inf) is None
    assert "True or False" in compare(True, 1)


def test_check_value(capsys):
    assert not check_value(..., 3.0, exercise="Ex", hint="h")
    assert check_value(3.0, 3.0, exercise="Ex", hint="h")
    with pytest.raises(CheckFailed, match="expected 3"):
        check_value(4.0, 3.0, exercise="Ex", hint="h")


def endless(x):
    while True:
        pass


def test_a_loop_that_never_ends_is_stopped_and_named():
    start = time.perf_counter()
    with pytest.raises(CheckFailed) as error:
        check_function(endless, reference, CASES, exercise="Ex", hint="the hint", time_limit=0.3)
    assert time.perf_counter() - start < 3
    message = str(error.value)
    assert "did not return within 0.3 s on input (array([0., 1., 2.]))" in message
    assert "loop that never ends" in message and "Hint: the hint" in message


def test_time_limit_survives_a_bare_except_and_leaves_nothing_behind():
    def stubborn(x):
        try:
            while True:
                pass
        except:  # noqa: E722 (the learner's code this test is about: it swallows the first time-out)
            pass
        while True:
            pass
    with pytest.raises(CheckFailed, match="did not return within"):
        check_function(stubborn, reference, CASES, exercise="Ex", hint="h", time_limit=0.2)
    time.sleep(0.8)  # a stray time-out raised later would fail this test here
    assert check_function(lambda x: x * 2.0, reference, CASES, exercise="Ex", hint="h", time_limit=5.0)


def test_an_array_where_a_tuple_is_expected():
    with pytest.raises(CheckFailed, match=r"should be a tuple of 2 items .*got an array of shape \(2,\)"):
        check_function(lambda x: np.array([1.0, 2.0]), lambda x: (1.0, 2.0), CASES[:1], exercise="Ex", hint="h")


@pytest.mark.parametrize("value, message", [(math.nan, "NaN"), (math.inf, "whole number, got inf"),
                                            (np.float64(-math.inf), "whole number, got -inf")])
def test_nan_or_inf_where_a_whole_number_is_expected(value, message):
    with pytest.raises(CheckFailed, match=message):
        check_function(lambda x: value, lambda x: 3, CASES[:1], exercise="Ex", hint="h")
    assert message in compare({"n": 3}, {"n": value})


@pytest.mark.parametrize("convert", [lambda a: a.astype(np.float32), lambda a: torch.tensor(a, dtype=torch.float32)])
def test_float32_with_the_same_digits_names_the_dtype(convert):
    values = np.array([math.pi, math.e, 1 / 3])
    problem = compare(values, convert(values), rtol=1e-12, atol=0)
    assert "dtype is float32" in problem and "float64" in problem
    assert "dtype" not in compare(values, convert(values) * 2, rtol=1e-12, atol=0)
    assert "dtype is float32" in compare(math.pi, np.float32(math.pi), rtol=1e-12, atol=0)


def test_a_raising_function_gets_the_hint_and_its_line():
    def broken(x):
        return x[10]
    with pytest.raises(CheckFailed) as error:
        check_function(broken, reference, CASES, exercise="Ex", hint="the hint")
    message = str(error.value)
    assert "IndexError" in message and "`return x[10]`" in message and "Hint: the hint" in message


def running_states(x):
    raise NotImplementedError("Exercise 1.1")


def test_calling_an_earlier_stub_names_it_and_is_not_not_attempted(capsys):
    def cot_tokens(x):
        return running_states(x) * 2
    with pytest.raises(CheckFailed) as error:
        check_function(cot_tokens, reference, CASES, exercise="Ex 1.2", hint="h")
    assert "uses your `running_states` from an earlier exercise, which is still a stub" in str(error.value)
    assert "not attempted" not in capsys.readouterr().out
    assert not check_function(running_states, reference, CASES, exercise="Ex 1.1", hint="h")  # its own stub


@pytest.mark.parametrize("call", [lambda: asyncio.AbstractEventLoop().time(),  # raised inside the standard library
                                  lambda: torch.ones(2, 2).to_sparse().view(-1)])  # from C, on the learner's line
def test_a_not_implemented_error_that_is_no_stub_is_a_bug(call, capsys):
    def uses_missing_feature(x):
        return call()
    with pytest.raises(CheckFailed, match="raised NotImplementedError"):
        check_function(uses_missing_feature, reference, CASES, exercise="Ex", hint="h")


def fresh(rng):
    return [Case((rng.normal(size=4),), label="a fresh random input")]


def test_fresh_cases_only_under_grading_and_seeded_by_the_exercise(monkeypatch, capsys):
    seen = []

    def recording(x):
        seen.append(x.copy())
        return x * 2.0
    check_function(recording, reference, CASES, exercise="Ex", hint="h", fresh_cases=fresh)
    assert len(seen) == len(CASES)
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    for _ in range(2):
        check_function(recording, reference, CASES, exercise="Ex", hint="h", fresh_cases=fresh)
    assert len(seen) == len(CASES) * 3 + 2 and np.array_equal(seen[-1], seen[len(CASES) * 2])  # a regrade: same
    check_function(recording, reference, CASES, exercise="Other", hint="h", fresh_cases=fresh)
    assert not np.array_equal(seen[-1], seen[-2])
    hard_coded = {0: np.zeros(0), 3: 2 * np.arange(3.0)}
    with pytest.raises(CheckFailed, match="a fresh random input"):
        check_function(lambda x: hard_coded[len(x)], reference, CASES, exercise="Ex", hint="h", fresh_cases=fresh)


def own_wrapper(a):
    return solve_by_bisection(a)


def own_module_wrapper(a):
    import simplex_edu.welcome
    return simplex_edu.welcome.solve_by_bisection(a, tol=1e-12)


def uses_other_helpers(a):
    from simplex_edu import welcome
    return welcome.solve_by_table(a, welcome.build_table(2000)) * 0 + solve_by_own_loop(a)


def solve_by_own_loop(a):
    low, high = 0.0, max(1.0, a)
    while high - low > 1e-12:
        middle = (low + high) / 2
        low, high = (middle, high) if middle * math.exp(middle) < a else (low, middle)
    return low


@pytest.mark.parametrize("answer", [solve_by_bisection, own_wrapper, own_module_wrapper,
                                    lambda a: solve_by_bisection(a)])
def test_the_course_reference_is_refused_under_grading(answer, monkeypatch, capsys):
    cases = [Case((1.0,)), Case((5.0,))]
    assert check_function(answer, solve_by_bisection, cases, exercise="Ex", hint="h", atol=1e-8)  # learners: fine
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    with pytest.raises(CheckFailed, match="course's own `solve_by_bisection`.*Write the function yourself"):
        check_function(answer, solve_by_bisection, cases, exercise="Ex", hint="h", atol=1e-8)


def test_calling_other_library_helpers_is_not_refused(monkeypatch, capsys):
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    for answer in (uses_other_helpers, solve_by_own_loop):
        assert check_function(answer, solve_by_bisection, [Case((1.0,))], exercise="Ex", hint="h", atol=1e-8)


def test_changing_an_input_in_place_is_named_when_the_docstring_forbids_it(capsys):
    def permute(w, p):  # the learner renamed the arguments: the message uses the docstring's (reference's) names
        w["W1"] = w["W1"][p]
        return w

    def reference_permute(weights, perm):
        return {"W1": weights["W1"][perm]}
    case = Case(({"W1": np.eye(2)}, np.array([1, 0])))
    with pytest.raises(CheckFailed) as error:
        check_function(permute, reference_permute, [case], exercise="Ex", hint="h", inputs_read_only=True)
    assert "changed its input `weights['W1']` in place; the docstring asks for a new one" in str(error.value)
    assert check_function(permute, reference_permute, [case], exercise="Ex", hint="h")


@dataclass
class Spec:
    width: int


def test_a_changed_dataclass_input_is_named_and_never_reaches_the_reference():
    def widen(spec):
        spec.width += 1
        return spec.width
    with pytest.raises(CheckFailed, match=r"changed its input `spec.width` in place"):
        check_function(widen, lambda spec: spec.width + 1, [Case((Spec(3),))], exercise="Ex", hint="h",
                       inputs_read_only=True)


def test_a_recognised_mistake_is_named():
    diagnoses = [Diagnosis(lambda x: x * 4.0, "you doubled twice"), Diagnosis(lambda x: x * 3.0, "you tripled")]
    with pytest.raises(CheckFailed) as error:
        check_function(lambda x: x * 3.0, reference, CASES, exercise="Ex", hint="h", diagnoses=diagnoses)
    assert "It looks like you tripled." in str(error.value) and "doubled" not in str(error.value)
    with pytest.raises(CheckFailed) as error:
        check_function(lambda x: x * 5.0, reference, CASES, exercise="Ex", hint="h", diagnoses=diagnoses)
    assert "looks like" not in str(error.value)


def test_an_ambiguous_mistake_is_told_apart_on_the_other_cases():
    # On the first case (x = 1) "+ 1" and "squared + 1" give the same wrong answer; the second case tells them apart.
    cases = [Case((1.0,)), Case((3.0,))]
    diagnoses = [Diagnosis(lambda x: x**2 + 1, "squared plus one"), Diagnosis(lambda x: x + 1, "plus one")]
    with pytest.raises(CheckFailed) as error:
        check_function(lambda x: x + 1, lambda x: x, cases, exercise="Ex", hint="h", diagnoses=diagnoses)
    assert "It looks like plus one." in str(error.value)
    with pytest.raises(CheckFailed) as error:  # a mistake that is the right answer on this case is no diagnosis
        check_function(lambda x: -x, lambda x: x, [Case((2.0,))], exercise="Ex", hint="h",
                       diagnoses=[Diagnosis(lambda x: x, "nothing")])
    assert "looks like" not in str(error.value)


# Inside a real kernel: the time limit must stop a learner's endless loop, and an interrupt during a check must
# end in one short line; afterwards the kernel still answers.

ENDLESS_BISECTION = """
import math
from simplex_edu.checks.core import Case, check_function
from simplex_edu.welcome import solve_by_bisection
def bisection(a, tol=1e-17):  # finer than float spacing near the root: the loop never ends
    low, high = 0.0, max(1.0, a)
    while high - low > tol:
        middle = 0.5 * (low + high)
        if middle * math.exp(middle) < a:
            low = middle
        else:
            high = middle
    return low
check_function(bisection, solve_by_bisection, [Case((1.0,), label="a = 1")], exercise="Exercise 1.1",
               hint="stop when high − low < tol", time_limit={limit})
"""


@pytest.fixture(scope="module")
def kernel():
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def _run(client, code: str, interrupt_after: float | None = None, manager=None, timeout: float = 60) -> list[dict]:
    """Execute ``code`` in the kernel and return its iopub messages until it is idle again."""
    msg_id = client.execute(code)
    messages, start, interrupted = [], time.monotonic(), False
    while time.monotonic() - start < timeout:
        if interrupt_after is not None and not interrupted and time.monotonic() - start > interrupt_after:
            manager.interrupt_kernel()
            interrupted = True
        try:
            msg = client.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
    raise AssertionError(f"the kernel did not finish {code[:40]!r} within {timeout} s")


def _error(messages: list[dict]) -> dict:
    return next(m["content"] for m in messages if m["msg_type"] == "error")


def _still_alive(client) -> None:
    result = [m for m in _run(client, "6 * 7") if m["msg_type"] == "execute_result"]
    assert result[0]["content"]["data"]["text/plain"] == "42"


def test_endless_loop_in_a_kernel_ends_in_one_line(kernel):
    manager, client = kernel
    start = time.monotonic()
    error = _error(_run(client, ENDLESS_BISECTION.format(limit=1)))
    assert time.monotonic() - start < 30
    assert error["ename"] == "CheckFailed" and len(error["traceback"]) == 1
    assert "did not return within 1 s on input a = 1 — is there a loop that never ends?" in error["traceback"][0]
    _still_alive(client)


def test_interrupt_during_a_check_in_a_kernel_ends_in_one_line(kernel):
    manager, client = kernel
    error = _error(_run(client, ENDLESS_BISECTION.format(limit=None), interrupt_after=3, manager=manager))
    assert error["ename"] == "CheckFailed" and len(error["traceback"]) == 1
    assert "interrupted after" in error["traceback"][0] and "on input a = 1" in error["traceback"][0]
    _still_alive(client)
