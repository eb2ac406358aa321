"""Lesson 08: RRXOR against its known figures, the shipped checkpoint at the optimum, and the claims the lesson makes
about where its beliefs live (all layers, last block, the output), pinned over seeds against lookups and controls."""

from __future__ import annotations

import json

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from simplex_edu import beliefs as B
from simplex_edu.beliefs import beyond as R
from simplex_edu.beliefs import transformer as BT

matplotlib.use("Agg")
T = B.rrxor()
CONTEXT = R.RRXOR_RECIPE.context
# The lesson's claims with room for seeds and CPUs; measured (seeds 1-4, and 20,000 sequences in measured.json):
EXCESS_LARGEST, EXCESS_MEAN = 0.003, 0.0015  # loss over the filter: at most 0.0006, mean 0.0003 bits
ALL_LAYERS_BELOW = 0.2                       # all layers concatenated: 0.172-0.180
RATIO_TO_BEST_LAYER = 0.7                    # … against the best single layer (after block 4, 0.295-0.303): 0.59-0.61
BEST_GUESS_ABOVE = 0.4                       # the best readout of the exact prediction: 0.452-0.462


@pytest.fixture(scope="module")
def checkpoint():
    return BT.load_checkpoint(process="rrxor")


@pytest.fixture(scope="module")
def study(checkpoint):
    model, _ = checkpoint
    return R.rrxor_study(model, BT.make_transformer(R.RRXOR_RECIPE).eval())


# ---------------------------------------------------------------- the process, against what is known of it

@pytest.mark.parametrize("p_one", [0.5, 0.2, 1.0])
def test_rrxor_is_a_process_and_its_third_bits_are_the_xor(p_one):
    tensor = B.rrxor(p_one)
    np.testing.assert_allclose(tensor.sum(axis=(0, 2)), 1)  # every state goes somewhere
    tokens, _ = B.sample_sequences(tensor, 200, 30, np.random.default_rng(0))
    states = B.sample_sequences(tensor, 200, 30, np.random.default_rng(0))[1]
    groups = [t[k:k + 3] for t, s in zip(tokens, states) for k in range(27) if s[k] == 0]  # groups starting at S
    assert groups and all(g[2] == g[0] ^ g[1] for g in groups)
    if p_one == 1.0:
        assert all(list(g) == [1, 1, 0] for g in groups)


def test_rrxor_stationary_distribution_and_entropy_rate_are_the_known_ones():
    np.testing.assert_allclose(B.stationary_distribution(T), [1 / 3, 1 / 6, 1 / 6, 1 / 6, 1 / 6], atol=1e-12)
    assert B.entropy_rate_bits(T) == pytest.approx(2 / 3, abs=0.01)  # two fair bits in every three
    optimum = BT.optimal_loss_per_position(T, 30)
    assert optimum[0] == pytest.approx(1.0) and np.all(np.diff(optimum) <= 1e-12) and optimum[-1] > 2 / 3
    assert optimum[-1] - 2 / 3 < 0.02  # the optimum approaches the entropy rate as the phase is learnt


def test_rrxor_has_36_mixed_states_and_11_predictions_shai_et_al():
    found = R.predictions_per_belief(T)
    assert len(found["states"]) == 36 and found["n_predictions"] == 11  # the paper's mixed-state presentation
    eta = found["states"]
    np.testing.assert_allclose(found["p_one"], 0.5 * eta[:, :3].sum(axis=1) + eta[:, 3])  # P(1) by hand
    certain = {name: np.eye(5)[k] for k, name in enumerate(B.RRXOR_STATES)}
    half = eta[np.isclose(found["p_one"], 0.5)]
    assert len(half) == 10  # the largest group: the lesson's "10 beliefs … all predict 0.5"
    for name in ("S", "0", "1"):
        assert any(np.allclose(row, certain[name]) for row in half)
    assert len(B.mixed_states(B.mess3(), max_tokens=4)) == 1 + 3 + 9 + 27 + 81  # Mess3: every prefix its own


def test_best_guess_from_the_prediction_is_the_conditional_mean():
    rng = np.random.default_rng(0)
    predictions = np.repeat(np.array([[0.5, 0.5], [0.2, 0.8]]), 50, axis=0)
    beliefs = rng.dirichlet(np.ones(5), size=100)
    guess = R.best_guess_from_prediction(predictions, beliefs, np.array([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]]))
    np.testing.assert_allclose(guess, [beliefs[:50].mean(0), beliefs[50:].mean(0), beliefs.mean(0)])


def test_lookup_of_the_last_k_bits_keys_on_two_tokens():
    tokens, _ = B.sample_sequences(T, 300, 5, np.random.default_rng(5))
    beliefs = B.filter_beliefs(tokens, T)
    np.testing.assert_allclose(BT.lookup_beliefs(tokens, beliefs, tokens, 5), beliefs, atol=1e-12)


# ---------------------------------------------------------------- the checkpoint

def test_checkpoint_is_small_and_made_by_the_lessons_recipe(checkpoint):
    model, record = checkpoint
    assert BT._data_file(R.RRXOR_RECIPE.name, ".pt", None).stat().st_size < 900_000
    assert BT.Recipe(**record["recipe"]) == R.RRXOR_RECIPE
    assert record["parameters"] == sum(p.numel() for p in model.parameters())
    assert model.embed.tokens.num_embeddings == 2


def test_retraining_reproduces_the_recorded_early_losses(checkpoint):
    _, record = checkpoint
    _, history = BT.train_transformer(R.RRXOR_RECIPE, steps=20, progress=False)
    np.testing.assert_allclose(history.losses, record["early_losses"], atol=2e-3)


def test_checkpoint_predicts_at_the_optimum_at_every_position(checkpoint):
    model, _ = checkpoint
    tokens, _ = B.sample_sequences(T, 4000, CONTEXT + 1, np.random.default_rng(3))
    excess = BT.loss_per_position(model, tokens) - BT.filter_loss_per_position(T, tokens)
    assert np.all(np.abs(excess) < 0.01) and abs(excess.mean()) < 0.005


def test_the_recorded_measurement_meets_the_lesson_and_matches_the_checkpoint(checkpoint):
    """The README quotes rrxor_transformer.measured.json (20,000 fresh sequences)."""
    model, _ = checkpoint
    measured = json.loads(BT._data_file(R.RRXOR_RECIPE.name, ".measured.json", None).read_text())
    assert measured["n_sequences"] >= 20000 and measured["made_by"] == "simplex_edu.beliefs.beyond.measure_rrxor"
    assert max(map(abs, measured["excess_bits_per_position"])) < EXCESS_LARGEST
    assert abs(measured["excess_bits_mean"]) < EXCESS_MEAN
    rmse, readouts = measured["probe_rmse"]["trained"], measured["readout_rmse"]
    assert rmse[-1] < min(rmse[:-1]) and rmse[-1] < min(readouts.values()) / 2
    tokens, _ = B.sample_sequences(T, 2000, CONTEXT + 1, np.random.default_rng(11))
    excess = BT.loss_per_position(model, tokens) - BT.filter_loss_per_position(T, tokens)
    assert abs(excess.mean() - measured["excess_bits_mean"]) < 0.01  # the same network (2,000 sequences here)


# ---------------------------------------------------------------- where the belief lives: the lesson's claims

@pytest.mark.parametrize("seed", [1, 2])
def test_all_layers_hold_the_belief_better_than_any_one_layer_the_output_or_a_lookup(checkpoint, seed):
    """The lesson's section 4, over seeds: the ranking it states, against the lookups and the untrained network."""
    model, _ = checkpoint
    study = R.rrxor_study(model, BT.make_transformer(R.RRXOR_RECIPE).eval(), seed=seed)
    trained, untrained = study["rows"]["trained"], study["rows"]["untrained (control)"]
    readouts = study["readouts"]
    all_layers = trained[-1]
    assert all_layers < ALL_LAYERS_BELOW
    assert all_layers < RATIO_TO_BEST_LAYER * trained[:-1].min()  # spread across layers: no one layer has it all
    assert all_layers < 0.5 * min(readouts.values())               # the output cannot carry the belief
    assert readouts["best guess from the exact next-token prediction"] > BEST_GUESS_ABOVE
    assert all_layers < 0.5 * untrained[-1]
    mean_belief = B.simplex_rmse(np.broadcast_to(study["mean_belief"], study["true"].shape), study["true"])
    np.testing.assert_allclose(study["rows"]["shuffled labels (control)"], mean_belief, rtol=0.03)
    assert all_layers < min(study["lookup"].values())  # better than a lookup of the last 6 bits (0.227-0.229)
    assert abs(trained[-2] - study["lookup"][5]) < 0.03  # the last block: "about what a lookup of the last 5 bits gives"
    assert np.all(np.diff(trained[:-1]) < 0)             # "the error falls with every block"
    assert untrained[-1] < min(readouts.values())        # "a little better than any readout of the output" (0.43)


def test_the_lesson_figures_draw_and_say_what_they_show(study):
    table = R.plot_beliefs_and_predictions(T)
    assert "36 beliefs" in table.alt_text and "only 11 distinct predictions, and 10 beliefs" in table.alt_text
    rmse = BT.plot_rmse_per_layer(study)
    assert "output" in rmse.alt_text  # the readouts of behaviour alone are drawn and described
    for fig in (table, R.plot_probed_beliefs(study, T), rmse):
        fig.canvas.draw()
        fig.canvas.draw()
        plt.close(fig)
    projection = R.belief_projection(B.mixed_states(T))
    assert projection.shape == (4, 5) and len(np.unique(R.project(B.mixed_states(T), projection).round(6), axis=0)) == 36


# ---------------------------------------------------------------- the explorer

def test_readout_view_follows_the_typed_bits_and_caps_at_the_context(checkpoint, study):
    model, _ = checkpoint
    view = R.readout_view("1 x 0" + "011" * 5, "all layers", model, study)
    assert view["ignored"] == ["x"] and view["dropped"] == 17 - CONTEXT and len(view["bits"]) == CONTEXT
    np.testing.assert_allclose(view["true"], B.filter_beliefs(view["bits"], T)[0, -1])
    assert view["true_next"] == pytest.approx(B.next_token_probs(view["true"], T)[1])
    assert abs(view["net_next"] - view["true_next"]) < 0.05  # the network at the optimum predicts as the filter
    start = R.readout_view("", "last block", model, study)
    np.testing.assert_allclose(start["true"], B.stationary_distribution(T))
    np.testing.assert_allclose(start["probed"], start["true"])
    with pytest.raises(ValueError, match="readout must be one of"):
        R.readout_view("01", "first block", model, study)


def test_readouts_tell_apart_what_the_output_cannot(checkpoint, study):
    """The explorer's lesson: two contexts with the same prediction and different beliefs, read three ways."""
    model, _ = checkpoint
    certain_s, certain_0 = "00101", "001010"  # certainly at a group's start / certainly after its first bit, a 0
    views = {r: [R.readout_view(bits, r, model, study) for bits in (certain_s, certain_0)] for r in R.READOUTS}
    first, second = views["all layers"]
    assert first["true_next"] == pytest.approx(second["true_next"])  # the same next-bit prediction …
    assert np.abs(first["true"] - second["true"]).max() > 0.5          # … from beliefs far apart
    gap = {r: np.abs(v[0]["probed"] - v[1]["probed"]).max() for r, v in views.items()}
    assert gap["all layers"] > 0.3 and gap["output probabilities"] < 0.1


def test_readout_view_says_which_bits_rrxor_never_emits(checkpoint, study):
    model, _ = checkpoint
    with pytest.raises(ValueError, match="RRXOR never emits '11111'"):
        R.readout_view("111110", "all layers", model, study)
