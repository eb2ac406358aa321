"""Lesson 05: Mess3 and exact filtering against hand-computed numbers, the GRU probe against its controls, and
every exercise check against right, wrong and stub answers."""

from __future__ import annotations

import itertools
import time

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from simplex_edu import beliefs as B
from simplex_edu.checks import CheckFailed
from simplex_edu.checks import beliefs as checks
from simplex_edu.plots import new_figure

matplotlib.use("Agg")
T = B.mess3()


def _stub(*_args, **_kwargs):
    raise NotImplementedError


# ---------------------------------------------------------------- the process

def test_mess3_is_a_valid_hmm_with_uniform_stationary_distribution():
    assert T.shape == (3, 3, 3) and np.all(T >= 0)
    summed = T.sum(axis=0)  # P(next state j | state i), tokens summed out
    np.testing.assert_allclose(summed.sum(axis=1), 1.0, atol=1e-12)  # row-stochastic
    np.testing.assert_allclose(summed, [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]], atol=1e-12)
    np.testing.assert_allclose(B.stationary_distribution(T), np.ones(3) / 3, atol=1e-12)
    np.testing.assert_allclose(B.emission_matrix(T).sum(axis=1), 1.0, atol=1e-12)


def test_mess3_entries_follow_the_published_parametrisation():
    x, alpha = 0.05, 0.85
    y, beta = 1 - 2 * x, (1 - alpha) / 2
    expected_a = np.array([[alpha * y, beta * x, beta * x],
                           [alpha * x, beta * y, beta * x],
                           [alpha * x, beta * x, beta * y]])
    np.testing.assert_allclose(T[0], expected_a, atol=1e-15)
    # the three tokens are the same matrix with states and tokens relabelled cyclically
    roll = np.roll(np.eye(3), 1, axis=1)
    np.testing.assert_allclose(T[1], roll.T @ T[0] @ roll, atol=1e-15)
    other = B.mess3(0.15, 0.6)
    np.testing.assert_allclose(other.sum(axis=0).sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(B.stationary_distribution(other), np.ones(3) / 3, atol=1e-12)


def test_sampled_sequences_have_the_right_statistics():
    tokens, states = B.sample_sequences(T, 4000, 20, np.random.default_rng(0))
    assert tokens.shape == (4000, 20) and states.shape == (4000, 21)
    np.testing.assert_allclose(np.bincount(tokens.ravel(), minlength=3) / tokens.size, 1 / 3, atol=0.01)
    stay = np.mean(states[:, 1:] == states[:, :-1])
    assert stay == pytest.approx(0.9, abs=0.01)  # y = 1 − 2x
    emits_own = np.mean(tokens == states[:, 1:])  # the state entered emits its own token with probability α
    assert emits_own == pytest.approx(0.85, abs=0.01)


# ---------------------------------------------------------------- exact filtering

def test_one_step_updates_match_hand_computation():
    uniform = np.ones(3) / 3
    # from uniform, token 0: column sums of T⁽⁰⁾ are (α, β, β), and α + 2β = 1
    first = B.belief_update(uniform, 0, T)
    np.testing.assert_allclose(first, [0.85, 0.075, 0.075], atol=1e-12)
    # again token 0: (first @ M) = 0.85·first + 0.05 = (0.7725, 0.11375, 0.11375), times E[:, 0] = (α, β, β)
    unnormalised = np.array([0.7725 * 0.85, 0.11375 * 0.075, 0.11375 * 0.075])
    np.testing.assert_allclose(B.belief_update(first, 0, T), unnormalised / unnormalised.sum(), atol=1e-12)
    np.testing.assert_allclose(B.belief_update(uniform, 2, T), [0.075, 0.075, 0.85], atol=1e-12)


def test_filtered_beliefs_are_distributions_and_batches_agree():
    tokens, _ = B.sample_sequences(T, 50, 30, np.random.default_rng(1))
    beliefs = B.filter_beliefs(tokens, T)
    assert beliefs.shape == (50, 30, 3) and beliefs.min() >= 0
    np.testing.assert_allclose(beliefs.sum(axis=-1), 1.0, atol=1e-12)
    belief = np.ones(3) / 3
    for t, token in enumerate(tokens[7]):  # one sequence, one token at a time
        belief = B.belief_update(belief, int(token), T)
        np.testing.assert_allclose(beliefs[7, t], belief, atol=1e-12)


def test_next_token_probs_from_beliefs_match_empirical_frequencies():
    """For each of the 27 three-token prefixes, the filter's prediction matches the sampled next-token frequency."""
    tokens, _ = B.sample_sequences(T, 200_000, 4, np.random.default_rng(2))
    prefix_ids = tokens[:, 0] * 9 + tokens[:, 1] * 3 + tokens[:, 2]
    worst = 0.0
    for prefix in itertools.product(range(3), repeat=3):
        rows = prefix_ids == prefix[0] * 9 + prefix[1] * 3 + prefix[2]
        predicted = B.next_token_probs(B.filter_beliefs(np.array([prefix]), T)[0, -1], T)
        empirical = np.bincount(tokens[rows, 3], minlength=3) / rows.sum()
        sigma = np.sqrt(predicted * (1 - predicted) / rows.sum())
        worst = max(worst, float(np.max(np.abs(empirical - predicted) / sigma)))
    assert worst < 4.5  # 81 comparisons: all within 4.5 standard errors


def test_filter_beats_unigram_and_the_map_to_behaviour_is_a_contraction():
    tokens, _ = B.sample_sequences(T, 2000, 16, np.random.default_rng(3))
    beliefs = B.filter_beliefs(tokens, T)
    bits = B.cross_entropy_bits(B.next_token_probs(beliefs[:, :-1], T), tokens[:, 1:])
    assert 1.13 < bits < 1.18 < np.log2(3)  # measured 1.153 bits per token; a unigram needs log₂3 = 1.585
    eigenvalues = np.sort(np.linalg.eigvals(B.emission_matrix(T)).real)
    np.testing.assert_allclose(eigenvalues, [0.85 * 0.775, 0.85 * 0.775, 1.0], atol=1e-12)  # (y − x)(α − β)


def test_simplex_to_xy_is_an_isometry_up_to_a_factor():
    p, q = np.random.default_rng(4).dirichlet(np.ones(3), size=(2, 100))
    plane = np.linalg.norm(B.simplex_to_xy(p) - B.simplex_to_xy(q), axis=-1)
    np.testing.assert_allclose(plane, np.linalg.norm(p - q, axis=-1) / np.sqrt(2), atol=1e-12)


# ---------------------------------------------------------------- the network and the probe

@pytest.fixture(scope="module")
def probe_result():
    torch.set_num_threads(1)
    trained, history = B.train_gru(T, steps=200, progress=False)
    return B.probe_comparison(T, trained, B.make_gru(), n_fit=300, n_test=300), history, trained


def test_trained_probe_beats_untrained_and_shuffled_controls(probe_result):
    result, history, _ = probe_result
    rmse = {name: row["rmse"] for name, row in result["rows"].items()}
    assert history.final_loss < 0.83  # nats; the exact filter's cross-entropy on these positions is 0.80
    assert rmse["trained GRU"] < 0.05  # measured 0.03–0.04 after 200–400 steps
    assert rmse["trained GRU"] < 0.6 * rmse["untrained GRU"]  # measured 0.08 untrained
    assert rmse["trained GRU, shuffled labels"] > 0.6  # no better than the mean belief (0.70)
    assert rmse["trained GRU, shuffled labels"] == pytest.approx(rmse["mean belief (no probe)"], rel=0.05)
    assert result["rows"]["untrained GRU"]["r2"] > 0.95  # why R² alone misleads


def test_training_is_reproducible():
    torch.set_num_threads(1)
    first, _ = B.train_gru(T, steps=5, progress=False)
    second, _ = B.train_gru(T, steps=5, progress=False)
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)


# ---------------------------------------------------------------- the explorer

def test_belief_walk_follows_the_filter(probe_result):
    _, _, trained = probe_result
    probe = np.zeros((33, 3))
    probe[-1] = 1 / 3
    view = B.belief_walk(5, "01x2 20 1", T, trained, probe)
    np.testing.assert_array_equal(view["tokens"], [0, 1, 2, 2, 0])
    assert view["true"].shape == view["probed"].shape == (6, 3)
    np.testing.assert_allclose(view["true"][0], np.ones(3) / 3)
    np.testing.assert_allclose(view["true"][1:], B.filter_beliefs(np.array([[0, 1, 2, 2, 0]]), T)[0])
    np.testing.assert_allclose(view["true_next"], B.next_token_probs(view["true"][-1], T))
    np.testing.assert_allclose(view["net_next"].sum(), 1.0, atol=1e-6)
    assert len(B.belief_walk(0, "012", T, trained, probe)["true"]) == 1
    assert len(B.belief_walk(40, "012", T, trained, probe)["true"]) == 4


def test_belief_walk_draws_in_place_and_fast(probe_result):
    _, _, trained = probe_result
    probe = np.zeros((33, 3))
    probe[-1] = 1 / 3
    fig, _ = new_figure(1, 2, 8, 3.6)
    background = B.belief_fractal(T, 50)
    B.draw_belief_walk(fig, B.belief_walk(3, "0120", T, trained, probe), background)
    artists = [len(ax.lines) + len(ax.patches) for ax in fig.axes]
    timings = []
    for step in range(1, 8):
        start = time.perf_counter()
        B.draw_belief_walk(fig, B.belief_walk(step, "01201122", T, trained, probe), background)
        timings.append(time.perf_counter() - start)
    assert [len(ax.lines) + len(ax.patches) for ax in fig.axes] == artists  # moved, not redrawn
    # compute + artist updates only: rendering the PNG (~40 ms quiet) is the Explorer's, timed by the benchmark
    assert np.median(timings) < 0.05


# ---------------------------------------------------------------- the checks: reference passes, stub, wrong

def test_check_belief_update():
    assert checks.check_belief_update(B.belief_update)
    assert not checks.check_belief_update(_stub)
    with pytest.raises(CheckFailed, match="not normalised"):  # forgot to normalise
        checks.check_belief_update(lambda b, a, t: b @ t[a])
    with pytest.raises(CheckFailed, match="sums over the next state j"):  # used T⁽ᵃ⁾ transposed
        checks.check_belief_update(lambda b, a, t: (t[a] @ b) / (t[a] @ b).sum())


def test_check_simplex_to_xy():
    assert checks.check_simplex_to_xy(B.simplex_to_xy)
    assert not checks.check_simplex_to_xy(_stub)
    with pytest.raises(CheckFailed, match="corner 'state 0'"):  # dropped the third coordinate instead of projecting
        checks.check_simplex_to_xy(lambda p: np.asarray(p)[..., :2])
    with pytest.raises(CheckFailed, match="batch"):  # works for one point only
        checks.check_simplex_to_xy(lambda p: np.array([p[1] + 0.5 * p[2], np.sqrt(3) / 2 * p[2]]))


def test_check_fit_linear_probe():
    assert checks.check_fit_linear_probe(B.fit_linear_probe)
    assert not checks.check_fit_linear_probe(_stub)
    with pytest.raises(CheckFailed, match="shape"):  # forgot the bias column
        checks.check_fit_linear_probe(lambda a, y: np.linalg.lstsq(a, y, rcond=None)[0])
    with pytest.raises(CheckFailed, match="exactly linear"):  # bias as the first row instead of the last
        checks.check_fit_linear_probe(
            lambda a, y: np.linalg.lstsq(np.hstack([np.ones((len(a), 1)), a]), y, rcond=None)[0])


def test_check_simplex_rmse():
    assert checks.check_simplex_rmse(B.simplex_rmse)
    assert not checks.check_simplex_rmse(_stub)
    with pytest.raises(CheckFailed, match="corner to corner"):  # averaged over components too
        checks.check_simplex_rmse(lambda p, q: float(np.sqrt(np.mean((p - q) ** 2))))
    with pytest.raises(CheckFailed, match="4 sequences"):  # summed over axis 1 instead of the last axis
        checks.check_simplex_rmse(lambda p, q: float(np.sqrt(np.mean(np.sum((p - q) ** 2, axis=1)))))


def test_check_next_token_probs():
    assert checks.check_next_token_probs(B.next_token_probs)
    assert not checks.check_next_token_probs(_stub)
    with pytest.raises(CheckFailed, match="certain of state 0"):  # summed out the current state instead
        checks.check_next_token_probs(lambda b, t: b @ t.sum(axis=1).T)
    with pytest.raises(CheckFailed, match="Mess3's matrix is built in"):  # hard-coded Mess3's emission matrix
        checks.check_next_token_probs(lambda b, t: b @ B.emission_matrix(B.mess3()))


# ---------------------------------------------------------------- levels and figures

def test_principal_variance_finds_the_dimension():
    plane = np.random.default_rng(5).normal(size=(500, 2)) @ np.random.default_rng(6).normal(size=(2, 8))
    share = B.principal_variance(plane)
    assert share.shape == (8,) and share.sum() == pytest.approx(1.0)
    assert share[:2].sum() == pytest.approx(1.0, abs=1e-12)  # points in a plane: two directions hold everything


def test_figures_and_per_token_costs(probe_result):
    result, _, trained = probe_result
    assert len(B.plot_probe_comparison(result).axes) == 4
    hidden = B.run_network(trained, result["tokens"])[0]
    assert len(B.plot_levels(result["true"], hidden, T).axes) == 3
    costs = B.time_per_token(T, trained)
    assert set(costs) == {"exact filter", "GRU"} and all(0 < c < 0.01 for c in costs.values())
    plt.close("all")


def test_invisible_nudge_is_silent_now_and_leaks_later(probe_result):
    result, _, trained = probe_result
    nudge = B.invisible_nudge(trained, result["tokens"], at=5, scale=1.0)
    assert nudge["now"] < 1e-5  # in the readout's null space: behaviour now cannot change
    assert len(nudge["later"]) == 10 and 0.005 < nudge["later"][0] < 0.1  # measured 0.03 after 400 steps



# ---------------------------------------------------------------- the claims lesson 05's text makes (issue 10)

@pytest.fixture(scope="module")
def lesson_gru():
    """Exactly the lesson's GRU: 32 units, 400 steps of sequences of 16, batch 64, seed 0."""
    torch.set_num_threads(1)
    return B.train_gru(T, hidden_size=32, steps=400, length=16, batch_size=64, seed=0, progress=False)[0]


def test_entropy_rate_is_below_the_mean_cross_entropy_of_the_first_positions():
    """1.157 bits is the exact filter's mean cross-entropy over positions 2–16; the entropy rate is ≈ 1.145 bits."""
    rates = [B.entropy_rate_bits(T, seed=seed) for seed in (0, 1)]  # measured 1.1455, 1.1436
    assert all(abs(rate - 1.145) < 0.005 for rate in rates)
    tokens, _ = B.sample_sequences(T, 1000, 16, np.random.default_rng(7))
    early = B.cross_entropy_bits(B.next_token_probs(B.filter_beliefs(tokens, T), T)[:, :-1], tokens[:, 1:])
    assert round(early, 3) == 1.157 and early > max(rates) + 0.005


def test_the_lessons_gru_claims_hold_with_margin(lesson_gru):
    """Measured: GRU 1.160 vs exact 1.157 bits; probe RMSE 0.033 trained, 0.082 untrained ("two to three times"),
    0.70 shuffled; R² 0.998 vs 0.986; behaviour RMSE 0.04; two directions hold most variance; nudge ~0.03."""
    tokens, _ = B.sample_sequences(T, 1000, 16, np.random.default_rng(7))
    exact = B.next_token_probs(B.filter_beliefs(tokens, T), T)
    network = B.run_network(lesson_gru, tokens)[1]
    gap = B.cross_entropy_bits(network[:, :-1], tokens[:, 1:]) - B.cross_entropy_bits(exact[:, :-1], tokens[:, 1:])
    assert 0 < gap < 0.015  # "almost as well as exact filtering"
    assert B.simplex_rmse(network, exact) < 0.06
    result = B.probe_comparison(T, lesson_gru, B.make_gru(hidden_size=32, seed=0), length=16, n_fit=400, n_test=400)
    rows = result["rows"]
    assert rows["trained GRU"]["rmse"] < 0.045
    assert 1.8 < rows["untrained GRU"]["rmse"] / rows["trained GRU"]["rmse"] < 3.5
    assert 0.65 < rows["trained GRU, shuffled labels"]["rmse"] < 0.75
    assert rows["trained GRU"]["r2"] > 0.99 and 0.97 < rows["untrained GRU"]["r2"] < 0.995
    hidden = B.run_network(lesson_gru, result["tokens"])[0]
    assert B.principal_variance(hidden)[:2].sum() > 0.5  # "two directions hold most of the variance"
    nudge = B.invisible_nudge(lesson_gru, result["tokens"], at=5, scale=1.0)
    assert nudge["now"] < 1e-5 and 0.01 < nudge["later"][0] < 0.06 and nudge["later"][-1] < nudge["later"][0]
    walk = B.belief_walk(28, "0000111122220120120121100000", T, lesson_gru, result["weights"])
    assert np.max(np.linalg.norm(walk["probed"][1:] - walk["true"][1:], axis=-1)) < 0.1  # "a few hundredths off"
    alternating = B.belief_walk(10, "0101010101", T, lesson_gru, result["weights"])
    lag = np.linalg.norm(alternating["probed"][-4:] - alternating["true"][-4:], axis=-1).mean()
    assert 0.04 < lag < 0.25  # "the network lags by ~0.1"


def test_the_explorer_texts_deterministic_claims():
    after_zeros = B.filter_beliefs(np.array([[0] * 12 + [1]]), T)[0, -1]
    np.testing.assert_allclose(after_zeros, [0.57, 0.40, 0.03], atol=0.01)  # "the middle of the 0–1 edge"
    tokens, _ = B.sample_sequences(T, 100_000, 10, np.random.default_rng(0))
    strict = np.all(tokens[:, 2:] == tokens[:, :-2], axis=1) & np.all(tokens[:, 1:] != tokens[:, :-1], axis=1)
    assert strict.sum() == 0  # "none in 100,000 samples of 10 tokens"


def test_step_slider_fits_the_typed_sequence():
    controls = B.belief_walk_controls("0000111122220120120121100000")
    step, text = controls["step"], controls["tokens"]
    assert (step.min, step.max, step.value) == (0, 28, 28)  # starts at the end of the default sequence
    text.value = "012" * 20  # longer than the old 40-token limit
    assert step.max == 60 and step.value == 60
    text.value = "01x2"  # shorter, with a character that is dropped
    assert step.max == 3 and step.value == 3


def test_dropped_characters_are_reported(probe_result):
    result, _, trained = probe_result
    view = B.belief_walk(5, "01x2 20 13", T, trained, result["weights"])
    assert view["ignored"] == ["3", "x"]


@pytest.mark.parametrize("x, alpha", [(0.6, 0.85), (-0.1, 0.85), (0.05, 1.2)])
def test_mess3_refuses_parameters_that_are_not_probabilities(x, alpha):
    with pytest.raises(ValueError, match="0 ≤"):
        B.mess3(x, alpha)


def test_a_token_outside_the_alphabet_is_refused():
    with pytest.raises(ValueError, match="tokens must be 0"):
        B.belief_update(np.ones(3) / 3, -1, T)
    with pytest.raises(ValueError, match="tokens must be 0"):
        B.filter_beliefs(np.array([[0, 1, 3]]), T)
