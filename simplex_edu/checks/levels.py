"""Checks for lesson 01's exercises: behaviour from weights, sizes, permuting and matching units, a linear probe."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from simplex_edu.checks.core import Case, CheckResult, Diagnosis, check_function
from simplex_edu.levels import (Weights, encode, hidden_activations, match_units, permute_hidden, probe_accuracy,
                                probe_targets, sizes_for, truth_inputs, truth_table, unit_correlations)


def _random_weights(hidden: int, seed: int | np.random.Generator, n_bits: int = 4) -> Weights:
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(size=(hidden, n_bits)), "b1": rng.normal(size=hidden),
            "W2": rng.normal(size=(1, hidden)), "b2": rng.normal(size=1)}


def _parity_network() -> Weights:
    """A hand-built 4-bit parity net: unit k is ReLU(c − k), c the number of ones; the readout zigzags ±1."""
    return {"W1": np.full((4, 4), 0.5), "b1": np.array([2.0, 1.0, 0.0, -1.0]),  # ±1 inputs: c = 0.5·Σx + 2
            "W2": np.array([[2.0, -4.0, 4.0, -4.0]]), "b2": np.array([-1.0])}


def _biased_weights(hidden: int, seed: int | np.random.Generator, n_bits: int = 4) -> Weights:
    """Random weights whose output bias b2 sits among the logits: leaving b2 out flips about half the outputs."""
    weights = _random_weights(hidden, seed, n_bits)
    h = hidden_activations(weights, truth_inputs(n_bits))
    without = np.sort((h @ weights["W2"].T)[:, 0])
    middle = len(without) // 2
    weights["b2"] = np.array([-(without[middle - 1] + without[middle]) / 2])  # halfway between two logits: no ties
    return weights


def _logits(weights: Weights, bits: np.ndarray, encoded: bool = True, relu: bool = True, bias: bool = True):
    x = 2.0 * bits - 1.0 if encoded else bits.astype(float)
    h = x @ weights["W1"].T + weights["b1"]
    h = np.maximum(h, 0.0) if relu else h
    return (h @ weights["W2"].T + (weights["b2"] if bias else 0.0))[:, 0]


def _truth_cases(rng: np.random.Generator) -> list[Case]:
    n_bits, hidden = int(rng.integers(3, 6)), int(rng.integers(4, 13))
    bits = truth_inputs(n_bits)
    return [Case((_biased_weights(hidden, rng, n_bits), bits), label=f"fresh random weights, {n_bits} bits, "
                                                                     f"{hidden} hidden units"),
            Case((_random_weights(hidden, rng, n_bits), bits[rng.permutation(len(bits))[:5]]),
                 label="fresh random weights on five input rows")]


def check_truth_table(fn: Callable[[Weights, np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 1.1: the output bit for every input row, from the weights, on random and hand-built networks."""
    bits = truth_inputs(4)
    zeros = {"W1": np.zeros((3, 4)), "b1": np.zeros(3), "W2": np.zeros((1, 3)), "b2": np.zeros(1)}
    cases = [Case((_parity_network(), bits), label="a hand-built parity network on all 16 inputs"),
             Case((_random_weights(16, 1), bits), label="random weights, 16 hidden units, all 16 inputs"),
             Case((_random_weights(8, 2), bits[[3, 9]]), label="random weights on just two input rows"),
             Case((_biased_weights(12, 10), bits), label="random weights whose output bias b2 decides half the rows"),
             Case((zeros, bits), label="all-zero weights (every logit is exactly 0: that is output 0)"),
             Case((_random_weights(6, 3, n_bits=3), truth_inputs(3)), label="a 3-bit network on its 8 inputs")]
    return check_function(
        fn, truth_table, cases, exercise="Exercise 1.1 (truth_table)", rtol=0, atol=0, fresh_cases=_truth_cases,
        inputs_read_only=True,
        diagnoses=[Diagnosis(lambda w, b: (_logits(w, b, bias=False) > 0).astype(int),
                             "the output bias b2 is missing (logit = h @ W2.T + b2)"),
                   Diagnosis(lambda w, b: (_logits(w, b, encoded=False) > 0).astype(int),
                             "the bits went in as 0/1: encode them as ±1 first (x = 2·bits − 1)"),
                   Diagnosis(lambda w, b: (_logits(w, b, relu=False) > 0).astype(int),
                             "the ReLU is missing: h = max(x @ W1.T + b1, 0)"),
                   Diagnosis(lambda w, b: (_logits(w, b) >= 0).astype(int),
                             "you used ≥ 0: a logit of exactly 0 is output 0 (strictly greater than 0 is 1)")],
        hint="encode the bits as ±1 first (2·bits − 1), then h = max(x @ W1.T + b1, 0), logit = h @ W2.T + b2; "
             "the output is 1 where the logit is > 0 (strictly), as an int array of shape (rows,).")


def _sizes_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((int(rng.integers(1, 25)), int(rng.integers(1, 65))), label="fresh sizes") for _ in range(3)]


def _sizes(n_bits: int, hidden: int, numbers: int | None = None, width: int = 4, behaviour: int | None = None) -> dict:
    numbers = hidden * n_bits + 2 * hidden + 1 if numbers is None else numbers
    return {"weights": width * numbers, "behaviour": math.ceil(2**n_bits / 8) if behaviour is None else behaviour}


def check_sizes_for(fn: Callable[[int, int], dict]) -> CheckResult:
    """Exercise 2.1: bytes of weights and of the truth table as the input grows, including tiny and large n."""
    cases = [Case((4, 24), label="n_bits=4, hidden=24 (this lesson's network: 580 and 2 bytes)"),
             Case((1, 2), label="n_bits=1, hidden=2 (2 inputs still need a whole byte)"),
             Case((3, 1), label="n_bits=3, hidden=1 (8 inputs: exactly one byte)"),
             Case((5, 16), label="n_bits=5, hidden=16"),
             Case((20, 16), label="n_bits=20, hidden=16 (a million inputs)")]
    return check_function(
        fn, sizes_for, cases, exercise="Exercise 2.1 (sizes_for)", rtol=0, atol=0, fresh_cases=_sizes_cases,
        diagnoses=[Diagnosis(lambda n, h: _sizes(n, h, numbers=h * n + h),
                             "the readout layer (hidden weights + 1 bias) is missing"),
                   Diagnosis(lambda n, h: _sizes(n, h, numbers=h * n + 2 * h),
                             "the readout's bias (+ 1) is missing"),
                   Diagnosis(lambda n, h: _sizes(n, h, numbers=h * n + h + 1),
                             "the first layer's biases (hidden of them) are missing"),
                   Diagnosis(lambda n, h: _sizes(n, h, width=8),
                             "you counted 8 bytes per number (float64); the weights are stored as float32, 4 bytes"),
                   Diagnosis(lambda n, h: _sizes(n, h, behaviour=2**n // 8),
                             "the bytes are rounded down: 2**n_bits / 8 must be rounded up (math.ceil)"),
                   Diagnosis(lambda n, h: _sizes(n, h, behaviour=2**n),
                             "the behaviour is counted in bits: one bit per input, 8 bits to a byte")],
        hint="weights: hidden·n_bits + hidden (first layer) + hidden + 1 (readout) numbers, 4 bytes each; "
             "behaviour: 2**n_bits bits, rounded up to whole bytes (ceil(bits / 8)). Return ints.")


def _permuted(weights: Weights, perm: np.ndarray, keys: str = "W1 b1 W2") -> Weights:
    """``permute_hidden`` applied to only some of the arrays (the others kept): the check's mistaken variants."""
    new = {k: v.copy() for k, v in weights.items()}
    for key in keys.split():
        new[key] = weights[key][:, perm] if key == "W2" else weights[key][perm]
    return new


def _permute_cases(rng: np.random.Generator) -> list[Case]:
    hidden = int(rng.integers(4, 9))
    perm = np.roll(rng.permutation(hidden), 1)
    return [Case((_random_weights(hidden, rng), perm), label=f"fresh random weights, {hidden} units, perm {perm}")]


def check_permute_hidden(fn: Callable[[Weights, np.ndarray], Weights]) -> CheckResult:
    """Exercise 3.1: reorder hidden units — rows of W1 and b1, columns of W2 — leave b2 alone, change no input."""
    weights = _random_weights(5, 4)
    cases = [Case((weights, np.array([4, 3, 2, 1, 0])), label="5 units, reversed"),
             Case((weights, np.array([1, 2, 3, 4, 0])), label="5 units, rotated by one (perm[0] = 1)"),
             Case((weights, np.arange(5)), label="the identity permutation (nothing moves)"),
             Case((_random_weights(1, 5), np.array([0])), label="a single hidden unit")]
    return check_function(
        fn, permute_hidden, cases, exercise="Exercise 3.1 (permute_hidden)", rtol=0, atol=0,
        fresh_cases=_permute_cases, inputs_read_only=True,
        diagnoses=[Diagnosis(lambda w, p: permute_hidden(w, np.argsort(p)),
                             "the inverse permutation: new unit i is old unit perm[i], so index with perm itself"),
                   Diagnosis(lambda w, p: _permuted(w, p, "W1 b1"),
                             "W2's columns were not permuted: each unit's outgoing weight must move with it"),
                   Diagnosis(lambda w, p: _permuted(w, p, "W1 W2"), "b1 was not permuted"),
                   Diagnosis(lambda w, p: _permuted(w, p, "b1 W2"), "W1's rows were not permuted")],
        hint="new unit i is old unit perm[i]: index rows with W1[perm] and b1[perm], and the *columns* of the "
             "readout with W2[:, perm] (each unit's outgoing weight travels with it); b2 belongs to no unit. "
             "Build new arrays (indexing does) and leave the dict you were given unchanged.")


def _probe_cases(rng: np.random.Generator) -> list[Case]:
    features = rng.normal(size=(14, 3))
    return [Case((features, rng.integers(0, 2, 14)), {"ridge": float(rng.choice([0.01, 1.0, 10.0]))},
                 label="fresh random features and labels")]


def _probe_variant(features: np.ndarray, labels: np.ndarray, ridge: float = 0.1, left_out: int = 1,
                   bias: bool = True, threshold: float = 0.5) -> float:
    """Leave-``left_out``-out probe accuracy (0: fit on every row), with or without the ones column."""
    design = np.column_stack([features, np.ones(len(features))]) if bias else np.asarray(features, float)
    rows, correct = len(labels), 0
    for i in range(rows):
        keep = np.ones(rows, dtype=bool)
        keep[[(i + k) % rows for k in range(left_out)]] = False
        a, y = design[keep], labels[keep]
        coef = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y)
        correct += int((design[i] @ coef > threshold) == (labels[i] > 0.5))
    return correct / rows


def check_probe_accuracy(fn: Callable[..., float]) -> CheckResult:
    """Exercise 4.1: leave-one-out accuracy of a ridge least-squares probe, on separable and inseparable labels."""
    bits = truth_inputs(4)
    targets = probe_targets(4)
    hidden = hidden_activations(_parity_network(), bits)
    rng = np.random.default_rng(2)
    noise, noise_labels = rng.normal(size=(12, 3)), rng.integers(0, 2, 12)
    cases = [Case((encode(bits), targets["x1"]), label="raw inputs → x1 (a linear read: 1.0)"),
             Case((encode(bits), targets["x1⊕x2"]), label="raw inputs → x1⊕x2 (not linear)"),
             Case((hidden, targets["parity"]), label="hand-built parity net's hidden layer → parity"),
             Case((hidden_activations(_random_weights(8, 2), bits), targets["x2⊕x3"]),
                  label="a random network's 8 hidden units → x2⊕x3"),
             Case((noise, noise_labels), label="12 rows of random features (3 columns) with random labels"),
             Case((noise, noise_labels), {"ridge": 10.0},
                  label="12 rows of random features (3 columns) with random labels, and ridge = 10 (ridge is a "
                        "parameter: use it)")]
    return check_function(
        fn, probe_accuracy, cases, exercise="Exercise 4.1 (probe_accuracy)", rtol=0, atol=1e-9,
        fresh_cases=_probe_cases, inputs_read_only=True,
        diagnoses=[Diagnosis(lambda f, y, ridge=0.1: _probe_variant(f, y, ridge, left_out=0),
                             "you scored the rows you fitted on (no leave-one-out), which flatters the probe"),
                   Diagnosis(lambda f, y, ridge=0.1: _probe_variant(f, y, ridge, left_out=2),
                             "two rows are left out of each fit: leave out only row i"),
                   Diagnosis(lambda f, y, ridge=0.1: _probe_variant(f, y, 0.1),
                             "the ridge parameter is ignored (0.1 is only its default)"),
                   Diagnosis(lambda f, y, ridge=0.1: _probe_variant(f, y, ridge, bias=False),
                             "the column of ones (the probe's bias) is missing"),
                   Diagnosis(lambda f, y, ridge=0.1: _probe_variant(f, y, ridge, threshold=0.0),
                             "the fit is thresholded at 0: the labels are 0/1, so predict 1 where it is > 0.5")],
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


def _greedy(corr: np.ndarray) -> np.ndarray:
    """Greedy pairing on any similarity matrix (NaN entries win np.argmax, as they do for a learner)."""
    corr, perm = corr.astype(float), np.zeros(len(corr), dtype=int)
    for _ in range(len(corr)):
        i, j = np.unravel_index(np.argmax(corr), corr.shape)
        perm[i] = j
        corr[i, :], corr[:, j] = -np.inf, -np.inf
    return perm


def _cosine(acts_a: np.ndarray, acts_b: np.ndarray) -> np.ndarray:
    norms = np.outer(np.linalg.norm(acts_a, axis=0), np.linalg.norm(acts_b, axis=0))
    return np.divide(acts_a.T @ acts_b, norms, out=np.zeros_like(norms), where=norms > 1e-12)


def _nan_correlations(acts_a: np.ndarray, acts_b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(acts_a.T, acts_b.T)[: acts_a.shape[1], acts_a.shape[1]:]


def _match_cases(rng: np.random.Generator) -> list[Case]:
    acts = hidden_activations(_random_weights(6, rng), truth_inputs(4))
    other = hidden_activations(_random_weights(6, rng), truth_inputs(4))
    shuffle = np.roll(rng.permutation(6), 1)
    return [Case((acts, acts[:, shuffle] * rng.uniform(0.2, 5, 6) + rng.uniform(-3, 3, 6)),
                 label="fresh: B is A shuffled, rescaled and shifted"),
            Case((acts, other), label="fresh: two unrelated random networks")]


def check_match_units(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 3.2: pair B's hidden units with A's by activation correlation (greedy, or anything as good)."""
    bits = truth_inputs(4)
    acts = hidden_activations(_random_weights(6, 7), bits)  # unit 2 is dead (0 on every input): correlation 0
    shuffle = np.array([2, 0, 5, 1, 3, 4])  # B's unit j is A's unit shuffle[j]: not its own inverse
    scaled = acts[:, shuffle] * np.array([10.0, 0.1, 3.0, 1.0, 0.5, 7.0]) + 2.0
    other = hidden_activations(_random_weights(6, 107), bits)  # one dead unit too; centring changes the pairing
    cases = [Case((acts, acts[:, shuffle]), label="B is A with its units shuffled (answer: undo the shuffle)"),
             Case((acts, scaled), label="B is A shuffled, each unit rescaled and shifted (correlation ignores that)"),
             Case((acts, other), label="two unrelated random networks, each with a unit that never varies"),
             Case((acts[:, :1], other[:, :1]), label="one unit each")]
    return check_function(
        fn, _match_reference, cases, exercise="Exercise 3.2 (match_units)", compare_fn=_compare_matching,
        fresh_cases=_match_cases, inputs_read_only=True, forbidden=[match_units],
        diagnoses=[Diagnosis(lambda a, b: _greedy(_cosine(a, b)), "the activations were not centred: "
                             "correlation subtracts each unit's mean over the inputs before the cosine"),
                   Diagnosis(lambda a, b: _greedy(a.T @ b), "this pairs by the raw dot product, which favours "
                             "large units: centre, then divide by the norms (correlation) so scale does not matter"),
                   Diagnosis(lambda a, b: _greedy((a - a.mean(0)).T @ (b - b.mean(0))), "this pairs by covariance "
                             "(centred but not divided by the norms), which favours large units: correlation "
                             "divides by each unit's norm so scale does not matter"),
                   Diagnosis(lambda a, b: _greedy(_nan_correlations(a, b)),
                             "there are NaN correlations: a unit that never varies gives 0/0 = NaN (np.corrcoef "
                             "does this), and np.argmax picks NaN first; use 0 for a constant column"),
                   Diagnosis(lambda a, b: np.argsort(match_units(a, b)),
                             "perm is inverted: perm[i] should be the unit of B paired with A's unit i")],
        hint="build C[i, j] = correlation over the inputs of A's unit i with B's unit j (treat a unit that never "
             "varies as correlation 0); then repeatedly take the largest remaining C[i, j], set perm[i] = j, and "
             "strike out row i and column j. Correlation, not the raw dot product: it ignores each unit's scale.")
