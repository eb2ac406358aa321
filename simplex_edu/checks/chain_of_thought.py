"""Checks for lesson 03 (chain of thought): each compares the learner's function with the reference."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from simplex_edu import chain_of_thought as ref
from simplex_edu.checks.core import Case, check_function


def _bits(*rows: list[int]) -> torch.Tensor:
    return torch.tensor(rows)


def check_running_states(fn: Callable) -> bool:
    """Exercise 1.1: the state after every step, (x_1 + … + x_i) mod k."""
    cases = [
        Case((_bits([1, 0, 1, 1]),), label="x = [[1, 0, 1, 1]] (parity)"),
        Case((_bits([1]),), label="one step, x = [[1]]"),
        Case((_bits([0, 0, 0], [1, 1, 1]),), label="two problems, all zeros and all ones"),
        Case((_bits([2, 2, 1, 0, 2]), 3), label="x = [[2, 2, 1, 0, 2]], k = 3"),
        Case((ref.sample_inputs(5, 12, 5, torch.Generator().manual_seed(0)), 5), label="5 random problems, k = 5"),
    ]
    return check_function(fn, ref.running_states, cases, exercise="Exercise 1.1 (running_states)",
                          hint="the state after step i includes x_i itself (an inclusive running sum, "
                               "torch.cumsum along the last axis), and every state is taken mod k.")


def check_cot_tokens(fn: Callable) -> bool:
    """Exercise 1.2: interleave inputs with their states, states shifted to ids k..2k-1."""
    cases = [
        Case((_bits([1, 0, 1]),), label="x = [[1, 0, 1]] (parity)"),
        Case((_bits([0]),), label="one step, x = [[0]]"),
        Case((_bits([2, 2, 1]), 3), label="x = [[2, 2, 1]], k = 3"),
        Case((ref.sample_inputs(4, 9, 2, torch.Generator().manual_seed(1)),), label="4 random parity problems"),
    ]
    return check_function(fn, ref.cot_tokens, cases, exercise="Exercise 1.2 (cot_tokens)",
                          hint="the result has length 2N: x_1, k + s_1, x_2, k + s_2, … — stack x and "
                               "running_states(x, k) + k on a new last axis, then flatten the last two axes.")


def check_accuracy_by_length(fn: Callable) -> bool:
    """Exercise 2.1: accuracy of the answer at each length N, read from column N − 1."""
    truth = torch.tensor([[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 0, 0]])
    answers = torch.tensor([[1, 1, 1, 1], [0, 0, 1, 1], [1, 0, 0, 1]])
    generator = torch.Generator().manual_seed(2)
    cases = [
        Case((answers, truth, [1, 2, 3, 4]), label="3 problems, lengths [1, 2, 3, 4]"),
        Case((answers, truth, [4]), label="lengths [4] only"),
        Case((answers, truth, np.array([2, 4])), label="lengths np.array([2, 4])"),
        Case((torch.randint(0, 2, (50, 20), generator=generator), torch.randint(0, 2, (50, 20), generator=generator),
              [1, 8, 20]), label="50 random problems, lengths [1, 8, 20]"),
    ]
    return check_function(fn, ref.accuracy_by_length, cases, exercise="Exercise 2.1 (accuracy_by_length)",
                          hint="the answer for length N sits in column N − 1 (Python counts from 0); compare "
                               "answers and truth there, and average over the problems (rows), one number per N.")


def check_cot_query_flops(fn: Callable) -> bool:
    """Exercise 3.1: FLOPs of one chain-of-thought query, with and without a key–value cache."""
    small = ref.ModelSpec(d_model=8, n_layers=1, n_heads=2)
    cases = [
        Case((1, small, 2, True), label="n = 1, tiny model, cache"),
        Case((1, small, 2, False), label="n = 1, tiny model, no cache"),
        Case((3, small, 2, True), label="n = 3, tiny model, cache"),
        Case((3, small, 2, False), label="n = 3, tiny model, no cache"),
        Case((16, ref.ModelSpec(), 2, True), label="n = 16, the lesson's model, cache"),
        Case((16, ref.ModelSpec(), 2, False), label="n = 16, the lesson's model, no cache"),
    ]
    return check_function(fn, ref.cot_query_flops, cases, exercise="Exercise 3.1 (cot_query_flops)",
                          hint="a chain of length n reads 2n − 1 tokens (x_1, s_1, …, x_n). With a cache, token t "
                               "costs token_flops(spec, t, k) once. Without one, step i runs the model over "
                               "its whole prefix of 2i − 1 tokens, so sum over i = 1..n and t = 1..2i − 1.")


def check_compounded_accuracy(fn: Callable) -> bool:
    """Exercise 4.1: parity accuracy after n steps with per-step error eps."""
    cases = [
        Case((0.0, 10), label="eps = 0, n = 10"),
        Case((0.5, 3), label="eps = 0.5, n = 3"),
        Case((1.0, 3), label="eps = 1, n = 3 (every step wrong, odd count)"),
        Case((1.0, 4), label="eps = 1, n = 4 (every step wrong, even count)"),
        Case((0.01, 1), label="eps = 0.01, n = 1"),
        Case((0.02, np.array([1, 16, 64])), label="eps = 0.02, n = np.array([1, 16, 64])"),
    ]
    return check_function(fn, ref.compounded_accuracy, cases, exercise="Exercise 4.1 (compounded_accuracy)",
                          hint="the answer is right iff an even number of steps went wrong; "
                               "P(even) − P(odd) = (1 − 2ε)^n, and P(even) + P(odd) = 1.")
