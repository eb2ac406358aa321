"""Lesson 06: the exact optimum per position, the residual stream, the shipped checkpoint and its recipe, the probe
against its controls (the reproduction of Shai et al. 2024), the explorer, and every check's stub handling."""

from __future__ import annotations

import functools
import json
import time

import ipywidgets as W
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from simplex_edu import beliefs as B
from simplex_edu.beliefs import transformer as BT
from simplex_edu.checks import CheckFailed
from simplex_edu.checks import beliefs_transformer as checks
from simplex_edu.nn import TinyTransformer
from simplex_edu.widgets import Explorer

matplotlib.use("Agg")
RECIPE = BT.Recipe()
T = RECIPE.transitions()


@pytest.fixture(scope="module")
def checkpoint():
    return BT.load_checkpoint()


@pytest.fixture(scope="module")
def study(checkpoint):
    model, _ = checkpoint
    return BT.probe_study(T, model, BT.make_transformer(RECIPE).eval(), RECIPE.context)


# ---------------------------------------------------------------- the optimum

def test_optimum_after_one_token_by_hand():
    # after one token a the belief is (α, β, β) up to relabelling; the prediction is that belief @ B
    belief = np.array([0.85, 0.075, 0.075])
    probs = belief @ B.emission_matrix(T)
    assert BT.optimal_loss_per_position(T, 1)[0] == pytest.approx(-np.sum(probs * np.log2(probs)), abs=1e-12)


def test_optimum_agrees_with_sampled_filter_losses_and_never_rises():
    optimum = BT.optimal_loss_per_position(T, 8)
    tokens, _ = B.sample_sequences(T, 40000, 9, np.random.default_rng(0))
    probs = B.next_token_probs(B.filter_beliefs(tokens, T), T)
    sampled = [B.cross_entropy_bits(probs[:, k:k + 1], tokens[:, k + 1:k + 2]) for k in range(8)]
    np.testing.assert_allclose(sampled, optimum, atol=0.015)  # 40,000 samples: standard error ≈ 0.004 bits
    assert np.all(np.diff(optimum) <= 1e-12)  # conditioning on more tokens never hurts
    assert optimum[0] < np.log2(3) and optimum[-1] == pytest.approx(1.1447, abs=5e-4)


def test_optimum_of_an_iid_process_is_the_token_entropy():
    iid = np.stack([np.full((2, 2), p / 2) for p in (0.2, 0.8)])  # state ignored: tokens i.i.d. with P = (0.2, 0.8)
    entropy = -(0.2 * np.log2(0.2) + 0.8 * np.log2(0.8))
    np.testing.assert_allclose(BT.optimal_loss_per_position(iid, 4), entropy, atol=1e-12)


# ---------------------------------------------------------------- the residual stream

def test_residual_stream_shape_and_it_feeds_the_readout():
    torch.manual_seed(0)
    model = TinyTransformer(3, d_model=16, n_layers=3, n_heads=2).eval()
    tokens = np.random.default_rng(0).integers(0, 3, (4, 7))
    stream = BT.residual_stream(model, tokens)
    assert stream.shape == (4, 4, 7, 16) and stream.dtype == np.float64
    with torch.no_grad():
        logits = model(torch.as_tensor(tokens))  # the default call is unchanged: logits only
        from_last = model.readout(model.norm(torch.as_tensor(stream[-1], dtype=torch.float32)))
        embedded = model.embed(torch.as_tensor(tokens))
    np.testing.assert_allclose(from_last.numpy(), logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(stream[0], embedded.numpy(), atol=1e-7)


def test_loss_per_position_of_a_uniform_predictor_is_log3():
    class Uniform(torch.nn.Module):
        def forward(self, tokens):
            return torch.zeros(*tokens.shape, 3)
    tokens = np.random.default_rng(1).integers(0, 3, (5, 6))
    np.testing.assert_allclose(BT.loss_per_position(Uniform(), tokens), np.log2(3), atol=1e-6)


def test_probe_rmse_per_layer_is_zero_when_beliefs_are_linear_in_a_layer():
    rng = np.random.default_rng(2)
    beliefs = rng.dirichlet(np.ones(3), size=(60, 5))
    acts = np.stack([rng.normal(size=(60, 5, 4)), beliefs @ rng.normal(size=(3, 4)) + 1.0])
    rmse = BT.probe_rmse_per_layer(acts[:, :30], beliefs[:30], acts[:, 30:], beliefs[30:])
    assert rmse.shape == (3,)
    assert rmse[1] < 1e-10 and rmse[2] < 1e-10 and rmse[0] > 0.1  # noise layer fails, the linear one and both pass


# ---------------------------------------------------------------- the checkpoint and its recipe

def test_position_embedding_tells_lengths_apart():
    torch.manual_seed(0)
    model = BT.PositionTransformer(3, d_model=16, n_layers=2, n_heads=2, context=6).eval()
    tokens = np.random.default_rng(0).integers(0, 3, (4, 6))
    stream = BT.residual_stream(model, tokens)
    with torch.no_grad():
        embedded = model.embed.tokens(torch.as_tensor(tokens)) + model.embed.positions.weight
        later = model(torch.as_tensor(tokens[:, :4]))  # causal: a prefix's outputs do not depend on what follows
    np.testing.assert_allclose(stream[0], embedded.numpy(), atol=1e-6)
    np.testing.assert_allclose(later.numpy(), model(torch.as_tensor(tokens)).detach().numpy()[:, :4], atol=1e-5)
    run = BT.residual_stream(model, np.zeros((1, 6), dtype=np.int64))[0, 0]
    assert not np.allclose(run[0], run[-1])  # the same token at two positions: two different vectors


def test_checkpoint_is_small_and_made_by_the_recorded_recipe(checkpoint):
    model, record = checkpoint
    assert BT._data_file(RECIPE.name, ".pt", None).stat().st_size < 900_000
    assert BT.Recipe(**record["recipe"]) == RECIPE  # the lesson's recipe is the one that made the checkpoint
    assert record["parameters"] == sum(p.numel() for p in model.parameters())
    assert record["made_by"] == "simplex_edu.beliefs.transformer.make_checkpoint"


def test_retraining_reproduces_the_recorded_early_losses(checkpoint):
    """The same code, seed and recipe give the same first 20 losses (to float32 rounding across CPUs)."""
    _, record = checkpoint
    _, history = BT.train_transformer(RECIPE, steps=20, progress=False)
    np.testing.assert_allclose(history.losses, record["early_losses"], atol=2e-3)
    assert history.losses[0] > history.losses[-1]  # and they are a real training curve, falling


def test_make_checkpoint_round_trips(tmp_path):
    tiny = BT.Recipe(d_model=8, n_layers=1, n_heads=2, steps=3, batch_size=4)
    record = BT.make_checkpoint(tmp_path, tiny, progress=False)
    model, loaded = BT.load_checkpoint(tmp_path)
    assert loaded == record and len(record["early_losses"]) == 3
    again, _ = BT.train_transformer(tiny, progress=False)
    tokens = torch.as_tensor(np.random.default_rng(0).integers(0, 3, (2, 5)))
    with torch.no_grad():
        np.testing.assert_allclose(model(tokens).numpy(), again.eval()(tokens).numpy(), atol=1e-6)


def test_checkpoint_tells_a_short_run_from_a_long_one_as_the_filter_does(checkpoint):
    model, _ = checkpoint
    run = BT.run_of_one_token(model, T)
    np.testing.assert_allclose(run["network"], run["filter"], atol=0.01)
    assert run["network"][1] - run["network"][0] > 0.05  # ALiBi gave the same number at both lengths


def test_checkpoint_predicts_at_the_optimum_at_every_position(checkpoint):
    model, _ = checkpoint
    tokens, _ = B.sample_sequences(T, 4000, RECIPE.context + 1, np.random.default_rng(3))
    network, paired = BT.loss_per_position(model, tokens), BT.filter_loss_per_position(T, tokens)
    np.testing.assert_allclose(paired, BT.optimal_loss_per_position(T, RECIPE.context), atol=0.04)  # sampling
    excess = network - paired  # on the same sequences, so the sampling noise cancels
    assert np.all(np.abs(excess) < 0.003) and abs(excess.mean()) < 0.0015


def test_the_recorded_measurement_meets_the_issue_and_matches_the_checkpoint(checkpoint):
    """The README quotes mess3_transformer.measured.json (20,000 fresh sequences); its claims, and its run of 0s."""
    model, _ = checkpoint
    measured = json.loads(BT._data_file(RECIPE.name, ".measured.json", None).read_text())
    assert measured["n_sequences"] >= 20000
    assert max(map(abs, measured["excess_bits_per_position"])) < 0.003 and abs(measured["excess_bits_mean"]) < 0.0015
    rmse, lookup = measured["probe_rmse"], measured["lookup_rmse"]
    assert rmse["trained"][-2] < lookup["4"] and rmse["trained"][-2] < 0.5 * rmse["untrained (control)"][-2]
    run = BT.run_of_one_token(model, T)
    for key in ("network", "filter"):
        np.testing.assert_allclose(measured["run_of_one_token"][key], run[key], atol=1e-4)


# ---------------------------------------------------------------- the reproduction: probe against controls

@pytest.mark.parametrize("seed", [1, 2])
def test_last_block_probe_beats_the_lookup_of_four_tokens_and_the_controls(checkpoint, seed):
    """Shai et al. 2024 for Mess3, with the baseline that matters: a lookup table of the last 4 tokens."""
    model, _ = checkpoint
    result = BT.probe_study(T, model, BT.make_transformer(RECIPE).eval(), RECIPE.context, seed=seed,
                            lookups=(2, 3, 4, 5))
    trained, untrained, shuffled = (result["rows"][k] for k in
                                    ("trained", "untrained (control)", "shuffled labels (control)"))
    assert trained[-2] < result["lookup"][4] < result["lookup"][3]  # measured 0.027 against 0.035 (20k sequences)
    assert result["lookup"][5] < trained[-2]                         # … and the last 5 tokens still do better
    assert trained[-2] < 0.5 * untrained[-2] and trained[-1] < 0.5 * untrained[-1]
    for k in (-2, -1):  # the untrained network: between the lookups of its last 2 and last 3 tokens
        assert result["lookup"][3] < untrained[k] < result["lookup"][2]
    assert trained[-1] <= trained[1:-1].min() + 1e-9  # concatenated is at least as good as any one block
    assert np.all(np.diff(trained[:-1]) < 0.003)  # and the error falls with every block (0.027 → 0.026 at the last)
    mean_belief = B.simplex_rmse(np.broadcast_to(result["mean_belief"], result["true"].shape), result["true"])
    np.testing.assert_allclose(shuffled, mean_belief, rtol=0.03)  # the shuffled control is the mean belief
    np.testing.assert_allclose(trained[0], untrained[0], rtol=1e-6)  # the embedding: 30 points either way
    assert BT.outside_simplex(result["probed"]["trained, all layers"], 0.01) < 0.05


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_inside_the_corner_the_probes_resolve_what_lookups_of_four_and_five_tokens_do(checkpoint, seed):
    """The zoom's claim: the copies inside state 0's corner are read out, about as well as the lookups the text names."""
    model, _ = checkpoint
    result = BT.probe_study(T, model, BT.make_transformer(RECIPE).eval(), RECIPE.context, seed=seed,
                            lookups=(2, 3, 4, 5))
    r2 = BT.corner_r_squared(result)
    all_layers, last = r2["probe, trained, all layers"], r2["probe, trained, last block"]
    assert all_layers > 0.95 and last > 0.88           # measured 0.98 and 0.92 over seeds 1–4
    assert abs(all_layers - r2["lookup of the last 5 tokens"]) < 0.06  # "about as much as … the last 5 tokens"
    assert abs(last - r2["lookup of the last 4 tokens"]) < 0.1          # "… the last block about as much as the last 4"
    assert r2["lookup of the last 3 tokens"] < last < all_layers
    assert r2["lookup of the last 2 tokens"] < 0 and r2["probe, untrained, last block"] < 0  # worse than the mean


def test_lookup_of_every_token_is_exact_and_of_one_is_the_mean_per_token():
    tokens, _ = B.sample_sequences(T, 300, 4, np.random.default_rng(5))
    beliefs = B.filter_beliefs(tokens, T)
    np.testing.assert_allclose(BT.lookup_beliefs(tokens, beliefs, tokens, 4), beliefs, atol=1e-12)
    first = BT.lookup_beliefs(tokens, beliefs, tokens[:5], 1)
    for a in range(3):  # keyed on the last token only, at every position
        picked = tokens[:5] == a
        np.testing.assert_allclose(first[picked], np.broadcast_to(beliefs[tokens == a].mean(0), (picked.sum(), 3)))


def test_moving_along_the_probe_moves_the_prediction_and_a_random_move_does_not(checkpoint, study):
    model, _ = checkpoint
    result = BT.causal_test(model, T, study["probes"], RECIPE.context, n_pairs=500)
    assert result["before"] > 0.5  # the lesson: "more than tenfold after block 1, a hundredfold after blocks 2–4"
    assert result["probe move"][0] < result["before"] / 10 and np.all(result["probe move"][1:] < result["before"] / 100)
    assert np.all(result["random move"] > 0.4 * result["before"])  # "stays above 40% of where it started"


def test_the_lesson_study_and_its_figures(study):
    assert study["true"].shape == (5000, 3)
    assert all(p.shape == (5000, 3) for p in study["probed"].values())
    assert len(study["probes"]) == RECIPE.n_layers + 1
    assert B.simplex_rmse(study["probed"]["trained, all layers"], study["true"]) == pytest.approx(
        study["rows"]["trained"][-1])
    assert B.simplex_rmse(study["probed"]["trained, last block"], study["true"]) == pytest.approx(
        study["rows"]["trained"][-2])
    hero = BT.plot_true_vs_probed(study)
    assert hero.get_size_inches()[0] >= 12 and hero.dpi >= 100
    tokens, _ = B.sample_sequences(T, 50, RECIPE.context + 1, np.random.default_rng(0))
    causal = {"before": 1.0, "probe move": np.full(4, 0.01), "random move": np.full(4, 0.7), "blocks": np.arange(1, 5)}
    for fig in (hero, BT.plot_rmse_per_layer(study), BT.plot_corner_zoom(study), BT.plot_causal_test(causal),
                BT.plot_loss_per_position({"a": np.ones(10)}, BT.optimal_loss_per_position(T, 10),
                                          BT.filter_loss_per_position(T, tokens))):
        fig.canvas.draw()
        plt.close(fig)


# ---------------------------------------------------------------- the explorer

def test_walk_follows_the_typed_tokens_and_caps_at_the_context(checkpoint, study):
    model, _ = checkpoint
    walk = BT.transformer_walk(30, "0012 x 2" * 3, 4, T, model, study["probes"], RECIPE.context)
    assert len(walk["tokens"]) == RECIPE.context and walk["true"].shape == walk["probed"].shape == (11, 3)
    np.testing.assert_allclose(walk["true"][1:], B.filter_beliefs(walk["tokens"], T)[0])
    assert B.simplex_rmse(walk["probed"][1:], walk["true"][1:]) < 0.1
    empty = BT.transformer_walk(5, "", 2, T, model, study["probes"], RECIPE.context)
    assert empty["true"].shape == (1, 3) and np.allclose(empty["net_next"], 1 / 3)


def test_explorer_updates_fast_and_switches_layers(checkpoint, study):
    model, _ = checkpoint
    explorer = Explorer(functools.partial(BT.transformer_walk, transitions=T, model=model, probes=study["probes"],
                                          context=RECIPE.context),
                        functools.partial(BT.draw_transformer_walk, background=study["true"]),
                        {"step": W.IntSlider(value=10, min=0, max=10), "tokens": W.Text(value="0001112220"),
                         "layer": W.Dropdown(options=[0, 1, 2, 3, 4], value=4)}, figsize=(8.5, 3.6), ncols=2)
    assert explorer.fig.axes[0].get_legend().get_texts()[1].get_text() == "transformer,\nprobed"
    before = explorer.fig.axes[0].lines[-1].get_xydata().copy()
    explorer.controls["layer"].value = 0
    assert "embedding" in explorer.fig.axes[0].texts[-1].get_text()
    assert not np.allclose(before, explorer.fig.axes[0].lines[-1].get_xydata())
    start = time.perf_counter()
    for step in range(10):
        explorer.controls["step"].value = step
    assert (time.perf_counter() - start) / 10 < 0.25  # budget 0.1 s; generous for a loaded test machine


# ---------------------------------------------------------------- checks: stubs and the reference

def _stub(*_args, **_kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("check", [checks.check_optimal_loss_per_position, checks.check_collect_residual_stream,
                                   checks.check_probe_rmse_per_layer])
def test_check_reports_a_stub_as_not_attempted(check, capsys):
    assert check(_stub) == False  # noqa: E712 — a CheckResult compares with bools
    assert "not attempted" in capsys.readouterr().out


@pytest.mark.parametrize("check, reference", [
    (checks.check_optimal_loss_per_position, BT.optimal_loss_per_position),
    (checks.check_collect_residual_stream, lambda model, tokens: BT.residual_stream(model, tokens.numpy())),
    (checks.check_probe_rmse_per_layer, BT.probe_rmse_per_layer)])
def test_check_accepts_the_reference(check, reference):
    assert check(reference)


def test_probe_check_names_the_missing_concatenated_entry():
    def per_layer_only(fit_acts, fit_beliefs, test_acts, test_beliefs):
        return BT.probe_rmse_per_layer(fit_acts, fit_beliefs, test_acts, test_beliefs)[:-1]
    with pytest.raises(CheckFailed) as failure:
        checks.check_probe_rmse_per_layer(per_layer_only)
    assert "misses the last one: the probe on all layers concatenated" in str(failure.value)
