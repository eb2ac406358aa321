"""Lesson 05's mistake catalogue: plausible wrong answers each check must reject (naming the mistake where it can),
and right answers written differently that it must accept."""

import numpy as np
from mistakes import Alternative, Mistake, catalogue_tests

from simplex_edu.checks import beliefs as checks

# --- Exercise 1.1: belief_update --------------------------------------------------------------------------------


def update_unnormalised(belief, token, transitions):
    return belief @ transitions[token]


def update_matrix_first(belief, token, transitions):
    new = transitions[token] @ belief
    return new / new.sum()


def update_without_moving(belief, token, transitions):
    new = belief * transitions[token].sum(axis=1)  # Bayes on the current state only, no step to the next
    return new / new.sum()


def update_normalised_by_old_belief(belief, token, transitions):
    return belief @ transitions[token] / belief.sum()


def update_by_loops(belief, token, transitions):
    n = len(belief)
    new = np.array([sum(belief[i] * transitions[token, i, j] for i in range(n)) for j in range(n)])
    return new / np.sum(new)


def update_einsum(belief, token, transitions):
    new = np.einsum("i,ij->j", belief, transitions[token])
    return new / np.linalg.norm(new, 1)


# --- Exercise 2.1: simplex_to_xy --------------------------------------------------------------------------------

def xy_height_one(p):
    return p @ np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 1.0]])


def xy_swapped_corners(p):
    return p @ np.array([[0.0, 0.0], [0.5, np.sqrt(3) / 2], [1.0, 0.0]])


def xy_row_indexing(p):
    return np.array([p[1] + 0.5 * p[2], np.sqrt(3) / 2 * p[2]])


def xy_stacked_first(p):
    return np.stack([p[..., 1] + 0.5 * p[..., 2], np.sqrt(3) / 2 * p[..., 2]])


def xy_explicit(p):
    p = np.asarray(p)
    return np.stack([p[..., 1] + p[..., 2] / 2, p[..., 2] * np.sin(np.pi / 3)], axis=-1)


def xy_einsum(p):
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [np.cos(np.pi / 3), np.sin(np.pi / 3)]])
    return np.einsum("...i,ic->...c", p, corners)


# --- Exercise 3.1: fit_linear_probe -----------------------------------------------------------------------------

def probe_without_bias(activations, targets):
    return np.linalg.lstsq(activations, targets, rcond=None)[0]


def probe_bias_first(activations, targets):
    design = np.hstack([np.ones((len(activations), 1)), activations])
    return np.linalg.lstsq(design, targets, rcond=None)[0]


def probe_whole_tuple(activations, targets):
    design = np.hstack([activations, np.ones((len(activations), 1))])
    return np.linalg.lstsq(design, targets, rcond=None)


def probe_ones_like(activations, targets):
    design = np.hstack([activations, np.ones_like(activations)])
    return np.linalg.lstsq(design, targets, rcond=None)[0]


def probe_pinv(activations, targets):
    design = np.column_stack([activations, np.ones(activations.shape[0])])
    return np.linalg.pinv(design) @ targets


def probe_normal_equations(activations, targets):
    design = np.concatenate([activations, np.ones_like(activations[:, :1])], axis=1)
    return np.linalg.solve(design.T @ design, design.T @ targets)


# --- Exercise 3.2: simplex_rmse ---------------------------------------------------------------------------------

def rmse_over_coordinates(predicted, true):
    return float(np.sqrt(np.mean((predicted - true) ** 2)))


def rmse_without_root(predicted, true):
    return float(np.mean(np.sum((predicted - true) ** 2, axis=-1)))


def rmse_mean_distance(predicted, true):
    return float(np.mean(np.linalg.norm(predicted - true, axis=-1)))


def rmse_summed(predicted, true):
    return float(np.sqrt(np.sum((predicted - true) ** 2)))


def rmse_flattened(predicted, true):
    k = predicted.shape[-1]
    difference = (predicted - true).reshape(-1, k)
    return float(np.sqrt((difference ** 2).sum() / len(difference)))


def rmse_norms(predicted, true):
    return np.sqrt(np.mean(np.linalg.norm(predicted - true, axis=-1) ** 2)).item()


# --- Exercise 4.1: next_token_probs -----------------------------------------------------------------------------

def next_sums_current_state(belief, transitions):
    return belief @ transitions.sum(axis=1).T


def next_without_transpose(belief, transitions):
    return belief @ transitions.sum(axis=2)


def next_sums_tokens(belief, transitions):
    return belief @ transitions.sum(axis=0)


def next_returns_emissions(belief, transitions):
    return transitions.sum(axis=2).T


def next_mess3_only(belief, transitions):
    from simplex_edu.beliefs import mess3
    return belief @ mess3().sum(axis=2).T


def next_einsum(belief, transitions):
    return np.einsum("...i,aij->...a", belief, transitions)


def next_from_each_token(belief, transitions):
    # P(a) = Σ_i Σ_j belief_i T[a, i, j]: the normaliser of the belief update, for every token a
    return np.stack([(belief @ transitions[a]).sum(axis=-1) for a in range(len(transitions))], axis=-1)


M = Mistake
MISTAKES = [
    M("check_belief_update", "forgets to normalise", update_unnormalised, "not normalised"),
    M("check_belief_update", "T[token] @ belief (sums over the next state)", update_matrix_first,
      "sums over the next state j"),
    M("check_belief_update", "reweights by P(token | state) without moving to the next state", update_without_moving,
      "never carried to the next state"),
    M("check_belief_update", "divides by the old belief's sum (always 1)", update_normalised_by_old_belief,
      "not normalised"),
    M("check_simplex_to_xy", "puts the top corner at height 1", xy_height_one, "height 1"),
    M("check_simplex_to_xy", "swaps the corners of states 1 and 2", xy_swapped_corners,
      "corners of states 1 and 2 are swapped"),
    M("check_simplex_to_xy", "indexes p[1], p[2] (rows of a batch)", xy_row_indexing, "use p[..., 1]"),
    M("check_simplex_to_xy", "stacks x and y on the first axis", xy_stacked_first, "stack on the last axis"),
    M("check_fit_linear_probe", "no bias column", probe_without_bias, "the bias row is missing"),
    M("check_fit_linear_probe", "the column of ones first", probe_bias_first, "the bias is the first row"),
    M("check_fit_linear_probe", "returns lstsq's whole tuple", probe_whole_tuple, "its first item, [0]"),
    M("check_fit_linear_probe", "appends np.ones_like(activations)", probe_ones_like, "append ONE column"),
    M("check_simplex_rmse", "averages over the coordinates too", rmse_over_coordinates,
      "over every coordinate too"),
    M("check_simplex_rmse", "forgets the square root", rmse_without_root, "the square root is missing"),
    M("check_simplex_rmse", "the mean distance instead of the root mean squared", rmse_mean_distance,
      "this is the mean distance"),
    M("check_simplex_rmse", "sums over the points instead of averaging", rmse_summed, "summed over the points"),
    M("check_next_token_probs", "sums out the current state (axis 1)", next_sums_current_state,
      "the current state i is summed out"),
    M("check_next_token_probs", "forgets the transpose", next_without_transpose, "the transpose is missing"),
    M("check_next_token_probs", "sums out the tokens (the next state's distribution)", next_sums_tokens,
      "the tokens are summed out"),
    M("check_next_token_probs", "returns B without the belief", next_returns_emissions, "this is B itself"),
    M("check_next_token_probs", "builds B from Mess3, not from the argument", next_mess3_only,
      "Mess3's matrix is built in"),
]

A = Alternative
ALTERNATIVES = [
    A("check_belief_update", "explicit sums over i", update_by_loops),
    A("check_belief_update", "np.einsum, normalised by the 1-norm", update_einsum),
    A("check_simplex_to_xy", "x and y written out, sin 60°", xy_explicit),
    A("check_simplex_to_xy", "np.einsum with corners from cos/sin 60°", xy_einsum),
    A("check_fit_linear_probe", "the pseudo-inverse", probe_pinv),
    A("check_fit_linear_probe", "the normal equations", probe_normal_equations),
    A("check_simplex_rmse", "flatten to (points, K) first", rmse_flattened),
    A("check_simplex_rmse", "np.linalg.norm, squared back", rmse_norms),
    A("check_next_token_probs", "np.einsum over i and j", next_einsum),
    A("check_next_token_probs", "the belief update's normaliser, token by token", next_from_each_token),
]

(test_mistake_is_rejected, test_alternative_is_accepted, test_alternative_is_accepted_under_grading,
 test_every_check_is_covered) = catalogue_tests(checks, MISTAKES, ALTERNATIVES)
