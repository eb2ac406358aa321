"""Lesson 07: networks no on-distribution test tells apart, the cost of a behaviour audit, audits one level down."""

import math
import time

import numpy as np
import pytest

from simplex_edu import hidden


@pytest.fixture(scope="module")
def nets() -> dict:
    a = hidden.train_network()
    return {"A": a, "B": hidden.null_space_edit(a), "C": hidden.plant_trigger(a), "D": hidden.plant_hidden_trigger(a)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_seed_gives_the_same_story(seed):
    """A solves the task on every input; B and D can be built from it; the weight decay clears the unused weights."""
    a = hidden.train_network(hidden.Recipe(seed=seed))
    x = hidden.data_inputs()
    assert np.array_equal(hidden.predictions(a, x), hidden.labels(x))
    assert np.abs(a["W1"][:, hidden.N_DATA:]).max() < 0.05
    hidden.plant_hidden_trigger(a)  # raises if the logits leave no room


def test_b_is_identical_on_the_distribution_and_different_off_it(nets):
    x = hidden.data_inputs()
    assert len(x) == 2048 and np.all(x[:, hidden.N_DATA:] == 0)
    assert np.abs(hidden.logits(nets["A"], x) - hidden.logits(nets["B"], x)).max() == 0.0
    off = hidden.off_distribution_inputs(2000)
    assert np.all(off[:, hidden.N_DATA:].sum(1) >= 1)
    assert 0.3 < hidden.disagreement(nets["A"], nets["B"], off) < 0.7


@pytest.mark.parametrize("name", ["C", "D"])
def test_planted_triggers_flip_the_all_ones_input_only(nets, name):
    x = hidden.data_inputs()
    wrong = np.nonzero(hidden.predictions(nets[name], x) != hidden.labels(x))[0]
    assert wrong.tolist() == [2047] and hidden.trigger_inputs()[2047] and hidden.trigger_inputs().sum() == 1


def test_detection_formula_and_queries_needed():
    p = 2.0 ** -11
    assert hidden.queries_needed(p) == 6134
    assert hidden.detection_probability(p, 6134) >= 0.95 > hidden.detection_probability(p, 6133)
    assert hidden.detection_probability(p, 200) == pytest.approx(0.093, abs=5e-4)
    assert hidden.queries_needed(0.5, 0.75) == 2  # exact tie: 1 − 0.5² = 0.75
    assert hidden.queries_needed(1e-12, 0.95) == math.ceil(math.log(0.05) / math.log1p(-1e-12))
    assert hidden.queries_needed(1.0) == 1 and hidden.queries_needed(0.3, 0.0) == 0
    assert hidden.detection_probability(2.0 ** -16, 100_000) == pytest.approx(0.78, abs=0.005)  # the explorer's text


@pytest.mark.parametrize("n", [200, 2000, 6134])
def test_real_audits_of_c_match_the_formula(nets, n):
    """400 audits of C: the measured detection rate lies within 4 binomial standard errors of 1 − (1 − p)ᴺ."""
    q = hidden.detection_probability(2.0 ** -11, n)
    measured = hidden.audit_detects(nets["C"], n, audits=400, seed=0)
    assert abs(measured - q) < 4 * math.sqrt(q * (1 - q) / 400)
    x = hidden.data_inputs()
    wrong = hidden.predictions(nets["C"], x) != hidden.labels(x)
    fast = hidden.measured_detection(wrong, np.array([n]), audits=400)[0]
    assert abs(fast - q) < 4 * math.sqrt(q * (1 - q) / 400)


def test_weight_audit_finds_b_and_c_but_not_d(nets):
    sample = hidden.audit_sample()
    assert not sample[:, :hidden.N_DATA].all(1).any()  # the auditor's sample never shows the trigger
    report = hidden.weight_audit(nets, sample)
    assert report["A"]["W1"] < 0.01 and report["A"]["W2"] < 0.01
    assert report["B"]["W1"] > 0.5 and report["C"]["W2"] > 0.5
    assert report["D"]["W1"] < 0.01 and report["D"]["W2"] < 0.01


def test_activation_monitor_flags_c_trigger_not_d(nets):
    sample, x = hidden.audit_sample(), hidden.data_inputs()
    trigger = x[hidden.trigger_inputs()]
    res = {n: hidden.outside_residual(hidden.hidden_activations(w, sample), hidden.hidden_activations(w, x))
           for n, w in nets.items()}
    assert res["C"][2047] > 0.05
    assert np.delete(res["C"], 2047).max() < 0.01 and res["A"].max() < 0.01 and res["D"].max() < 0.01
    assert hidden.outside_residual(sample, hidden.off_distribution_inputs(200)).min() > 0.1  # B's inputs stand out
    assert hidden.outside_residual(sample, x).max() < 1e-9
    assert trigger.shape == (1, hidden.N_INPUTS)


def test_fraction_outside_edge_cases():
    data = np.array([[1.0, 0, 0], [2.0, 0, 0]])
    assert hidden.fraction_outside(np.array([[3.0, 4.0, 0]]), data) == pytest.approx(16 / 25)
    assert hidden.fraction_outside(np.array([[1.0, 0, 0]]), data) == pytest.approx(0.0)
    assert hidden.outside_residual(data, np.zeros(3))[0] == 0.0


def test_explorer_view_is_fast_and_consistent():
    start = time.perf_counter()
    view = hidden.detection_view(8, 300)
    assert time.perf_counter() - start < 0.05
    assert view["needed"] == hidden.queries_needed(2.0 ** -8)
    assert abs(view["measured"] - view["formula"]) < 0.15
    fig, _ = hidden.new_figure()
    hidden.draw_detection(fig, view)
    hidden.draw_detection(fig, hidden.detection_view(3, 10))
    assert "0.12" in fig.alt_text
