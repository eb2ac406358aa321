"""Checks for lesson 01's exercises: behaviour from weights, sizes, permuting and matching units, a linear probe."""

from __future__ import annotations

from typing import Callable

import numpy as np

from simplex_edu.checks.core import Case, CheckResult, check_function
from simplex_edu.levels import (Weights, encode, hidden_activations, match_units, permute_hidden, probe_accuracy,
                                probe_targets, sizes_for, truth_inputs, truth_table, unit_correlations)


def _random_weights(hidden: int, seed: int, n_bits: int = 4) -> Weights:
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(size=(hidden, n_bits)), "b1": rng.normal(size=hidden),
            "W2": rng.normal(size=(1, hidden)), "b2": rng.normal(size=1)}


def _parity_network() -> Weights:
    """A hand-built 4-bit parity net: unit k is ReLU(c − k), c the number of ones; the readout zigzags ±1."""
    return {"W1": np.full((4, 4), 0.5), "b1": np.array([2.0, 1.0, 0.0, -1.0]),  # ±1 inputs: c = 0.5·Σx + 2
            "W2": np.array([[2.0, -4.0, 4.0, -4.0]]), "b2": np.array([-1.0])}


def check_truth_table(fn: Callable[[Weights, np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 1.1: the output bit for every input row, from the weights, on random and hand-built networks."""
    bits = truth_inputs(4)
    zeros = {"W1": np.zeros((3, 4)), "b1": np.zeros(3), "W2": np.zeros((1, 3)), "b2": np.zeros(1)}
    cases = [Case((_parity_network(), bits), label="a hand-built parity network on all 16 inputs"),
             Case((_random_weights(16, 1), bits), label="random weights, 16 hidden units, all 16 inputs"),
             Case((_random_weights(8, 2), bits[[3, 9]]), label="random weights on just two input rows"),
             Case((zeros, bits), label="all-zero weights (every logit is exactly 0: that is output 0)"),
             Case((_random_weights(6, 3, n_bits=3), truth_inputs(3)), label="a 3-bit network on its 8 inputs")]
    return check_function(
        fn, truth_table, cases, exercise="Exercise 1.1 (truth_table)", rtol=0, atol=0,
        hint="encode the bits as ±1 first (2·bits − 1), then h = max(x @ W1.T + b1, 0), logit = h @ W2.T + b2; "
             "the output is 1 where the logit is > 0 (strictly), as an int array of shape (rows,).")


def check_sizes_for(fn: Callable[[int, int], dict]) -> CheckResult:
    """Exercise 2.1: bytes of weights and of the truth table as the input grows, including tiny and large n."""
    cases = [Case((4, 24), label="n_bits=4, hidden=24 (this lesson's network: 580 and 2 bytes)"),
             Case((1, 2), label="n_bits=1, hidden=2 (2 inputs still need a whole byte)"),
             Case((3, 1), label="n_bits=3, hidden=1 (8 inputs: exactly one byte)"),
             Case((5, 16), label="n_bits=5, hidden=16"),
             Case((20, 16), label="n_bits=20, hidden=16 (a million inputs)")]
    return check_function(
        fn, sizes_for, cases, exercise="Exercise 2.1 (sizes_for)", rtol=0, atol=0,
        hint="weights: hidden·n_bits + hidden (first layer) + hidden + 1 (readout) numbers, 4 bytes each; "
             "behaviour: 2**n_bits bits, rounded up to whole bytes (ceil(bits / 8)). Return ints.")


def check_permute_hidden(fn: Callable[[Weights, np.ndarray], Weights]) -> CheckResult:
    """Exercise 3.1: reorder hidden units — rows of W1 and b1, columns of W2 — and leave b2 alone."""
    weights = _random_weights(5, 4)
    cases = [Case((weights, np.array([4, 3, 2, 1, 0])), label="5 units, reversed"),
             Case((weights, np.array([1, 2, 3, 4, 0])), label="5 units, rotated by one (perm[0] = 1)"),
             Case((weights, np.arange(5)), label="the identity permutation (nothing moves)"),
             Case((_random_weights(1, 5), np.array([0])), label="a single hidden unit")]
    return check_function(
        fn, permute_hidden, cases, exercise="Exercise 3.1 (permute_hidden)", rtol=0, atol=0,
        hint="new unit i is old unit perm[i]: index rows with W1[perm] and b1[perm], and the *columns* of the "
             "readout with W2[:, perm] (each unit's outgoing weight travels with it); b2 belongs to no unit.")


def check_probe_accuracy(fn: Callable[..., float]) -> CheckResult:
    """Exercise 4.1: leave-one-out accuracy of a ridge least-squares probe, on separable and inseparable labels."""
    bits = truth_inputs(4)
    targets = probe_targets(4)
    hidden = hidden_activations(_parity_network(), bits)
    rng = np.random.default_rng(6)
    noise = rng.normal(size=(12, 3))
    cases = [Case((encode(bits), targets["x1"]), label="raw inputs → x1 (a linear read: 1.0)"),
             Case((encode(bits), targets["x1⊕x2"]), label="raw inputs → x1⊕x2 (not linear)"),
             Case((hidden, targets["parity"]), label="hand-built parity net's hidden layer → parity"),
             Case((noise, rng.integers(0, 2, 12)), label="random features, random labels"),
             Case((noise, rng.integers(0, 2, 12)), {"ridge": 10.0},
                  label="the same kind, with ridge = 10 (ridge is a parameter: use it)")]
    return check_function(
        fn, probe_accuracy, cases, exercise="Exercise 4.1 (probe_accuracy)", rtol=0, atol=1e-9,
        hint="for each row i: fit on every row except i — append a ones column, solve (AᵀA + ridge·I) c = Aᵀy "
             "— then predict row i as 1 if its fit is > 0.5, and count it correct if that equals its label. "
             "Return the fraction correct. Scoring the rows you fitted on (no leave-one-out) flatters the probe.")


def _match_reference(acts_a: np.ndarray, acts_b: np.ndarray) -> dict:
    return {"perm": match_units(acts_a, acts_b), "corr": unit_correlations(acts_a, acts_b)}


def _compare_matching(expected: dict, got: object) -> str | None:
    """Accept any permutation whose matched correlations add up to at least the greedy one's (ties allowed)."""
    hidden = len(expected["perm"])
    if not _is_perm(got, hidden):
        return (f"the result should be an integer array holding each of 0..{hidden - 1} once (each unit of B used "
                f"once), got {got!r}.")
    corr = expected["corr"]
    best, yours = (float(corr[np.arange(hidden), np.asarray(p)].sum()) for p in (expected["perm"], got))
    if yours < best - 1e-9:
        example, yours_list = np.asarray(expected["perm"]).tolist(), np.asarray(got).tolist()
        return (f"your pairing's correlations add up to {yours:.3f}; greedy matching reaches {best:.3f} "
                f"(expected for example {example}, got {yours_list}).")
    return None


def _is_perm(value: object, size: int) -> bool:
    try:
        array = np.asarray(value)
    except Exception:  # anything that is not array-like is simply not a permutation
        return False
    return array.shape == (size,) and array.dtype.kind in "iu" and sorted(array.tolist()) == list(range(size))


def check_match_units(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 3.2: pair B's hidden units with A's by activation correlation (greedy, or anything as good)."""
    bits = truth_inputs(4)
    acts = hidden_activations(_random_weights(6, 7), bits)
    shuffle = np.array([2, 0, 5, 1, 3, 4])  # B's unit j is A's unit shuffle[j]: not its own inverse
    scaled = acts[:, shuffle] * np.array([10.0, 0.1, 3.0, 1.0, 0.5, 7.0]) + 2.0
    other = hidden_activations(_random_weights(6, 8), bits)
    cases = [Case((acts, acts[:, shuffle]), label="B is A with its units shuffled (answer: undo the shuffle)"),
             Case((acts, scaled), label="B is A shuffled, each unit rescaled and shifted (correlation ignores that)"),
             Case((acts, other), label="two unrelated random networks"),
             Case((acts[:, :1], other[:, :1]), label="one unit each")]
    return check_function(
        fn, _match_reference, cases, exercise="Exercise 3.2 (match_units)", compare_fn=_compare_matching,
        hint="build C[i, j] = correlation over the inputs of A's unit i with B's unit j (treat a unit that never "
             "varies as correlation 0); then repeatedly take the largest remaining C[i, j], set perm[i] = j, and "
             "strike out row i and column j. Correlation, not the raw dot product: it ignores each unit's scale.")
