"""Checks for lesson 05 (belief-state geometry): each compares the learner's function with simplex_edu.beliefs.

Each check also knows the mistakes learners usually make (``Diagnosis``es) and names the one it recognises.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from simplex_edu import beliefs as B
from simplex_edu.checks.core import Case, CheckResult, Diagnosis, check_function


def _random_hmm(n_states: int, n_tokens: int, seed: int) -> np.ndarray:
    """A random transition tensor T[a, i, j] whose (a, j) entries sum to 1 for every i: not Mess3, so no shortcuts."""
    tensor = np.random.default_rng(seed).random((n_tokens, n_states, n_states))
    return tensor / tensor.sum(axis=(0, 2), keepdims=True)


def _fresh_beliefs(rng: np.random.Generator, n_states: int, size: int | None = None) -> np.ndarray:
    return rng.dirichlet(np.ones(n_states), size=size)


def _fresh_update_cases(rng: np.random.Generator) -> list[Case]:
    """A seeded random HMM, belief and token, for a grader."""
    states, tokens = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    transitions = _random_hmm(states, tokens, int(rng.integers(1000)))
    return [Case((_fresh_beliefs(rng, states), int(rng.integers(tokens)), transitions),
                 label=f"fresh {states}-state HMM (grading)")]


def _fresh_xy_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded points of the simplex, for a grader."""
    return [Case((_fresh_beliefs(rng, 3, 5),), label="fresh points (grading)")]


def _fresh_probe_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded activations and targets, for a grader."""
    return [Case((rng.normal(size=(60, 4)), rng.normal(size=(60, 3))), label="fresh activations and targets (grading)")]


def _fresh_rmse_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded sequences of beliefs, for a grader."""
    return [Case((_fresh_beliefs(rng, 3, (3, 5)), _fresh_beliefs(rng, 3, (3, 5))), label="fresh sequences (grading)")]


def _fresh_next_token_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded beliefs of a random 4-state, 2-token HMM, for a grader."""
    return [Case((_fresh_beliefs(rng, 4, 3), _random_hmm(4, 2, int(rng.integers(1000)))),
                 label="fresh 4-state, 2-token HMM (grading)")]


def _normalised(vector: np.ndarray) -> np.ndarray:
    return vector / vector.sum(axis=-1, keepdims=True)


BELIEF_DIAGNOSES = [
    Diagnosis(lambda b, token, T: b @ T[token],
              "the result is not normalised: divide by its sum so the belief adds up to 1"),
    Diagnosis(lambda b, token, T: _normalised(T[token] @ b),
              "the product is T[token] @ belief, which sums over the next state j: belief @ transitions[token] sums "
              "over the current state i"),
    Diagnosis(lambda b, token, T: _normalised(b * T[token].sum(axis=1)),
              "the belief is reweighted by P(token | state i) but never carried to the next state: the sum over i "
              "of belief[i]·T[token][i, j] does both"),
    Diagnosis(lambda b, token, T: _normalised(b @ T[:, :, token].T),
              "the token indexes the last axis: transitions[token] is T[a] (token first)"),
]


def check_belief_update(fn: Callable) -> CheckResult:
    """Exercise 1.1: one forward-algorithm step, on Mess3 and on a random 4-state HMM."""
    mess3, other = B.mess3(), _random_hmm(4, 3, seed=0)
    cases = [
        Case((np.array([0.7, 0.2, 0.1]), 2, mess3), label="Mess3, belief [0.7, 0.2, 0.1], token 2"),
        Case((np.ones(3) / 3, 0, mess3), label="Mess3, uniform belief, token 0 (answer [0.85, 0.075, 0.075])"),
        Case((np.array([1.0, 0.0, 0.0]), 1, mess3), label="Mess3, certain of state 0, token 1 (a surprise)"),
        Case((np.array([0.1, 0.2, 0.3, 0.4]), 1, other), label="a random 4-state HMM, token 1"),
        Case((np.array([0.0, 0.5, 0.0, 0.5]), 2, other), label="a random 4-state HMM, belief with zeros, token 2"),
    ]
    return check_function(fn, B.belief_update, cases, diagnoses=BELIEF_DIAGNOSES, fresh_cases=_fresh_update_cases,
                          exercise="Exercise 1.1 (belief_update)", rtol=1e-8, atol=1e-10,
                          hint="multiply the belief (a row vector) by the token's matrix, "
                               "belief @ transitions[token], which sums over the current state i; then divide by "
                               "the sum so it adds up to 1.")


def _corners_at(corners: list) -> Callable:
    return lambda p: np.asarray(p) @ np.array(corners)


XY_DIAGNOSES = [
    Diagnosis(_corners_at([[0, 0], [1, 0], [0.5, 1.0]]),
              "the triangle's top corner is at height 1: state 2 sits at (0.5, √3/2 ≈ 0.866), so all sides are 1"),
    Diagnosis(_corners_at([[0, 0], [0.5, np.sqrt(3) / 2], [1, 0]]),
              "the corners of states 1 and 2 are swapped: state 1 is at (1, 0), state 2 at (0.5, √3/2)"),
    Diagnosis(_corners_at([[1, 0], [0, 0], [0.5, np.sqrt(3) / 2]]),
              "the corners of states 0 and 1 are swapped: state 0 is at (0, 0), state 1 at (1, 0)"),
    Diagnosis(lambda p: np.array([p[1] + 0.5 * p[2], np.sqrt(3) / 2 * p[2]]),
              "p[1] and p[2] pick rows of a batch, not probabilities: use p[..., 1] and p[..., 2] (or p @ corners)"),
    Diagnosis(lambda p: np.stack([p[..., 1] + 0.5 * p[..., 2], np.sqrt(3) / 2 * p[..., 2]]),
              "x and y are stacked on the first axis, giving shape (2, n): stack on the last axis (axis=-1)"),
]


def check_simplex_to_xy(fn: Callable) -> CheckResult:
    """Exercise 2.1: barycentric coordinates to the plane, for one point and for a batch."""
    cases = [
        Case((np.array([1.0, 0.0, 0.0]),), label="the corner 'state 0' (answer [0, 0])"),
        Case((np.array([0.0, 0.0, 1.0]),), label="the corner 'state 2' (answer [0.5, 0.866])"),
        Case((np.ones(3) / 3,), label="the centre (answer [0.5, 0.289])"),
        Case((np.array([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0], [0.85, 0.075, 0.075]]),), label="a batch of 3 points"),
    ]
    return check_function(fn, B.simplex_to_xy, cases, diagnoses=XY_DIAGNOSES, fresh_cases=_fresh_xy_cases,
                          exercise="Exercise 2.1 (simplex_to_xy)", rtol=1e-8, atol=1e-10,
                          hint="each point is the probability-weighted average of the corners: p @ corners, where "
                               "corners is the (3, 2) array [[0, 0], [1, 0], [0.5, sqrt(3)/2]]. Using @ makes the "
                               "same line work for one point (3,) and a batch (n, 3).")


def _least_squares(design: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(design, targets, rcond=None)[0]


def _ones(activations: np.ndarray) -> np.ndarray:
    return np.ones((len(activations), 1))


PROBE_DIAGNOSES = [
    Diagnosis(lambda a, t: _least_squares(a, t),
              "the bias row is missing: append a column of ones to the activations, so W has H + 1 rows"),
    Diagnosis(lambda a, t: _least_squares(np.hstack([_ones(a), a]), t),
              "the bias is the first row: append the column of ones LAST, so the last row of W is the bias"),
    Diagnosis(lambda a, t: np.linalg.lstsq(np.hstack([a, _ones(a)]), t, rcond=None),
              "you returned everything np.linalg.lstsq returns: the solution is its first item, [0]"),
    Diagnosis(lambda a, t: _least_squares(np.hstack([a, np.ones_like(a)]), t),
              "a whole block of ones (np.ones_like(activations)) was appended: append ONE column of ones"),
]


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
    return check_function(fn, B.fit_linear_probe, cases, diagnoses=PROBE_DIAGNOSES, fresh_cases=_fresh_probe_cases,
                          exercise="Exercise 3.1 (fit_linear_probe)", rtol=1e-6, atol=1e-8,
                          hint="append a column of ones to the activations (np.hstack) so the last row of W is "
                               "the bias, then solve np.linalg.lstsq(design, targets, rcond=None)[0].")


def _squared_distances(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.sum((np.asarray(p) - np.asarray(q)) ** 2, axis=-1)


RMSE_DIAGNOSES = [
    Diagnosis(lambda p, q: float(np.sqrt(np.mean((np.asarray(p) - np.asarray(q)) ** 2))),
              "the mean runs over every coordinate too (dividing by K): sum over the last axis first, then average "
              "over the points"),
    Diagnosis(lambda p, q: float(np.mean(_squared_distances(p, q))),
              "the square root is missing"),
    Diagnosis(lambda p, q: float(np.mean(np.sqrt(_squared_distances(p, q)))),
              "this is the mean distance: take the root of the mean SQUARED distance"),
    Diagnosis(lambda p, q: float(np.sqrt(np.sum(_squared_distances(p, q)))),
              "the squared distances are summed over the points, not averaged"),
    Diagnosis(lambda p, q: float(np.sqrt(np.mean(np.sum((np.asarray(p) - np.asarray(q)) ** 2, axis=0)))),
              "the differences are summed over the first axis (the points), not the last (the distribution)"),
]


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
    return check_function(fn, B.simplex_rmse, cases, diagnoses=RMSE_DIAGNOSES, fresh_cases=_fresh_rmse_cases,
                          exercise="Exercise 3.2 (simplex_rmse)",
                          rtol=1e-8, atol=1e-12,
                          hint="square the differences, sum over the LAST axis only (that is one squared distance "
                               "per point), take the mean over all the points, then the square root.")


NEXT_TOKEN_DIAGNOSES = [
    Diagnosis(lambda b, T: b @ T.sum(axis=1).T,
              "the current state i is summed out (axis 1): sum out the NEXT state j, transitions.sum(axis=2)"),
    Diagnosis(lambda b, T: b @ T.sum(axis=2),
              "the transpose is missing: transitions.sum(axis=2) is indexed [token, state], so B is its .T"),
    Diagnosis(lambda b, T: b @ T.sum(axis=0),
              "the tokens are summed out (axis 0): that gives the next state's distribution, not the next token's"),
    Diagnosis(lambda b, T: T.sum(axis=2).T,
              "this is B itself: return belief @ B"),
    Diagnosis(lambda b, T: b @ B.emission_matrix(B.mess3()),
              "Mess3's matrix is built in: compute B from the `transitions` argument, which may be any HMM"),
]


def check_next_token_probs(fn: Callable) -> CheckResult:
    """Exercise 4.1: next-token probabilities from beliefs, on Mess3 and a random HMM, single and batched."""
    mess3, other, square = B.mess3(), _random_hmm(4, 3, seed=2), _random_hmm(3, 3, seed=4)
    rng = np.random.default_rng(3)
    cases = [
        Case((np.array([1.0, 0.0, 0.0]), mess3), label="Mess3, certain of state 0 (answer [0.7725, 0.114, 0.114])"),
        Case((np.ones(3) / 3, mess3), label="Mess3, uniform belief (answer [1/3, 1/3, 1/3])"),
        Case((rng.dirichlet(np.ones(3), size=5), mess3), label="Mess3, a batch of 5 beliefs, shape (5, 3)"),
        Case((np.array([0.6, 0.3, 0.1]), square), label="a random 3-state, 3-token HMM (not symmetric like Mess3)"),
        Case((rng.dirichlet(np.ones(4), size=2), other), label="a random 4-state HMM, a batch of 2 beliefs"),
    ]
    return check_function(fn, B.next_token_probs, cases, diagnoses=NEXT_TOKEN_DIAGNOSES,
                          fresh_cases=_fresh_next_token_cases,
                          exercise="Exercise 4.1 (next_token_probs)", rtol=1e-8, atol=1e-10,
                          hint="B[i, a] = transitions[a, i, :].sum(): sum out the next state j (axis 2) and "
                               "transpose to (states, tokens); then return belief @ B.")
