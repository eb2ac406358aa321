"""Lesson 01: levels of description — the science (sizes, costs, symmetries, probes), the explorer, every check."""

import json
import math
import time
from dataclasses import asdict
from itertools import combinations

import numpy as np
import pytest

from simplex_edu import levels
from simplex_edu.checks.core import CheckFailed
from simplex_edu.checks.levels import (check_match_units, check_permute_hidden, check_probe_accuracy,
                                       check_sizes_for, check_truth_table)
from simplex_edu.compute import mlp_flops
from simplex_edu.plots import new_figure

BITS = levels.truth_inputs(4)


@pytest.fixture(scope="module")
def networks():
    """Three seeds of the lesson's recipe (about a second of training in all)."""
    return levels.trained_seeds((0, 1, 2))


def _stub(*_args, **_kwargs):
    raise NotImplementedError


# --- science ------------------------------------------------------------------------------------------------

def test_truth_inputs_and_parity():
    assert BITS.shape == (16, 4)
    assert BITS[5].tolist() == [0, 1, 0, 1]  # row i is i in binary, first bit highest
    assert levels.parity(BITS).tolist() == [0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0]


def test_every_seed_learns_parity_and_training_is_deterministic(networks):
    assert levels.solving_seeds(networks) == [0, 1, 2]
    again = levels.weights_of(levels.train_network(levels.Recipe(seed=1)))
    assert np.allclose(levels.flat_weights(again), levels.flat_weights(networks[1]), atol=1e-6)


def test_sizes_and_flops_of_the_four_levels(networks):
    recipe, weights = levels.Recipe(), networks[0]
    acts = levels.hidden_activations(weights, BITS)
    sizes = levels.description_sizes(recipe, weights, acts, levels.truth_table(weights, BITS))
    assert sizes == {"recipe": len(json.dumps(asdict(recipe))), "weights": 4 * 145,
                     "activations": 4 * (16 * 24 + 25), "behaviour": 2}
    flops = levels.access_flops(recipe)
    assert flops["weights"] == 2 * 4 * 24 + 24 + 2 * 24 + 1 == 265
    assert flops["activations"] == 49 and flops["behaviour"] == 0
    assert flops["recipe"] == 3 * 400 * mlp_flops([4, 24, 1], batch=16) + 265


def test_table_outgrows_the_weights_at_fourteen_bits():
    crossing = next(n for n in range(1, 40)
                    if levels.sizes_for(n, 24)["behaviour"] > levels.sizes_for(n, 24)["weights"])
    assert crossing == 14
    assert levels.sizes_for(32, 24)["behaviour"] == 2**29


def test_access_costs_are_ordered():
    seconds = levels.measure_access_costs(levels.Recipe())
    # Orders of magnitude apart, so a loaded machine cannot swap them: retraining ≫ forward pass ≫ lookup.
    assert seconds["recipe"] > 100 * seconds["weights"]
    assert seconds["weights"] > seconds["behaviour"]
    assert seconds["activations"] > seconds["behaviour"]


def test_permutation_is_an_exact_symmetry_and_matching_undoes_it(networks):
    weights = networks[0]
    perm = np.random.default_rng(3).permutation(24)
    shuffled = levels.permute_hidden(weights, perm)
    assert np.array_equal(levels.truth_table(shuffled, BITS), levels.truth_table(weights, BITS))
    assert levels.off_table_disagreement(weights, shuffled) == 0.0
    assert abs(levels.weight_correlation(weights, shuffled)) < 0.5
    found = levels.match_units(levels.hidden_activations(weights, BITS), levels.hidden_activations(shuffled, BITS))
    assert levels.weight_correlation(weights, levels.permute_hidden(shuffled, found)) == pytest.approx(1.0)


def test_two_seeds_same_table_uncorrelated_until_matched(networks):
    for a, b in combinations(networks, 2):
        result = levels.compare_pair(networks[a], networks[b])
        assert result["same_table"]
        assert abs(result["raw"]) < 0.25  # measured 0.02 ± 0.05 over 15 pairs
        assert result["matched"] > 0.4  # measured 0.49–0.86
        assert 0.02 < levels.off_table_disagreement(networks[a], networks[b]) < 0.7  # measured 9–55%


def test_sub_parities_are_readable_from_trained_hidden_units_only(networks):
    untrained = levels.weights_of(levels.train_network(levels.Recipe(steps=0)))
    report = levels.probe_report(networks[0], untrained)
    xors = [t for t in report["raw inputs"] if "⊕" in t]
    assert all(report["raw inputs"][f"x{i}"] == 1.0 for i in range(1, 5))
    assert all(report["raw inputs"][t] == 0.0 for t in xors)  # not linear in the inputs at all
    assert all(report["trained hidden"][t] >= 15 / 16 for t in xors + ["parity"])
    assert np.mean([report["untrained hidden"][t] for t in xors]) < 0.9  # random features: partly
    assert report["untrained hidden"]["parity"] < 0.5
    shuffled = levels.shuffled_control(levels.hidden_activations(networks[0], BITS), levels.parity(BITS), 30)
    assert 0.3 < shuffled.mean() < 0.7


def test_the_lessons_six_seed_claims_hold_with_margin():
    """The numbers lesson 01 states for seeds 0–5 (stored outputs are not compared digit by digit, so pin them here).

    Measured: every seed solves parity; raw weight correlation 0.02 ± 0.05; matched 0.66 (lowest 0.49); off the
    table 29% disagree on average (9% to 55%); mean XOR probe ≥ 0.98 trained, 0.59–0.79 untrained.
    """
    six = levels.trained_seeds(tuple(range(6)))
    assert levels.solving_seeds(six) == list(range(6))
    pairs = [levels.compare_pair(six[a], six[b]) for a, b in combinations(range(6), 2)]
    raw, matched = np.array([p["raw"] for p in pairs]), np.array([p["matched"] for p in pairs])
    assert abs(raw.mean()) < 0.1  # "about zero"
    assert 0.55 < matched.mean() < 0.8 and matched.min() > 0.35  # "about two thirds", every pair aligned
    off = np.array([levels.off_table_disagreement(six[a], six[b]) for a, b in combinations(range(6), 2)])
    assert 0.2 < off.mean() < 0.4 and off.min() < 0.2 and off.max() > 0.4  # "about 30%, a tenth to a half"
    xors = [t for t in levels.probe_targets() if "⊕" in t]
    for seed in range(6):
        before = levels.weights_of(levels.train_network(levels.Recipe(seed=seed, steps=0)))
        report = levels.probe_report(six[seed], before)
        assert np.mean([report["trained hidden"][t] for t in xors]) >= 0.95
        assert 0.5 < np.mean([report["untrained hidden"][t] for t in xors]) < 0.9  # "≈ 0.7"


def test_probe_accuracy_leave_one_out_against_a_direct_formula():
    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(10, 2)), rng.integers(0, 2, 10)
    correct = 0
    for i in range(10):
        keep = np.arange(10) != i
        a = np.c_[features[keep], np.ones(9)]
        coef = np.linalg.lstsq(np.r_[a, np.sqrt(0.1) * np.eye(3)], np.r_[labels[keep], np.zeros(3)], rcond=None)[0]
        correct += int((np.r_[features[i], 1.0] @ coef > 0.5) == labels[i])
    assert levels.probe_accuracy(features, labels) == pytest.approx(correct / 10)


def test_explorer_view_and_in_place_redraw(networks):
    start = time.perf_counter()
    plain = levels.pair_view(0, 1, False, networks)
    matched = levels.pair_view(0, 1, True, networks)
    assert time.perf_counter() - start < 0.1
    assert plain["A"].shape == (6, 24) and matched["unit_corr"].shape == (24, 24)
    assert np.trace(matched["unit_corr"]) > np.trace(plain["unit_corr"]) + 5
    assert matched["weight_corr"] > plain["weight_corr"] + 0.3
    fig, _ = new_figure(1, 3, 9.6, 3.4)
    levels.draw_pair(fig, plain)
    images = [ax.images[0] for ax in fig.axes[:3]]
    levels.draw_pair(fig, matched)
    assert [ax.images[0] for ax in fig.axes[:3]] == images and all(len(ax.images) == 1 for ax in fig.axes[:3])
    assert np.allclose(fig.axes[1].images[0].get_array(), matched["B"])


def test_levels_figure_labels_four_points():
    sizes = {"recipe": 82, "weights": 580, "activations": 1636, "behaviour": 2}
    seconds = {"recipe": 0.3, "weights": 6e-6, "activations": 3e-6, "behaviour": 6e-8}
    fig = levels.plot_levels(sizes, seconds, levels.access_flops(levels.Recipe()))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 4 and texts[0].startswith("recipe: retrain")
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"


# --- checks -----------------------------------------------------------------------------------------------------

def test_check_truth_table():
    assert check_truth_table(levels.truth_table)
    assert not check_truth_table(_stub)

    def no_encoding(weights, bits):  # fed the 0/1 bits straight in
        h = np.maximum(bits @ weights["W1"].T + weights["b1"], 0)
        return ((h @ weights["W2"].T + weights["b2"])[:, 0] > 0).astype(int)

    def at_least_zero(weights, bits):  # a logit of exactly 0 is output 0, not 1
        h = np.maximum((2.0 * bits - 1) @ weights["W1"].T + weights["b1"], 0)
        return ((h @ weights["W2"].T + weights["b2"])[:, 0] >= 0).astype(int)

    def no_relu(weights, bits):
        h = (2.0 * bits - 1) @ weights["W1"].T + weights["b1"]
        return ((h @ weights["W2"].T + weights["b2"])[:, 0] > 0).astype(int)

    with pytest.raises(CheckFailed, match="encode the bits"):
        check_truth_table(no_encoding)
    with pytest.raises(CheckFailed, match="all-zero weights"):
        check_truth_table(at_least_zero)
    with pytest.raises(CheckFailed, match="hand-built parity"):
        check_truth_table(no_relu)


def test_check_sizes_for():
    assert check_sizes_for(levels.sizes_for)
    assert not check_sizes_for(_stub)
    with pytest.raises(CheckFailed, match="2 inputs still need a whole byte"):  # rounded down
        check_sizes_for(lambda n, h: {"weights": 4 * (h * n + 2 * h + 1), "behaviour": 2**n // 8})
    with pytest.raises(CheckFailed, match="readout"):  # forgot the readout layer
        check_sizes_for(lambda n, h: {"weights": 4 * (h * n + h), "behaviour": math.ceil(2**n / 8)})


def test_check_permute_hidden():
    assert check_permute_hidden(levels.permute_hidden)
    assert not check_permute_hidden(_stub)
    with pytest.raises(CheckFailed, match="W2"):  # the outgoing weights stayed put
        check_permute_hidden(lambda w, p: {"W1": w["W1"][p], "b1": w["b1"][p], "W2": w["W2"], "b2": w["b2"]})
    with pytest.raises(CheckFailed, match="rotated"):  # inverse permutation (old unit i → new perm[i])
        check_permute_hidden(lambda w, p: levels.permute_hidden(w, np.argsort(p)))


def test_check_probe_accuracy():
    assert check_probe_accuracy(levels.probe_accuracy)
    assert not check_probe_accuracy(_stub)

    def training_accuracy(features, labels, ridge=0.1):  # scores the rows it was fitted on
        a = np.c_[features, np.ones(len(features))]
        coef = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ labels)
        return float(np.mean((a @ coef > 0.5) == (labels > 0.5)))

    def ignores_ridge(features, labels, ridge=0.1):
        return levels.probe_accuracy(features, labels, 0.1)

    with pytest.raises(CheckFailed, match="Scoring the rows you fitted on"):
        check_probe_accuracy(training_accuracy)
    with pytest.raises(CheckFailed, match="ridge = 10"):
        check_probe_accuracy(ignores_ridge)


def test_check_match_units():
    assert check_match_units(levels.match_units)
    assert not check_match_units(_stub)

    def dot_products(a, b):  # raw dot products: big units win regardless of what they do
        score = a.T @ b
        perm = np.zeros(a.shape[1], dtype=int)
        for _ in range(a.shape[1]):
            i, j = np.unravel_index(np.argmax(score), score.shape)
            perm[i], score[i, :], score[:, j] = j, -np.inf, -np.inf
        return perm

    with pytest.raises(CheckFailed, match="greedy matching reaches"):
        check_match_units(dot_products)
    with pytest.raises(CheckFailed, match="undo the shuffle"):  # the pairing read the wrong way round
        check_match_units(lambda a, b: np.argsort(levels.match_units(a, b)))
    with pytest.raises(CheckFailed, match="each of 0..5 once"):  # best partner per row, reusing units
        check_match_units(lambda a, b: np.argmax(levels.unit_correlations(a, b), axis=1))
