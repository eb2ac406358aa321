"""Lesson 08's machinery: RRXOR, whose beliefs hold more than the next token needs, in lesson 06's transformer.

The beliefs topic's third module: it reuses ``simplex_edu.beliefs`` (the process, filter and probe) and
``simplex_edu.beliefs.transformer`` (the network, its checkpoint, the probes per layer and the lookup baselines).
RRXOR is the second result of Shai et al. (2024): many of its beliefs predict the same next token, so the belief
geometry is not a picture of the next-token distribution, and in their transformer it is spread across layers.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from simplex_edu import beliefs as B
from simplex_edu.beliefs import transformer as BT
from simplex_edu.plots import COLORS, describe, new_figure

# Lesson 06's architecture and training loop on RRXOR, trained longer: the optimum mean loss over the ten
# positions is 0.578 nats, which 8,000 steps reach.
RRXOR_RECIPE = BT.Recipe(process="rrxor", steps=8000)
LOOKUPS = (3, 4, 5, 6)  # RRXOR's phase takes a few tokens to pin down; the lesson shows where lookups catch up


def predictions_per_belief(transitions: np.ndarray) -> dict:
    """The mixed states, their P(next token = 1), and how many distinct predictions they share among them."""
    states = B.mixed_states(transitions)
    p_one = B.next_token_probs(states, transitions)[:, 1]
    return {"states": states, "p_one": p_one, "n_predictions": len(np.unique(np.round(p_one, 9)))}


@torch.no_grad()
def output_probabilities(model: torch.nn.Module, tokens: np.ndarray) -> np.ndarray:
    """The network's next-token probabilities (n, L, tokens) after each token: all its behaviour shows."""
    return model(torch.as_tensor(np.atleast_2d(tokens))).softmax(-1).double().numpy()


def best_guess_from_prediction(fit_predictions: np.ndarray, fit_beliefs: np.ndarray,
                               test_predictions: np.ndarray) -> np.ndarray:
    """The mean fit-set belief among contexts with the same exact next-token prediction (rounded to 6 places).

    The best any readout of the next-token prediction alone can do, however non-linear: a floor for output probes.
    Predictions (n, tokens), beliefs (n, S); a prediction never seen in the fit set gets the mean belief.
    """
    keys = {tuple(row): index for index, row in enumerate(np.unique(np.round(fit_predictions, 6), axis=0))}
    fit_keys = np.array([keys[tuple(row)] for row in np.round(fit_predictions, 6)])
    means = np.stack([fit_beliefs[fit_keys == k].mean(axis=0) for k in range(len(keys))])
    test_keys = [keys.get(tuple(row), -1) for row in np.round(test_predictions, 6)]
    return np.array([means[k] if k >= 0 else fit_beliefs.mean(axis=0) for k in test_keys])


def rrxor_study(model: BT.PositionTransformer, untrained: BT.PositionTransformer, n_fit: int = 1000,
                n_test: int = 500, seed: int = 1) -> dict:
    """Lesson 06's probe study on RRXOR, plus two readouts of behaviour alone.

    Adds ``readouts`` (RMSE of a linear probe on the network's output probabilities, and of the best guess from the
    exact next-token prediction), their points in ``probed`` beside every layer's probe and the lookups, and the
    output probe's weights (``output_probe``) for the explorer.
    """
    transitions = RRXOR_RECIPE.transitions()
    study = BT.probe_study(transitions, model, untrained, RRXOR_RECIPE.context, n_fit=n_fit, n_test=n_test,
                           seed=seed, lookups=LOOKUPS)
    fit_out, test_out = (output_probabilities(model, tokens).reshape(-1, len(transitions))
                         for tokens in (study["fit_tokens"], study["tokens"]))
    fit_exact, test_exact = (B.next_token_probs(beliefs, transitions)
                             for beliefs in (study["fit_beliefs"], study["true"]))
    study["output_probe"] = B.fit_linear_probe(fit_out, study["fit_beliefs"])
    study["probed"]["trained, output probabilities"] = B.apply_probe(test_out, study["output_probe"])
    study["probed"]["best guess from the exact prediction"] = best_guess_from_prediction(
        fit_exact, study["fit_beliefs"], test_exact)
    study["readouts"] = {"linear probe on the output probabilities":
                         B.simplex_rmse(study["probed"]["trained, output probabilities"], study["true"]),
                         "best guess from the exact next-token prediction":
                         B.simplex_rmse(study["probed"]["best guess from the exact prediction"], study["true"])}
    return study


def measure_rrxor(n_sequences: int = 20000, seed: int = 11, write: bool = True) -> dict:
    """The shipped RRXOR checkpoint's numbers on fresh sequences, with the readouts of behaviour alone.

    Extends :func:`simplex_edu.beliefs.transformer.measure_checkpoint`'s record (loss excess per position, probes,
    lookups, causal test) and writes it to ``rrxor_transformer.measured.json``.
    """
    measured = BT.measure_checkpoint(n_sequences, seed, write=False, process="rrxor", lookups=LOOKUPS)
    model, _ = BT.load_checkpoint(process="rrxor")
    half = n_sequences // 4
    study = rrxor_study(model, BT.make_transformer(RRXOR_RECIPE).eval(), n_fit=half, n_test=half, seed=seed + 1)
    measured["readout_rmse"] = {name: round(rmse, 4) for name, rmse in study["readouts"].items()}
    measured["made_by"] = "simplex_edu.beliefs.beyond.measure_rrxor"
    if write:
        BT.write_measured(measured, "rrxor")
    return measured


# ---------------------------------------------------------------- figures

def belief_projection(beliefs: np.ndarray, n_directions: int = 3) -> np.ndarray:
    """The mean of a set of beliefs (n, S) and its principal directions: a (1 + n_directions, S) map to fewer axes.

    RRXOR's 36 beliefs span four dimensions; three principal directions hold 86% of their spread and keep all 36 apart.
    """
    mean = beliefs.mean(axis=0)
    directions = np.linalg.svd(beliefs - mean, full_matrices=False)[2][:n_directions]
    return np.vstack([mean, directions])


def project(points: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Points (n, S) along the directions of :func:`belief_projection`, shape (n, n_directions)."""
    return (points - projection[0]) @ projection[1:].T


def plot_beliefs_and_predictions(transitions: np.ndarray, state_names: tuple[str, ...] = B.RRXOR_STATES) -> Figure:
    """Every mixed state as a row of probabilities over the hidden states, grouped by the prediction it makes."""
    found = predictions_per_belief(transitions)
    order = np.lexsort((-found["states"][:, 0], found["p_one"].round(9)))
    states, p_one = found["states"][order], found["p_one"][order]
    fig, (left, right) = new_figure(1, 2, 6.4, 9.6, gridspec_kw={"width_ratios": [5, 1.3]})
    for ax, values, labels in ((left, states, [f"state {name}" for name in state_names]),
                               (right, p_one[:, None], ["P(next\ntoken = 1)"])):
        ax.imshow(values, cmap="Greys", vmin=0, vmax=1.6, aspect="auto", interpolation="nearest")
        for (row, column), value in np.ndenumerate(values):
            if value > 1e-9:
                ax.text(column, row, f"{value:.2f}".rstrip("0").rstrip(".") if value < 1 else "1", ha="center",
                        va="center", fontsize=8)
        ax.set_xticks(range(len(labels)), labels, fontsize=9)
        ax.xaxis.set_ticks_position("top")
        ax.set_yticks([])
        ax.grid(False)
        for edge in np.flatnonzero(np.diff(p_one.round(9))) + 0.5:  # a line between groups of equal prediction
            ax.axhline(edge, color=COLORS["exact"], lw=1.2)
    left.set_ylabel(f"the {len(states)} beliefs the filter can reach, grouped by their prediction")
    largest = np.max(np.unique(p_one.round(9), return_counts=True)[1])
    shared = p_one[np.argmax([np.isclose(p_one, value).sum() for value in p_one])]
    return describe(fig, f"A table of the {len(states)} beliefs of RRXOR's exact filter, one row each (probabilities of "
                    f"the hidden states {', '.join(state_names)}), beside the prediction P(next token = 1) each makes, "
                    f"grouped by prediction: only {found['n_predictions']} distinct predictions, and {largest} "
                    f"beliefs as different as 'certainly in state S' and 'certainly in state 0' all predict "
                    f"{shared:.2g}. The belief tells apart what the next token does not.")


def plot_probed_beliefs(result: dict, transitions: np.ndarray) -> Figure:
    """The lesson's figure: exact beliefs and five readouts, along two principal directions of the 36 beliefs."""
    fig, axes = new_figure(2, 3, 13, 8.4, dpi=100)
    true = result["true"]
    projection = belief_projection(B.mixed_states(transitions))[[0, 1, 3]]  # directions 1 and 3: 33 of 36 apart
    exact_xy = project(true, projection)
    colors = np.clip(0.45 + exact_xy @ np.array([[0.7, 0.0, -0.7], [0.0, 0.8, -0.4]]), 0, 0.9)
    names = ["trained, all layers", "trained, last block", "untrained, last block", "trained, output probabilities",
             "best guess from the exact prediction"]
    panels = [("exact beliefs (forward algorithm)", true)] + [(name, result["probed"][name]) for name in names]
    low, high = exact_xy.min(axis=0) - 0.15, exact_xy.max(axis=0) + 0.15
    for ax, (title, points) in zip(axes.flat, panels):
        xy = project(points, projection)
        ax.scatter(xy[:, 0], xy[:, 1], s=4, c=colors, linewidths=0, rasterized=True)
        score = "" if points is true else f"\nRMSE {B.simplex_rmse(points, true):.3f}"
        ax.set_title(("" if points is true or title.startswith("best") else "probe, ") + title + score, fontsize=10)
        ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), xticks=[], yticks=[], aspect="equal")
    axes[1, 0].set_xlabel("principal direction 1 of the beliefs")
    axes[1, 0].set_ylabel("principal direction 3")
    rmse = {name: B.simplex_rmse(result["probed"][name], true) for name in names}
    return describe(fig, "Six panels along two principal directions of the beliefs, each point coloured by where its "
                    "exact belief lies: the exact beliefs sit on a few dozen points; the probe on all layers gives "
                    f"each colour its own cloud around its point (RMSE {rmse[names[0]]:.3f}), the last block's probe smears them "
                    f"(RMSE {rmse[names[1]]:.3f}), and readouts of the output alone pile different beliefs together "
                    f"(RMSE {rmse[names[3]]:.3f} for a probe, {rmse[names[4]]:.3f} at best).")


# ---------------------------------------------------------------- the explorer

READOUTS = ("all layers", "last block", "output probabilities")  # the explorer's choices of what to read


def readout_view(bits: str, readout: str, model: BT.PositionTransformer, study: dict) -> dict:
    """What the explorer shows after the typed bits (the last ``context`` of them): the exact belief, the belief one
    readout of the network gives, and the next-bit prediction of each. Characters other than 0 and 1 are ignored."""
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {', '.join(READOUTS)}, not {readout!r}")
    transitions, context = RRXOR_RECIPE.transitions(), RRXOR_RECIPE.context
    typed = np.array([int(c) for c in bits if c in "01"], dtype=np.int64)
    ignored = sorted({c for c in bits if c not in "01" and not c.isspace()})
    seq = typed[-context:]
    prior = B.stationary_distribution(transitions)
    if len(seq) == 0:  # no residual stream before the first bit: both start from the stationary distribution
        true = probed = prior
        net_next = B.next_token_probs(prior, transitions)
    else:
        with np.errstate(invalid="ignore"):  # an impossible sequence gives 0/0: said below, in words
            path = B.filter_beliefs(seq, transitions)[0]
        if not np.isfinite(path).all():
            stop = int(np.flatnonzero(~np.isfinite(path).all(axis=1))[0]) + 1
            raise ValueError(f"RRXOR never emits '{''.join(map(str, seq[:stop]))}': however the bits are grouped in "
                             "threes, some third bit is not the XOR of the two before it; change a bit")
        true = path[-1]
        streams = BT.residual_stream(model, seq)[:, 0, -1]  # (layers, d_model) at the last bit
        net_next = output_probabilities(model, seq)[0, -1]
        features, weights = {"all layers": (streams.reshape(-1), study["all_layers_probe"]),
                             "last block": (streams[-1], study["probes"][-1]),
                             "output probabilities": (net_next, study["output_probe"])}[readout]
        probed = B.apply_probe(features[None], weights)[0]
    return {"bits": seq, "dropped": len(typed) - len(seq), "ignored": ignored, "readout": readout, "true": true,
            "probed": probed, "true_next": B.next_token_probs(true, transitions)[1], "net_next": float(net_next[1])}


def draw_readout(fig: Figure, view: dict) -> None:
    """Draw :func:`readout_view`: the exact belief's bars beside the readout's; the first call builds the bars."""
    ax = fig.axes[0]
    places = np.arange(len(B.RRXOR_STATES))
    if not ax.patches:
        ax.bar(places - 0.2, np.zeros(len(places)), 0.4, color=COLORS["exact"], label="exact belief (filter)")
        ax.bar(places + 0.2, np.zeros(len(places)), 0.4, color=COLORS["amortized"], hatch="//", edgecolor="white",
               label="read from the network")
        ax.set_xticks(places, [f"state {name}" for name in B.RRXOR_STATES])
        # Head room above 1 for the legend and the text, so a certain belief's bar never runs under them.
        ax.set(ylim=(-0.1, 1.5), yticks=[0, 0.5, 1], ylabel="P(hidden state | bits so far)")
        ax.axhline(0, color=COLORS["baseline"], lw=0.8)
        ax.legend(loc="upper right", fontsize=8)
        ax.text(0.02, 0.97, "", transform=ax.transAxes, ha="left", va="top", fontsize=9)
    for bar, height in zip(ax.patches, np.concatenate([view["true"], view["probed"]])):
        bar.set_height(height)
    typed = ("…" if view["dropped"] else "") + "".join(map(str, view["bits"]))
    notes = (f" (the network sees the last {len(view['bits'])})" if view["dropped"] else "") + (
        f" (ignored: {' '.join(view['ignored'][:6])})" if view["ignored"] else "")
    belief, probed = (", ".join(f"{p:.2f}" for p in view[key]) for key in ("true", "probed"))
    ax.texts[-1].set_text(f"after '{typed}'{notes}, read from: {view['readout']}\nP(next bit = 1): exact "
                          f"{view['true_next']:.2f}, network {view['net_next']:.2f}")
    describe(fig, f"Bars of the exact belief over the hidden states {', '.join(B.RRXOR_STATES)} after the bits "
                  f"'{typed}' ({belief}) beside the belief read from the network's {view['readout']} ({probed}); "
                  f"P(next bit = 1) is {view['true_next']:.2f} exactly and {view['net_next']:.2f} from the network. "
                  f"Read whether the readout's bars match the exact ones.")
