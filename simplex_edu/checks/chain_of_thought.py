"""Checks for lesson 03 (chain of thought): each compares the learner's function with the reference.

Each check also knows the mistakes learners usually make (``Diagnosis``es) and names the one it recognises.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from simplex_edu import chain_of_thought as ref
from simplex_edu.checks.core import Case, CheckResult, Diagnosis, check_function


def _bits(*rows: list[int]) -> torch.Tensor:
    return torch.tensor(rows)


RUNNING_STATES_DIAGNOSES = [
    Diagnosis(lambda x, k=2: torch.cumsum(x, -1),
              "the running sum is not taken mod k"),
    Diagnosis(lambda x, k=2: (torch.cumsum(x, -1) - x) % k,
              "the states are exclusive: the state after step i must include x_i itself"),
    Diagnosis(lambda x, k=2: torch.cumsum(x, -1) % 2,
              "k is ignored (mod 2 always): it only matters when k is not 2"),
    Diagnosis(lambda x, k=2: torch.cumsum(x, 0) % k,
              "the sum runs down the problems (dim 0), not along each problem's steps (the last axis)"),
    Diagnosis(lambda x, k=2: x % k,
              "each state is x_i mod k alone, without the running sum"),
]


def _fresh_problems(rng: np.random.Generator, count: int = 2) -> list[Case]:
    """Seeded random problems with a random modulus k, for a grader."""
    cases = []
    for i in range(count):
        k = int(rng.integers(2, 7))
        x = torch.as_tensor(rng.integers(0, k, (int(rng.integers(1, 6)), int(rng.integers(1, 20)))))
        cases.append(Case((x, k), label=f"fresh problems {i + 1}, k = {k} (grading)"))
    return cases


def check_running_states(fn: Callable) -> CheckResult:
    """Exercise 1.1: the state after every step, (x_1 + … + x_i) mod k."""
    cases = [
        Case((_bits([1, 0, 1, 1]),), label="x = [[1, 0, 1, 1]] (parity)"),
        Case((_bits([1]),), label="one step, x = [[1]]"),
        Case((_bits([0, 0, 0], [1, 1, 1]),), label="two problems, all zeros and all ones"),
        Case((_bits([2, 2, 1, 0, 2]), 3), label="x = [[2, 2, 1, 0, 2]], k = 3"),
        Case((ref.sample_inputs(5, 12, 5, torch.Generator().manual_seed(0)), 5), label="5 random problems, k = 5"),
    ]
    return check_function(fn, ref.running_states, cases, diagnoses=RUNNING_STATES_DIAGNOSES,
                          fresh_cases=_fresh_problems,
                          exercise="Exercise 1.1 (running_states)",
                          hint="the state after step i includes x_i itself (an inclusive running sum, "
                               "torch.cumsum along the last axis), and every state is taken mod k.")


def _interleave(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    return torch.stack([first, second], dim=-1).flatten(-2)


COT_TOKENS_DIAGNOSES = [
    Diagnosis(lambda x, k=2: _interleave(x, ref.running_states(x, k)),
              "the states are not shifted by k: they must use ids k..2k−1, so add k to running_states(x, k)"),
    Diagnosis(lambda x, k=2: _interleave(x, ref.running_states(x, k) + 2),
              "the states are shifted by 2 instead of k (it only matters when k is not 2)"),
    Diagnosis(lambda x, k=2: torch.cat([x, ref.running_states(x, k) + k], -1),
              "the inputs and states are concatenated, not interleaved (x_1, k+s_1, x_2, k+s_2, …)"),
    Diagnosis(lambda x, k=2: _interleave(ref.running_states(x, k) + k, x),
              "each state comes before its input: the order is x_i, then k + s_i"),
    Diagnosis(lambda x, k=2: _interleave(x, (torch.cumsum(x, -1) - x) % k + k),
              "the states are exclusive (the state before x_i): s_i must include x_i"),
]


def check_cot_tokens(fn: Callable) -> CheckResult:
    """Exercise 1.2: interleave inputs with their states, states shifted to ids k..2k-1."""
    cases = [
        Case((_bits([1, 0, 1]),), label="x = [[1, 0, 1]] (parity)"),
        Case((_bits([0]),), label="one step, x = [[0]]"),
        Case((_bits([2, 2, 1]), 3), label="x = [[2, 2, 1]], k = 3"),
        Case((ref.sample_inputs(4, 9, 2, torch.Generator().manual_seed(1)),), label="4 random parity problems"),
    ]
    # The learner's function goes to check_function untouched: if it calls a running_states that is still a
    # stub, the core says so, instead of reporting this exercise as not attempted.
    return check_function(fn, ref.cot_tokens, cases, diagnoses=COT_TOKENS_DIAGNOSES, fresh_cases=_fresh_problems,
                          exercise="Exercise 1.2 (cot_tokens)",
                          hint="the result has length 2N: x_1, k + s_1, x_2, k + s_2, … — stack x and "
                               "running_states(x, k) + k on a new last axis, then flatten the last two axes.")


def _columns(lengths) -> torch.Tensor:
    return torch.as_tensor(np.asarray(lengths) - 1)


ACCURACY_DIAGNOSES = [
    Diagnosis(lambda a, t, lengths: ref.accuracy_by_length(a, t, np.asarray(lengths) + 1),
              "column N is read where the answer for length N sits in column N − 1 (Python counts from 0)"),
    Diagnosis(lambda a, t, lengths: (a[:, _columns(lengths)] == t[:, _columns(lengths)]).double().mean(1).numpy(),
              "the average runs over the lengths (dim 1) instead of over the problems (dim 0)"),
    Diagnosis(lambda a, t, lengths: (a[:, _columns(lengths)] == t[:, _columns(lengths)]).sum(0).numpy(),
              "right answers are counted, not averaged: divide by the number of problems"),
    Diagnosis(lambda a, t, lengths: np.array([(a[:, :n] == t[:, :n]).all(1).double().mean().item() for n in lengths]),
              "every state up to N is required to be right; only the answer at length N (column N − 1) counts"),
]


def _fresh_answers(rng: np.random.Generator) -> list[Case]:
    """Seeded answers and truths with a random subset of lengths, for a grader."""
    problems, steps = int(rng.integers(2, 40)), int(rng.integers(2, 30))
    answers, truth = (torch.as_tensor(rng.integers(0, 2, (problems, steps))) for _ in range(2))
    lengths = sorted(rng.choice(np.arange(1, steps + 1), size=min(3, steps), replace=False).tolist())
    return [Case((answers, truth, lengths), label=f"fresh {problems} problems, lengths {lengths} (grading)")]


def check_accuracy_by_length(fn: Callable) -> CheckResult:
    """Exercise 2.1: accuracy of the answer at each length N, read from column N − 1."""
    truth = torch.tensor([[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 0, 0]])
    answers = torch.tensor([[1, 1, 1, 1], [0, 0, 1, 1], [1, 0, 0, 1]])
    generator = torch.Generator().manual_seed(2)
    cases = [
        Case((answers, truth, [1, 2, 3]), label="3 problems of 4 steps, lengths [1, 2, 3]"),
        Case((answers, truth, [1, 2, 3, 4]), label="3 problems, lengths [1, 2, 3, 4]"),
        Case((answers, truth, [4]), label="lengths [4] only"),
        Case((answers, truth, np.array([2, 4])), label="lengths np.array([2, 4])"),
        Case((torch.randint(0, 2, (50, 20), generator=generator), torch.randint(0, 2, (50, 20), generator=generator),
              [1, 8, 20]), label="50 random problems, lengths [1, 8, 20]"),
    ]
    return check_function(fn, ref.accuracy_by_length, cases, diagnoses=ACCURACY_DIAGNOSES, fresh_cases=_fresh_answers,
                          exercise="Exercise 2.1 (accuracy_by_length)",
                          hint="the answer for length N sits in column N − 1 (Python counts from 0); compare "
                               "answers and truth there, and average over the problems (rows), one number per N.")


def _flops_with(cached: Callable[[int], range], uncached: Callable[[int], range], use_k: bool = True) -> Callable:
    """FLOPs summed over other token positions: ``cached(n)`` with a cache, ``uncached(i)`` for step i without."""
    def flops(n, spec, k=2, kv_cache=True):
        cost = (lambda t: ref.token_flops(spec, t, k)) if use_k else (lambda t: ref.token_flops(spec, t))
        if kv_cache:
            return sum(cost(t) for t in cached(n))
        return sum(cost(t) for i in range(1, n + 1) for t in uncached(i))
    return flops


def _right_cached(n: int) -> range:
    return range(1, 2 * n)


def _right_prefix(i: int) -> range:
    return range(1, 2 * i)


FLOPS_DIAGNOSES = [
    Diagnosis(_flops_with(_right_cached, _right_prefix, use_k=False),
              "k is ignored: token_flops(spec, t) uses the default k = 2; pass k on (token_flops(spec, t, k))"),
    Diagnosis(_flops_with(_right_cached, lambda i: range(1, 2 * i + 1)),
              "step i re-runs 2i tokens: its prefix is x_1, s_1, …, x_i, that is 2i − 1 tokens"),
    Diagnosis(_flops_with(lambda n: range(1, 2 * n + 1), lambda i: range(1, 2 * i + 1)),
              "2n tokens are counted: the chain reads 2n − 1 (x_1, s_1, …, x_n), t = 1 … 2n − 1"),
    Diagnosis(_flops_with(lambda n: range(0, 2 * n - 1), lambda i: range(0, 2 * i - 1)),
              "the positions start at 0: the token at position t (1-based) attends to t tokens, t = 1 … 2n − 1"),
    Diagnosis(lambda n, spec, k=2, kv_cache=True: ref.cot_query_flops(n, spec, k, True) * (1 if kv_cache else n),
              "without a cache every step re-runs the whole chain: step i re-runs only its own prefix of "
              "2i − 1 tokens"),
    Diagnosis(lambda n, spec, k=2, kv_cache=True: ref.cot_query_flops(n, spec, k, True),
              "kv_cache is ignored: without a cache, step i re-runs its whole prefix"),
    Diagnosis(_flops_with(lambda n: range(1, n + 1), lambda i: range(1, i + 1)),
              "only the n input tokens are counted: the chain also reads the states s_1 … s_(n−1)"),
]


def _fresh_flops_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded lengths, model sizes, moduli and cache settings, for a grader."""
    return [Case((int(rng.integers(1, 12)), ref.ModelSpec(d_model=int(rng.choice([8, 16, 32])),
                                                          n_layers=int(rng.integers(1, 4)), n_heads=2),
                  int(rng.integers(2, 7)), bool(rng.integers(2))), label=f"fresh case {i + 1} (grading)")
            for i in range(3)]


def check_cot_query_flops(fn: Callable) -> CheckResult:
    """Exercise 3.1: FLOPs of one chain-of-thought query, with and without a key–value cache, for any k."""
    small = ref.ModelSpec(d_model=8, n_layers=1, n_heads=2)
    cases = [
        Case((1, small, 2, True), label="n = 1, tiny model, cache"),
        Case((1, small, 2, False), label="n = 1, tiny model, no cache"),
        Case((3, small, 2, True), label="n = 3, tiny model, cache"),
        Case((3, small, 2, False), label="n = 3, tiny model, no cache"),
        Case((16, ref.ModelSpec(), 2, True), label="n = 16, the lesson's model, cache"),
        Case((16, ref.ModelSpec(), 2, False), label="n = 16, the lesson's model, no cache"),
        Case((3, small, 5, True), label="n = 3, tiny model, k = 5 (running sum mod 5), cache"),
        Case((4, ref.ModelSpec(d_model=16, n_layers=3, n_heads=4), 3, False),
             label="n = 4, a 3-layer model, k = 3, no cache"),
    ]
    # inputs_read_only: a learner's function that changes the ModelSpec it was given is told so.
    return check_function(
        fn, ref.cot_query_flops, cases, diagnoses=FLOPS_DIAGNOSES, exercise="Exercise 3.1 (cot_query_flops)",
        inputs_read_only=True, fresh_cases=_fresh_flops_cases,
        hint="a chain of length n reads 2n − 1 tokens (x_1, s_1, …, x_n). With a cache, token t "
             "costs token_flops(spec, t, k) once. Without one, step i runs the model over "
             "its whole prefix of 2i − 1 tokens, so sum over i = 1..n and t = 1..2i − 1. Pass k on to token_flops, "
             "and do not change `spec`.")


COMPOUNDED_DIAGNOSES = [
    Diagnosis(lambda eps, n: (1 - 2 * np.asarray(eps, dtype=float)) ** np.asarray(n),
              "this is P(even) − P(odd) = (1 − 2ε)^n; with P(even) + P(odd) = 1, P(even) = ½ + ½(1 − 2ε)^n"),
    Diagnosis(lambda eps, n: (1 - np.asarray(eps, dtype=float)) ** np.asarray(n),
              "(1 − ε)^n is the chance that no step errs, but an even number of errors also ends right"),
    Diagnosis(lambda eps, n: 0.5 - 0.5 * (1 - 2 * np.asarray(eps, dtype=float)) ** np.asarray(n),
              "this is P(odd), the chance the answer ends wrong: P(even) = ½ + ½(1 − 2ε)^n"),
    Diagnosis(lambda eps, n: 1 - np.asarray(n) * np.asarray(eps, dtype=float),
              "the errors are added up (1 − nε), but they are independent and two errors cancel"),
]


def check_compounded_accuracy(fn: Callable) -> CheckResult:
    """Exercise 4.1: parity accuracy after n steps with per-step error eps."""
    cases = [
        Case((0.0, 10), label="eps = 0, n = 10"),
        Case((0.1, 2), label="eps = 0.1, n = 2 (two errors cancel: 0.81 + 0.01)"),
        Case((0.5, 3), label="eps = 0.5, n = 3"),
        Case((1.0, 3), label="eps = 1, n = 3 (every step wrong, odd count)"),
        Case((1.0, 4), label="eps = 1, n = 4 (every step wrong, even count)"),
        Case((0.01, 1), label="eps = 0.01, n = 1"),
        Case((0.02, np.array([1, 16, 64])), label="eps = 0.02, n = np.array([1, 16, 64])"),
        Case((np.array([0.0, 0.1, 0.3]), 5), label="eps = np.array([0, 0.1, 0.3]), n = 5"),
    ]
    return check_function(fn, ref.compounded_accuracy, cases, diagnoses=COMPOUNDED_DIAGNOSES,
                          fresh_cases=lambda rng: [Case((rng.uniform(0, 0.5, 4), rng.integers(1, 50, 4)),
                                                        label="fresh eps and n arrays (grading)")],
                          exercise="Exercise 4.1 (compounded_accuracy)",
                          hint="the answer is right iff an even number of steps went wrong; "
                               "P(even) − P(odd) = (1 − 2ε)^n, and P(even) + P(odd) = 1.")
