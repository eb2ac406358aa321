"""Lesson 06's mistake catalogue: plausible wrong answers each check must reject with a message naming the
mistake, and right answers written differently that it must accept."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from mistakes import Alternative, Mistake
from simplex_edu import beliefs as B
from simplex_edu.checks import CheckFailed
from simplex_edu.checks import beliefs_transformer as checks


# ---------------------------------------------------------------- Exercise 1.1: the optimum per position

def _optimum(transitions, length, *, log=np.log2, weighted=True, shift=False, average_first=False):
    """The enumeration, with switches for each slip (all off: a right answer)."""
    n_states = transitions.shape[1]
    forward = B.stationary_distribution(transitions)[None]
    out = []
    for step in range(length):
        if shift and step == 0:  # takes the entropy before updating: starts with the prior's prediction
            probs = B.next_token_probs(forward, transitions)
            out.append(float(-np.sum(probs * log(probs))))
            continue
        forward = np.einsum("pi,aij->paj", forward, transitions).reshape(-1, n_states)
        prefix = forward.sum(axis=1)
        probs = B.next_token_probs(forward / prefix[:, None], transitions)
        if average_first:
            mean = prefix @ probs
            out.append(float(-np.sum(mean * log(mean))))
        elif weighted:
            out.append(float(-np.sum(prefix * np.sum(probs * log(probs), axis=1))))
        else:
            out.append(float(np.mean(-np.sum(probs * log(probs), axis=1))))
    return np.array(out)


def _optimum_by_product(transitions, length):
    """Right, written out: every prefix from itertools.product, its probability and belief by the filter."""
    prior = B.stationary_distribution(transitions)
    result = []
    for k in range(1, length + 1):
        total = 0.0
        for prefix in itertools.product(range(transitions.shape[0]), repeat=k):
            vector = prior
            for token in prefix:
                vector = vector @ transitions[token]
            probs = B.next_token_probs(vector / vector.sum(), transitions)
            total += vector.sum() * -np.sum(probs * np.log2(probs))
        result.append(total)
    return result


# ---------------------------------------------------------------- Exercise 2.1: the residual stream by hooks

def _stream(model, tokens, *, modules=None, take_input=False, remove=True, grad=False):
    """Forward hooks with switches for each slip (defaults: a right answer)."""
    seen = []
    targets = modules(model) if modules else [model.embed, *model.blocks]
    handles = [m.register_forward_hook(lambda _m, inputs, output: seen.append(inputs[0] if take_input else output))
               for m in targets]
    with torch.set_grad_enabled(grad):
        model(tokens)
    if remove:
        for handle in handles:
            handle.remove()
    return torch.stack(seen).detach().double().numpy()


def _stream_by_hand(model, tokens):
    """Right, without hooks: the transformer's own residual-stream output."""
    with torch.no_grad():
        _, residual = model(tokens, return_residual=True)
    return np.stack([r.detach().numpy() for r in residual])


# ---------------------------------------------------------------- Exercise 3.1: probe RMSE per layer

def _rmse_per_layer(fit_acts, fit_y, test_acts, test_y, *, held_out=True, bias=True, metric=B.simplex_rmse,
                    concat="last", include_concat=True):
    fy, ty = fit_y.reshape(-1, 3), test_y.reshape(-1, 3)
    pairs = list(zip(fit_acts, test_acts))
    if include_concat:
        if concat == "last":
            pairs.append((np.concatenate(list(fit_acts), -1), np.concatenate(list(test_acts), -1)))
        else:  # reshapes (layers, n, L, d) straight to rows of layers·d numbers
            pairs.append(tuple(a.reshape(-1, a.shape[0] * a.shape[-1]) for a in (fit_acts, test_acts)))
    out = []
    for fit, test in pairs:
        fit, test = fit.reshape(-1, fit.shape[-1]), test.reshape(-1, test.shape[-1])
        if not held_out:
            test, target = fit, fy
        else:
            target = ty
        if bias:
            predicted = B.apply_probe(test, B.fit_linear_probe(fit, fy))
        else:
            predicted = test @ np.linalg.lstsq(fit, fy, rcond=None)[0]
        out.append(metric(predicted, target))
    return np.array(out)


def _rmse_by_pinv(fit_acts, fit_y, test_acts, test_y):
    """Right, written differently: the normal equations through a pseudo-inverse, torch-free, list output."""
    def score(fit, test):
        fit = np.c_[fit.reshape(-1, fit.shape[-1]), np.ones(fit[..., 0].size)]
        test = np.c_[test.reshape(-1, test.shape[-1]), np.ones(test[..., 0].size)]
        weights = np.linalg.pinv(fit) @ fit_y.reshape(-1, 3)
        return np.sqrt(((test @ weights - test_y.reshape(-1, 3)) ** 2).sum(-1).mean())
    layers = [score(f, t) for f, t in zip(fit_acts, test_acts)]
    return np.array(layers + [score(np.concatenate(list(fit_acts), -1), np.concatenate(list(test_acts), -1))])


def _mean_distance(predicted, true):
    return float(np.mean(np.linalg.norm(predicted - true, axis=-1)))


def _plane_rmse(predicted, true):
    return B.simplex_rmse(B.simplex_to_xy(predicted), B.simplex_to_xy(true))


MISTAKES = [
    Mistake("check_optimal_loss_per_position", "uses the natural log (nats, not bits)",
            lambda t, n: _optimum(t, n, log=np.log), "nats"),
    Mistake("check_optimal_loss_per_position", "takes the entropy before updating, so starts at the prior",
            lambda t, n: _optimum(t, n, shift=True), "shifted by one"),
    Mistake("check_optimal_loss_per_position", "averages over prefixes without weighting by their probability",
            lambda t, n: _optimum(t, n, weighted=False), "weight each prefix"),
    Mistake("check_optimal_loss_per_position", "takes the entropy of the average prediction (ignores the belief)",
            lambda t, n: _optimum(t, n, average_first=True), "AVERAGE next-token distribution"),
    Mistake("check_collect_residual_stream", "hooks only the blocks, forgetting the embedding",
            lambda m, x: _stream(m, x, modules=lambda m: list(m.blocks)), "embedding is missing"),
    Mistake("check_collect_residual_stream", "hooks each block's MLP (what the block adds, not the stream)",
            lambda m, x: _stream(m, x, modules=lambda m: [m.embed] + [b.mlp for b in m.blocks]), "MLP output"),
    Mistake("check_collect_residual_stream", "records each block's input instead of its output",
            lambda m, x: _stream(m, x, modules=lambda m: list(m.blocks), take_input=True), "its input"),
    Mistake("check_collect_residual_stream", "never removes the hooks",
            lambda m, x: _stream(m, x, remove=False), "still registered"),
    Mistake("check_probe_rmse_per_layer", "scores each probe on its own fit set",
            lambda *a: _rmse_per_layer(*a, held_out=False), "held-out"),
    Mistake("check_probe_rmse_per_layer", "fits the probe without a bias",
            lambda *a: _rmse_per_layer(*a, bias=False), "no bias"),
    Mistake("check_probe_rmse_per_layer", "reports the mean distance, not the root mean square",
            lambda *a: _rmse_per_layer(*a, metric=_mean_distance), "mean distances"),
    Mistake("check_probe_rmse_per_layer", "measures the error in the drawn triangle's plane",
            lambda *a: _rmse_per_layer(*a, metric=_plane_rmse), "simplex_to_xy"),
    Mistake("check_probe_rmse_per_layer", "concatenates layers by a plain reshape, mixing contexts",
            lambda *a: _rmse_per_layer(*a, concat="reshape"), "mixes different"),
    Mistake("check_probe_rmse_per_layer", "forgets the concatenated entry",
            lambda *a: _rmse_per_layer(*a, include_concat=False), "shape"),
]

ALTERNATIVES = [
    Alternative("check_optimal_loss_per_position", "loops over itertools.product prefixes, returns an array",
                lambda t, n: np.array(_optimum_by_product(t, n))),
    Alternative("check_collect_residual_stream", "runs with gradients on and detaches afterwards",
                lambda m, x: _stream(m, x, grad=True)),
    Alternative("check_collect_residual_stream", "no hooks: forward(return_residual=True)", _stream_by_hand),
    Alternative("check_probe_rmse_per_layer", "pseudo-inverse normal equations", _rmse_by_pinv),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: f"{m.check}: {m.description}")
def test_check_names_the_mistake(mistake):
    with pytest.raises(CheckFailed) as failure:
        getattr(checks, mistake.check)(mistake.answer)
    assert mistake.message in str(failure.value)


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda a: f"{a.check}: {a.description}")
def test_check_accepts_a_right_answer_written_differently(alternative):
    assert getattr(checks, alternative.check)(alternative.answer)


def test_every_check_has_three_mistakes_and_an_alternative():
    own = [n for n in dir(checks) if n.startswith("check_") and getattr(checks, n).__module__ == checks.__name__]
    assert len(own) >= 3
    for name in own:
        assert sum(m.check == name for m in MISTAKES) >= 3, name
        assert any(a.check == name for a in ALTERNATIVES), name
