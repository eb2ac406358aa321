"""Checks for lesson 05 (belief-state geometry): each compares the learner's function with simplex_edu.beliefs."""

from __future__ import annotations

from typing import Callable

import numpy as np

from simplex_edu import beliefs as B
from simplex_edu.checks.core import Case, CheckResult, check_function


def _random_hmm(n_states: int, n_tokens: int, seed: int) -> np.ndarray:
    """A random transition tensor T[a, i, j] whose (a, j) entries sum to 1 for every i: not Mess3, so no shortcuts."""
    tensor = np.random.default_rng(seed).random((n_tokens, n_states, n_states))
    return tensor / tensor.sum(axis=(0, 2), keepdims=True)


def check_belief_update(fn: Callable) -> CheckResult:
    """Exercise 1.1: one forward-algorithm step, on Mess3 and on a random 4-state HMM."""
    mess3, other = B.mess3(), _random_hmm(4, 3, seed=0)
    cases = [
        Case((np.ones(3) / 3, 0, mess3), label="Mess3, uniform belief, token 0 (answer [0.85, 0.075, 0.075])"),
        Case((np.array([0.7, 0.2, 0.1]), 2, mess3), label="Mess3, belief [0.7, 0.2, 0.1], token 2"),
        Case((np.array([1.0, 0.0, 0.0]), 1, mess3), label="Mess3, certain of state 0, token 1 (a surprise)"),
        Case((np.array([0.1, 0.2, 0.3, 0.4]), 1, other), label="a random 4-state HMM, token 1"),
        Case((np.array([0.0, 0.5, 0.0, 0.5]), 2, other), label="a random 4-state HMM, belief with zeros, token 2"),
    ]
    return check_function(fn, B.belief_update, cases, exercise="Exercise 1.1 (belief_update)", rtol=1e-8, atol=1e-10,
                          hint="multiply the belief (a row vector) by the token's matrix, belief @ transitions[token], "
                               "which sums over the current state i; then divide by the sum so it adds up to 1.")


def check_simplex_to_xy(fn: Callable) -> CheckResult:
    """Exercise 2.1: barycentric coordinates to the plane, for one point and for a batch."""
    cases = [
        Case((np.array([1.0, 0.0, 0.0]),), label="the corner 'state 0' (answer [0, 0])"),
        Case((np.array([0.0, 0.0, 1.0]),), label="the corner 'state 2' (answer [0.5, 0.866])"),
        Case((np.ones(3) / 3,), label="the centre (answer [0.5, 0.289])"),
        Case((np.array([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0], [0.85, 0.075, 0.075]]),), label="a batch of 3 points"),
    ]
    return check_function(fn, B.simplex_to_xy, cases, exercise="Exercise 2.1 (simplex_to_xy)", rtol=1e-8, atol=1e-10,
                          hint="each point is the probability-weighted average of the corners: p @ corners, where "
                               "corners is the (3, 2) array [[0, 0], [1, 0], [0.5, sqrt(3)/2]]. Using @ makes the "
                               "same line work for one point (3,) and a batch (n, 3).")


def check_fit_linear_probe(fn: Callable) -> CheckResult:
    """Exercise 3.1: least squares with a bias row, on exact, noisy and one-feature data."""
    rng = np.random.default_rng(0)
    acts = rng.normal(size=(200, 5))
    weights = rng.normal(size=(6, 3))
    exact = acts @ weights[:-1] + weights[-1]
    single = rng.normal(size=(50, 1))
    cases = [
        Case((acts, exact), label="targets exactly linear in 5 features (the weights come back exactly)"),
        Case((acts, exact + 0.1 * rng.normal(size=exact.shape)), label="the same targets with noise"),
        Case((acts, np.full((200, 3), 1 / 3)), label="constant targets (all weight in the bias row)"),
        Case((single, 2 * single - 1), label="one feature: target = 2·a − 1, so W = [[2], [-1]]"),
    ]
    return check_function(fn, B.fit_linear_probe, cases, exercise="Exercise 3.1 (fit_linear_probe)",
                          rtol=1e-6, atol=1e-8,
                          hint="append a column of ones to the activations (np.hstack) so the last row of W is the "
                               "bias, then solve np.linalg.lstsq(design, targets, rcond=None)[0].")


def check_simplex_rmse(fn: Callable) -> CheckResult:
    """Exercise 3.2: root mean squared distance, for flat and sequence-shaped arrays."""
    rng = np.random.default_rng(1)
    p, q = rng.dirichlet(np.ones(3), size=(4, 6)), rng.dirichlet(np.ones(3), size=(4, 6))
    cases = [
        Case((np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])), label="one point, corner to corner "
             "(answer √2 ≈ 1.414)"),
        Case((np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]), np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])),
             label="predictions equal to the truth (answer 0)"),
        Case((p[0], q[0]), label="6 points, shape (6, 3)"),
        Case((p, q), label="4 sequences of 6 points, shape (4, 6, 3): average over every point"),
    ]
    return check_function(fn, B.simplex_rmse, cases, exercise="Exercise 3.2 (simplex_rmse)", rtol=1e-8, atol=1e-12,
                          hint="square the differences, sum over the LAST axis only (that is one squared distance "
                               "per point), take the mean over all the points, then the square root.")


def check_next_token_probs(fn: Callable) -> CheckResult:
    """Exercise 4.1: next-token probabilities from beliefs, on Mess3 and a random HMM, single and batched."""
    mess3, other = B.mess3(), _random_hmm(4, 3, seed=2)
    rng = np.random.default_rng(3)
    cases = [
        Case((np.array([1.0, 0.0, 0.0]), mess3), label="Mess3, certain of state 0 (answer [0.7725, 0.114, 0.114])"),
        Case((np.ones(3) / 3, mess3), label="Mess3, uniform belief (answer [1/3, 1/3, 1/3])"),
        Case((rng.dirichlet(np.ones(3), size=5), mess3), label="Mess3, a batch of 5 beliefs, shape (5, 3)"),
        Case((rng.dirichlet(np.ones(4), size=2), other), label="a random 4-state HMM, a batch of 2 beliefs"),
    ]
    return check_function(fn, B.next_token_probs, cases, exercise="Exercise 4.1 (next_token_probs)",
                          rtol=1e-8, atol=1e-10,
                          hint="B[i, a] = transitions[a, i, :].sum(): sum out the next state j (axis 2) and "
                               "transpose to (states, tokens); then return belief @ B.")
