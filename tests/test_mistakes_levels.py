"""Lesson 01's mistake catalogue: plausible wrong answers each check rejects by name, and right answers it accepts."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from mistakes import Alternative, Mistake  # tests/ is on sys.path (pytest puts it there)

from simplex_edu.checks import levels as checks
from simplex_edu.checks.core import CheckFailed


def _table(weights, bits, encoded=True, relu=True, bias=True, strict=True, transpose=True):
    """A learner's truth table with one knob per mistake."""
    x = 2.0 * bits - 1.0 if encoded else bits
    w1 = weights["W1"].T if transpose else weights["W1"]
    h = x @ w1 + weights["b1"]
    h = np.maximum(h, 0) if relu else h
    logit = h @ weights["W2"].T + (weights["b2"] if bias else 0)
    return ((logit > 0) if strict else (logit >= 0))[:, 0].astype(int)


def _sizes(n, h, numbers=None, width=4, behaviour=None):
    numbers = h * n + 2 * h + 1 if numbers is None else numbers
    return {"weights": width * numbers, "behaviour": math.ceil(2**n / 8) if behaviour is None else behaviour}


def _permute(w, p, keys=("W1", "b1", "W2"), inverse=False):
    p = np.argsort(p) if inverse else p
    new = {k: v.copy() for k, v in w.items()}
    for key in keys:
        new[key] = w[key][:, p] if key == "W2" else w[key][p]
    return new


def _permute_in_place(w, p):
    w["W1"], w["b1"], w["W2"] = w["W1"][p], w["b1"][p], w["W2"][:, p]
    return w


def _permute_by_matrix(w, p):
    """A right answer another way: a permutation matrix P with P[i, perm[i]] = 1."""
    P = np.eye(len(p))[p]
    return {"W1": P @ w["W1"], "b1": P @ w["b1"], "W2": w["W2"] @ P.T, "b2": w["b2"].copy()}


def _greedy(sim):
    sim, perm = sim.astype(float), np.zeros(len(sim), dtype=int)
    for _ in range(len(sim)):
        i, j = np.unravel_index(np.argmax(sim), sim.shape)
        perm[i] = j
        sim[i, :], sim[:, j] = -np.inf, -np.inf
    return perm


def _correlations(a, b, centre=True, normalise=True, nan=False):
    za, zb = (a - a.mean(0), b - b.mean(0)) if centre else (a, b)
    if not normalise:
        return za.T @ zb
    norms = np.outer(np.linalg.norm(za, axis=0), np.linalg.norm(zb, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return za.T @ zb / norms if nan else np.divide(za.T @ zb, norms, out=np.zeros_like(norms), where=norms > 1e-12)


def _match_per_row(a, b):
    """Each of A's units takes its best B unit, even one already taken."""
    return np.argmax(_correlations(a, b), axis=1)


def _match_inverted(a, b):
    return np.argsort(_greedy(_correlations(a, b)))


def _match_pandas_style(a, b):
    """A right answer another way: np.corrcoef, with the NaNs of constant columns replaced by 0."""
    h = a.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(a.T, b.T)[:h, h:], nan=0.0)
    pairs = sorted(((corr[i, j], i, j) for i in range(h) for j in range(h)), key=lambda t: -t[0])
    perm, used_a, used_b = np.zeros(h, dtype=int), set(), set()
    for _, i, j in pairs:
        if i not in used_a and j not in used_b:
            perm[i] = j
            used_a.add(i)
            used_b.add(j)
    return perm


def _probe(features, labels, ridge=0.1, left_out=1, bias=True, threshold=0.5, use_ridge=True, neighbours=False):
    """A learner's leave-one-out probe with one knob per mistake."""
    design = np.column_stack([features, np.ones(len(features))]) if bias else features
    ridge = ridge if use_ridge else 0.1
    n, correct = len(labels), 0
    for i in range(n):
        keep = np.ones(n, dtype=bool)
        keep[[(i + k) % n for k in range(left_out)]] = False
        a, y = design[keep], labels[keep]
        coef = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y)
        correct += int((design[i] @ coef > threshold) == (labels[i] > 0.5))
    return correct / n


def _probe_hat_matrix(features, labels, ridge=0.1):
    """A right answer another way: the closed-form leave-one-out fit (ŷᵢ − Hᵢᵢ·yᵢ) / (1 − Hᵢᵢ), no loop."""
    a = np.column_stack([features, np.ones(len(features))])
    hat = a @ np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T)
    fitted = hat @ labels
    loo = (fitted - np.diag(hat) * labels) / (1 - np.diag(hat))
    return float(np.mean((loo > 0.5) == (labels > 0.5)))


def _probe_stacked_lstsq(features, labels, ridge=0.1):
    """A right answer another way: ridge as least squares on rows stacked with √ridge·I."""
    a = np.column_stack([features, np.ones(len(features))])
    hits = []
    for i in range(len(labels)):
        keep = np.arange(len(labels)) != i
        stacked = np.vstack([a[keep], math.sqrt(ridge) * np.eye(a.shape[1])])
        target = np.concatenate([labels[keep], np.zeros(a.shape[1])])
        coef = np.linalg.lstsq(stacked, target, rcond=None)[0]
        hits.append((a[i] @ coef > 0.5) == bool(labels[i]))
    return sum(hits) / len(hits)


MISTAKES = [
    Mistake("check_truth_table", "forgets the output bias b2", lambda w, b: _table(w, b, bias=False),
            "the output bias b2 is missing"),
    Mistake("check_truth_table", "feeds the 0/1 bits in without the ±1 encoding",
            lambda w, b: _table(w, b, encoded=False), "encode them as ±1"),
    Mistake("check_truth_table", "forgets the ReLU", lambda w, b: _table(w, b, relu=False), "the ReLU is missing"),
    Mistake("check_truth_table", "thresholds with ≥ 0", lambda w, b: _table(w, b, strict=False), "you used ≥ 0"),
    Mistake("check_truth_table", "multiplies by W1 without transposing it", lambda w, b: _table(w, b, transpose=False),
            "raised ValueError"),
    Mistake("check_truth_table", "returns the logits' column, shape (rows, 1)",
            lambda w, b: _table(w, b)[:, None], "has shape (16, 1), expected (16,)"),
    Mistake("check_sizes_for", "forgets the readout layer", lambda n, h: _sizes(n, h, numbers=h * n + h),
            "the readout layer (hidden weights + 1 bias) is missing"),
    Mistake("check_sizes_for", "forgets the readout's bias", lambda n, h: _sizes(n, h, numbers=h * n + 2 * h),
            "the readout's bias (+ 1) is missing"),
    Mistake("check_sizes_for", "forgets the first layer's biases", lambda n, h: _sizes(n, h, numbers=h * n + h + 1),
            "the first layer's biases"),
    Mistake("check_sizes_for", "counts 8 bytes per number", lambda n, h: _sizes(n, h, width=8), "float64"),
    Mistake("check_sizes_for", "rounds the behaviour's bytes down", lambda n, h: _sizes(n, h, behaviour=2**n // 8),
            "2 inputs still need a whole byte"),
    Mistake("check_sizes_for", "counts the behaviour in bits", lambda n, h: _sizes(n, h, behaviour=2**n),
            "counted in bits"),
    Mistake("check_permute_hidden", "changes `weights` in place (and returns it)", _permute_in_place,
            "changed its input `weights['W1']` in place; the docstring asks for a new one"),
    Mistake("check_permute_hidden", "leaves W2 in place", lambda w, p: _permute(w, p, keys=("W1", "b1")),
            "W2's columns were not permuted"),
    Mistake("check_permute_hidden", "applies the inverse permutation", lambda w, p: _permute(w, p, inverse=True),
            "the inverse permutation"),
    Mistake("check_permute_hidden", "forgets b1", lambda w, p: _permute(w, p, keys=("W1", "W2")),
            "b1 was not permuted"),
    Mistake("check_permute_hidden", "permutes W2's rows instead of its columns",
            lambda w, p: {**_permute(w, p, keys=("W1", "b1")), "W2": w["W2"][p]}, "raised IndexError"),
    Mistake("check_match_units", "cosine similarity without centring",
            lambda a, b: _greedy(_correlations(a, b, centre=False)), "the activations were not centred"),
    Mistake("check_match_units", "covariance: centred but not normalised",
            lambda a, b: _greedy(_correlations(a, b, normalise=False)), "this pairs by covariance"),
    Mistake("check_match_units", "the raw dot product", lambda a, b: _greedy(a.T @ b),
            "this pairs by the raw dot product"),
    Mistake("check_match_units", "lets NaN correlations of a unit that never varies through",
            lambda a, b: _greedy(_correlations(a, b, nan=True)), "NaN correlations"),
    Mistake("check_match_units", "best unit per row, even if already taken", _match_per_row,
            "each unit of B used once"),
    Mistake("check_match_units", "returns the inverse pairing (perm[j] = i)", _match_inverted, "perm is inverted"),
    Mistake("check_probe_accuracy", "scores the rows it was fitted on", lambda f, y, ridge=0.1: _probe(
        f, y, ridge, left_out=0), "you scored the rows you fitted on"),
    Mistake("check_probe_accuracy", "leaves two rows out of each fit", lambda f, y, ridge=0.1: _probe(
        f, y, ridge, left_out=2), "two rows are left out"),
    Mistake("check_probe_accuracy", "ignores the ridge parameter", lambda f, y, ridge=0.1: _probe(
        f, y, ridge, use_ridge=False), "the ridge parameter is ignored"),
    Mistake("check_probe_accuracy", "forgets the ones column", lambda f, y, ridge=0.1: _probe(f, y, ridge, bias=False),
            "the column of ones"),
    Mistake("check_probe_accuracy", "thresholds the fit at 0", lambda f, y, ridge=0.1: _probe(
        f, y, ridge, threshold=0.0), "thresholded at 0"),
]

ALTERNATIVES = [
    Alternative("check_truth_table", "sigmoid of the logit > 0.5, with np.where",
                lambda w, b: np.where(1 / (1 + np.exp(-(np.maximum((2 * b - 1) @ w["W1"].T + w["b1"], 0)
                                                        @ w["W2"][0] + w["b2"][0]))) > 0.5, 1, 0)),
    Alternative("check_truth_table", "one row at a time, in plain Python", lambda w, b: np.array(
        [int(sum(w2 * max(0.0, float(np.dot(row, w1)) + b1) for w1, b1, w2 in zip(w["W1"], w["b1"], w["W2"][0]))
             + w["b2"][0] > 0) for row in 2.0 * b - 1.0], dtype=int)),
    Alternative("check_sizes_for", "counting the parameters layer by layer", lambda n, h: {
        "weights": 4 * sum(rows * cols + rows for rows, cols in ((h, n), (1, h))),
        "behaviour": (2**n + 7) // 8}),
    Alternative("check_permute_hidden", "a permutation matrix", _permute_by_matrix),
    Alternative("check_permute_hidden", "np.take along each axis",
                lambda w, p: {"W1": np.take(w["W1"], p, axis=0), "b1": np.take(w["b1"], p),
                              "W2": np.take(w["W2"], p, axis=1), "b2": w["b2"]}),
    Alternative("check_match_units", "np.corrcoef with NaN set to 0, pairs sorted once", _match_pandas_style),
    Alternative("check_probe_accuracy", "the closed-form leave-one-out (hat matrix)", _probe_hat_matrix),
    Alternative("check_probe_accuracy", "ridge as a stacked least-squares problem", _probe_stacked_lstsq),
]

CHECKS = ("check_truth_table", "check_sizes_for", "check_permute_hidden", "check_match_units", "check_probe_accuracy")


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: f"{m.check}: {m.description}")
def test_mistake_is_rejected_by_name(mistake: Mistake, capsys) -> None:
    with pytest.raises(CheckFailed) as error:
        getattr(checks, mistake.check)(mistake.answer)
    assert mistake.message in str(error.value)


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda a: f"{a.check}: {a.description}")
def test_alternative_is_accepted(alternative: Alternative, capsys) -> None:
    assert getattr(checks, alternative.check)(alternative.answer)


@pytest.mark.parametrize("grading", ["", "1"])
@pytest.mark.parametrize("name", CHECKS)
def test_every_check_has_enough_entries_and_is_fast(name: str, grading: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", grading)
    assert sum(m.check == name for m in MISTAKES) >= 3 and any(a.check == name for a in ALTERNATIVES)
    start = time.perf_counter()
    assert getattr(checks, name)(next(a.answer for a in ALTERNATIVES if a.check == name))
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("name, reference", [(c, c.removeprefix("check_")) for c in CHECKS])
def test_under_grading_the_course_reference_is_refused(name: str, reference: str, monkeypatch, capsys) -> None:
    from simplex_edu import levels
    own = getattr(levels, reference)
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    for answer in (own, lambda *args, **kwargs: own(*args, **kwargs)):
        with pytest.raises(CheckFailed, match=f"course's own `{reference}`"):
            getattr(checks, name)(answer)
