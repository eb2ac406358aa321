"""Lesson 06's machinery: a small causal transformer trained on Mess3, its residual stream, and a linear probe per layer.

The beliefs topic's second module (lesson 05's is the package itself): it reuses ``simplex_edu.beliefs`` for the
process, the exact filter, the probe and the triangle, and adds what a transformer needs. It reproduces the headline
result of Shai et al. (2024), "Transformers represent belief state geometry in their residual stream": a transformer
trained only on next-token prediction holds the belief states, fractal and all, linearly in its residual stream.

Training to good quality takes minutes on a laptop CPU, longer than a lesson can wait, so a checkpoint ships in
``simplex_edu/data/`` beside the recipe that made it (:func:`make_checkpoint` regenerates both).
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from simplex_edu import beliefs as B
from simplex_edu.nn import TinyTransformer, count_parameters
from simplex_edu.plots import COLORS, new_figure
from simplex_edu.training import History, TrainConfig, seed_everything, train

CHECKPOINT_NAME = "mess3_transformer"


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that decides the checkpoint: the process, the network's sizes and the training run."""

    x: float = 0.05
    alpha: float = 0.85
    context: int = 10           # tokens the network reads; it predicts the token after each of them
    d_model: int = 32
    n_layers: int = 4
    n_heads: int = 4            # ALiBi slopes 1/4 … 1/256: some heads look at the last few tokens, some far back
    mlp_ratio: int = 4
    steps: int = 4000
    batch_size: int = 64
    lr: float = 3e-3
    lr_drop_at: float = 0.8
    seed: int = 0

    def transitions(self) -> np.ndarray:
        """The Mess3 tensor this recipe trains on."""
        return B.mess3(self.x, self.alpha)

    def train_config(self, steps: int | None = None, progress: bool = True) -> TrainConfig:
        """The training loop's configuration; ``steps`` shortens the run (the first steps are the same)."""
        return TrainConfig(steps=self.steps if steps is None else steps, lr=self.lr, batch_size=self.batch_size,
                           seed=self.seed, lr_drop_at=self.lr_drop_at if steps is None else None,
                           progress=progress, description="transformer on Mess3")


# ---------------------------------------------------------------- the network and its training

def make_transformer(recipe: Recipe, seed: int | None = None) -> TinyTransformer:
    """A fresh transformer of the recipe's sizes; the same seed gives the same initial weights."""
    seed_everything(recipe.seed if seed is None else seed)
    return TinyTransformer(B.N_TOKENS, recipe.d_model, recipe.n_layers, recipe.n_heads, mlp_ratio=recipe.mlp_ratio)


def train_transformer(recipe: Recipe, steps: int | None = None,
                      progress: bool = True) -> tuple[TinyTransformer, History]:
    """Train on next-token prediction only, with the package's own loop; ``steps`` cuts the run short."""
    model = make_transformer(recipe)
    history = train(model, B.next_token_batch(recipe.transitions(), recipe.context), B.next_token_loss,
                    recipe.train_config(steps, progress))
    return model, history


def _data_file(suffix: str, folder: Path | None) -> Path:
    if folder is not None:
        return Path(folder) / f"{CHECKPOINT_NAME}{suffix}"
    return Path(str(resources.files("simplex_edu") / "data" / f"{CHECKPOINT_NAME}{suffix}"))


def make_checkpoint(folder: Path | None = None, recipe: Recipe = Recipe(), progress: bool = True) -> dict:
    """Train the recipe and write the weights (``.pt``) and the record (``.json``: recipe, losses, time) to ``folder``.

    Without a folder it overwrites the copy shipped in ``simplex_edu/data/``. Returns the record.
    """
    model, history = train_transformer(recipe, progress=progress)
    record = {"recipe": dataclasses.asdict(recipe), "parameters": count_parameters(model),
              "early_losses": [round(loss, 6) for loss in history.losses[:20]],
              "final_loss": round(history.final_loss, 6), "train_seconds": round(history.seconds, 1),
              "torch": torch.__version__, "made_by": "simplex_edu.beliefs.transformer.make_checkpoint"}
    weights = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    torch.save(weights, _data_file(".pt", folder))
    _data_file(".json", folder).write_text(json.dumps(record, indent=1) + "\n")
    return record


def load_checkpoint(folder: Path | None = None) -> tuple[TinyTransformer, dict]:
    """The trained transformer (in eval mode) and its record, from ``folder`` or the copy shipped with the package."""
    record = json.loads(_data_file(".json", folder).read_text())
    model = make_transformer(Recipe(**record["recipe"]))
    model.load_state_dict(torch.load(_data_file(".pt", folder), weights_only=True))
    return model.eval(), record


# ---------------------------------------------------------------- reading the network

@torch.no_grad()
def residual_stream(model: TinyTransformer, tokens: np.ndarray) -> np.ndarray:
    """The residual stream at every layer, shape (n_layers + 1, n, L, d_model): the embeddings, then after each block."""
    _, residual = model(torch.as_tensor(np.atleast_2d(tokens)), return_residual=True)
    return torch.stack(residual).numpy().astype(np.float64)


@torch.no_grad()
def loss_per_position(model: torch.nn.Module, tokens: np.ndarray) -> np.ndarray:
    """Mean cross-entropy in bits of predicting token k + 1 after seeing k tokens, for k = 1 … L − 1 (shape (L − 1,))."""
    tokens = torch.as_tensor(np.atleast_2d(tokens))
    log_probs = model(tokens[:, :-1]).log_softmax(-1)
    picked = log_probs.gather(-1, tokens[:, 1:, None])[..., 0]
    return (-picked.mean(0) / np.log(2)).double().numpy()


def filter_loss_per_position(transitions: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """The exact filter's mean loss in bits on these sequences, after k = 1 … L − 1 tokens: a paired baseline."""
    probs = B.next_token_probs(B.filter_beliefs(tokens[:, :-1], transitions), transitions)
    picked = np.take_along_axis(probs, tokens[:, 1:, None], axis=-1)[..., 0]
    return -np.log2(picked).mean(axis=0)


def optimal_loss_per_position(transitions: np.ndarray, length: int) -> np.ndarray:
    """The best possible loss, H(next token | first k tokens) in bits for k = 1 … length, by enumerating every prefix.

    Each prefix's unnormalised forward vector sums to the prefix's probability; normalised it is the belief, whose
    next-token distribution's entropy is what the exact filter pays at that prefix.
    """
    n_states = transitions.shape[1]
    forward = B.stationary_distribution(transitions)[None]
    entropies = []
    for _ in range(length):
        forward = np.einsum("pi,aij->paj", forward, transitions).reshape(-1, n_states)  # every prefix, one longer
        prefix_prob = forward.sum(axis=1)
        probs = B.next_token_probs(forward / prefix_prob[:, None], transitions)
        entropies.append(float(-np.sum(prefix_prob * np.sum(probs * np.log2(probs), axis=1))))
    return np.array(entropies)


# ---------------------------------------------------------------- probing, per layer, against controls

def layer_names(n_layers: int) -> list[str]:
    """Row labels for the residual stream's n_layers + 1 places, then the places concatenated."""
    return ["embedding"] + [f"after block {i}" for i in range(1, n_layers + 1)] + ["all layers concatenated"]


def probe_rmse_per_layer(fit_acts: np.ndarray, fit_beliefs: np.ndarray, test_acts: np.ndarray,
                         test_beliefs: np.ndarray) -> np.ndarray:
    """Held-out RMSE in the simplex of a least-squares probe at each layer, then on all layers concatenated.

    Activations have shape (layers, n, L, d), beliefs (n, L, S); each probe is fitted on the fit set and scored on
    the test set. Returns shape (layers + 1,).
    """
    def flat(acts: np.ndarray) -> np.ndarray:
        return acts.reshape(-1, acts.shape[-1])
    concatenated = [np.concatenate(list(acts), axis=-1) for acts in (fit_acts, test_acts)]
    pairs = list(zip(fit_acts, test_acts)) + [tuple(concatenated)]
    fit_y, test_y = fit_beliefs.reshape(-1, fit_beliefs.shape[-1]), test_beliefs.reshape(-1, test_beliefs.shape[-1])
    return np.array([B.simplex_rmse(B.apply_probe(flat(test), B.fit_linear_probe(flat(fit), fit_y)), test_y)
                     for fit, test in pairs])


def probe_study(transitions: np.ndarray, trained: TinyTransformer, untrained: TinyTransformer, context: int,
                n_fit: int = 1000, n_test: int = 500, seed: int = 1) -> dict:
    """Probe held-out beliefs from every layer of the trained network and of two controls.

    The controls: the same architecture before training, and the trained network with the fit set's beliefs
    shuffled across contexts. Returns the RMSE rows (per layer, then concatenated), the held-out true beliefs and
    tokens, the concatenated probe's predictions, and one probe's weights per layer for the explorer.
    """
    rng = np.random.default_rng(seed)
    fit_tokens, _ = B.sample_sequences(transitions, n_fit, context, rng)
    test_tokens, _ = B.sample_sequences(transitions, n_test, context, rng)
    fit_beliefs, test_beliefs = B.filter_beliefs(fit_tokens, transitions), B.filter_beliefs(test_tokens, transitions)
    shuffled = fit_beliefs.reshape(-1, 3)[rng.permutation(fit_beliefs[..., 0].size)].reshape(fit_beliefs.shape)
    trained_fit, trained_test = residual_stream(trained, fit_tokens), residual_stream(trained, test_tokens)
    untrained_fit, untrained_test = residual_stream(untrained, fit_tokens), residual_stream(untrained, test_tokens)
    rows = {"trained": probe_rmse_per_layer(trained_fit, fit_beliefs, trained_test, test_beliefs),
            "untrained (control)": probe_rmse_per_layer(untrained_fit, fit_beliefs, untrained_test, test_beliefs),
            "shuffled labels (control)": probe_rmse_per_layer(trained_fit, shuffled, trained_test, test_beliefs)}
    flat_fit, flat_test = (np.concatenate(list(a), -1).reshape(-1, a.shape[0] * a.shape[-1])
                           for a in (trained_fit, trained_test))
    y = fit_beliefs.reshape(-1, 3)
    probes = [B.fit_linear_probe(layer.reshape(-1, layer.shape[-1]), y) for layer in trained_fit]
    return {"rows": rows, "names": layer_names(len(trained_fit) - 1), "tokens": test_tokens,
            "true": test_beliefs.reshape(-1, 3),
            "probed": B.apply_probe(flat_test, B.fit_linear_probe(flat_fit, y)), "probes": probes}


# ---------------------------------------------------------------- figures

def plot_loss_per_position(losses: dict[str, np.ndarray], optimum: np.ndarray) -> Figure:
    """Loss after seeing k tokens for each network, against the exact filter's optimum and the no-memory loss."""
    fig, ax = new_figure(1, 1, 6.4, 3.6)
    positions = np.arange(1, len(optimum) + 1)
    ax.plot(positions, optimum, "o-", color=COLORS["exact"], lw=2, label="exact filter (the optimum)")
    styles = iter([(COLORS["baseline"], ":"), (COLORS["amortized"], "--"), (COLORS["amortized"], "-")])
    for name, loss in losses.items():
        color, style = next(styles)
        ax.plot(positions, loss, style, marker=".", color=color, label=name)
    ax.axhline(np.log2(3), color=COLORS["baseline"], lw=1, ls="-.", label="no memory (log₂ 3)")
    ax.set_xlabel("tokens seen (context position)")
    ax.set_ylabel("next-token loss (bits)")
    ax.set_xticks(positions)
    ax.legend(fontsize=8)
    return fig


def plot_rmse_per_layer(result: dict) -> Figure:
    """Held-out probe RMSE at each layer and concatenated, trained network beside the two controls."""
    fig, ax = new_figure(1, 1, 8, 3.6)
    places = np.arange(len(result["names"]))
    colors = [COLORS["amortized"], COLORS["baseline"], COLORS["unamortized"], COLORS["accent"]]
    width = 0.8 / len(result["rows"])
    for k, ((name, rmse), color) in enumerate(zip(result["rows"].items(), colors)):
        ax.bar(places + (k - (len(result["rows"]) - 1) / 2) * width, rmse, width, color=color, label=name)
    ax.set_xticks(places, [n.replace(" concatenated", "\nconcatenated") for n in result["names"]], fontsize=8)
    ax.set_yscale("log")
    ax.set_yticks([0.05, 0.1, 0.2, 0.5], ["0.05", "0.1", "0.2", "0.5"])
    ax.minorticks_off()
    ax.set_ylabel("held-out RMSE in the simplex")
    ax.legend(fontsize=8, ncols=len(result["rows"]), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return fig


def plot_true_vs_probed(result: dict) -> Figure:
    """The lesson's figure: exact beliefs and the beliefs probed from the residual stream, side by side, large."""
    fig, axes = new_figure(1, 2, 12, 6, dpi=100)
    true = result["true"]
    B.scatter_beliefs(axes[0], true, true, f"exact beliefs (forward algorithm), {len(true):,} held-out contexts")
    rmse = result["rows"]["trained"][-1]
    B.scatter_beliefs(axes[1], result["probed"], true,
                      f"linear probe on the transformer's residual stream (all layers), RMSE {rmse:.3f}")
    for ax in axes:
        for collection in ax.collections:
            collection.set_sizes([4])
    return fig


# ---------------------------------------------------------------- the explorer

@torch.no_grad()
def transformer_walk(step: int, tokens: str, layer: int, transitions: np.ndarray, model: TinyTransformer,
                     probes: list[np.ndarray], context: int) -> dict:
    """What the explorer shows after the first ``step`` typed tokens (at most ``context``), probed at ``layer``.

    Position 0 is the prior, before any token, for both paths: the transformer has no residual stream there.
    """
    seq = B.parse_tokens(tokens)[:max(0, min(step, context))]
    prior = B.stationary_distribution(transitions)
    if len(seq):
        logits, residual = model(torch.as_tensor(seq[None]), return_residual=True)
        stream = residual[layer][0].double().numpy()
        true = np.vstack([prior, B.filter_beliefs(seq, transitions)[0]])
        probed = np.vstack([prior, B.apply_probe(stream, probes[layer])])
        net_next = logits[0, -1].softmax(-1).double().numpy()
    else:
        true = probed = prior[None]
        net_next = B.next_token_probs(prior, transitions)
    return {"tokens": seq, "true": true, "probed": probed, "layer": layer,
            "true_next": B.next_token_probs(true[-1], transitions), "net_next": net_next}


def draw_transformer_walk(fig: Figure, view: dict, background: np.ndarray | None = None) -> None:
    """Draw :func:`transformer_walk`'s result with lesson 05's drawing, the network's legend entry renamed."""
    first = not fig.axes[0].lines
    B.draw_belief_walk(fig, view, background)
    if first:
        fig.axes[0].get_legend().get_texts()[1].set_text("transformer, probed")
    label = "embedding" if view["layer"] == 0 else f"after block {view['layer']}"
    fig.axes[0].texts[-1].set_text(fig.axes[0].texts[-1].get_text() + f"\nprobe at: {label}")
