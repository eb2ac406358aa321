"""Lesson 06's machinery: a small causal transformer trained on Mess3, its residual stream, and a linear probe per layer.

The beliefs topic's second module (lesson 05's is the package itself): it reuses ``simplex_edu.beliefs`` for the
process, the exact filter, the probe and the triangle, and adds what a transformer needs. It reproduces the headline
result of Shai et al. (2024), "Transformers represent belief state geometry in their residual stream", with the
paper's sizes (learned positions, 4 layers, d_model 64, context 10), against a lookup of the last few tokens and
untrained and shuffled controls, and adds a causal test: moving the stream along the probe moves the prediction.

Training takes about ten minutes on one CPU core, longer than a lesson can wait, so a checkpoint ships in
``simplex_edu/data/`` beside the recipe that made it (:func:`make_checkpoint` regenerates both) and its measured
numbers on 20,000 fresh sequences (:func:`measure_checkpoint`).
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
from torch import nn

from simplex_edu.nn import TinyTransformer, count_parameters
from simplex_edu.plots import COLORS, describe, new_figure
from simplex_edu.training import History, TrainConfig, seed_everything, train

PROCESSES = ("mess3", "rrxor")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that decides the checkpoint: the process, the network's sizes and the training run."""

    process: str = "mess3"      # "mess3" (lesson 06) or "rrxor" (lesson 08); x and alpha are Mess3's parameters
    x: float = 0.05
    alpha: float = 0.85
    context: int = 10           # tokens the network reads; it predicts the token after each of them
    d_model: int = 64           # the paper's sizes: 4 layers, d_model 64, context 10, learned positions
    n_layers: int = 4
    n_heads: int = 4
    mlp_ratio: int = 4
    steps: int = 5000
    batch_size: int = 256
    lr: float = 1e-3
    lr_drop_at: float = 0.8
    seed: int = 0

    def __post_init__(self) -> None:
        if self.process not in PROCESSES:
            raise ValueError(f"process must be one of {', '.join(PROCESSES)}; got {self.process!r}")

    @property
    def name(self) -> str:
        """The checkpoint's file name stem in ``simplex_edu/data/``, e.g. ``mess3_transformer``."""
        return f"{self.process}_transformer"

    def transitions(self) -> np.ndarray:
        """The transition tensor this recipe trains on."""
        return B.rrxor() if self.process == "rrxor" else B.mess3(self.x, self.alpha)

    def train_config(self, steps: int | None = None, progress: bool = True) -> TrainConfig:
        """The training loop's configuration; ``steps`` shortens the run (the first steps are the same)."""
        return TrainConfig(steps=self.steps if steps is None else steps, lr=self.lr, batch_size=self.batch_size,
                           seed=self.seed, lr_drop_at=self.lr_drop_at if steps is None else None,
                           progress=progress, description=f"transformer on {self.process}")


# ---------------------------------------------------------------- the network and its training

class TokenAndPosition(nn.Module):
    """The first layer: a learned vector per token plus a learned vector per position (0 … context − 1)."""

    def __init__(self, tokens: nn.Embedding, positions: nn.Embedding):
        super().__init__()
        self.tokens, self.positions = tokens, positions

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Embeddings (batch, length, d_model) of tokens (batch, length) starting at position 0."""
        return self.tokens(tokens) + self.positions(torch.arange(tokens.shape[1], device=tokens.device))


class PositionTransformer(TinyTransformer):
    """The package's transformer with learned position embeddings instead of ALiBi, as in Shai et al. (2024).

    ALiBi only sees how far back a token is, so a run of one token looks the same at every length; a learned
    position embedding, added to the token's, lets the network tell "0" from "0000000000" as the filter does.
    ``model.embed`` is that sum, so hooks on it record the residual stream's first entry.
    """

    def __init__(self, vocab_size: int, d_model: int, n_layers: int, n_heads: int, context: int, mlp_ratio: int = 4):
        super().__init__(vocab_size, d_model, n_layers, n_heads, mlp_ratio=mlp_ratio)
        self.embed = TokenAndPosition(self.embed, nn.Embedding(context, d_model))

    def attention_bias(self, past: int, length: int, device: torch.device) -> torch.Tensor:
        """No ALiBi (positions come from the embedding): only the causal mask, −inf on future tokens."""
        return torch.full((length, past + length), float("-inf"), device=device).triu(past + 1)


def make_transformer(recipe: Recipe, seed: int | None = None) -> PositionTransformer:
    """A fresh transformer of the recipe's sizes; the same seed gives the same initial weights."""
    seed_everything(recipe.seed if seed is None else seed)
    return PositionTransformer(len(recipe.transitions()), recipe.d_model, recipe.n_layers, recipe.n_heads, recipe.context,
                               mlp_ratio=recipe.mlp_ratio)


def train_transformer(recipe: Recipe, steps: int | None = None,
                      progress: bool = True) -> tuple[PositionTransformer, History]:
    """Train on next-token prediction only, with the package's own loop; ``steps`` cuts the run short."""
    model = make_transformer(recipe)
    history = train(model, B.next_token_batch(recipe.transitions(), recipe.context), B.next_token_loss,
                    recipe.train_config(steps, progress))
    return model, history


def _data_file(name: str, suffix: str, folder: Path | None) -> Path:
    if folder is not None:
        return Path(folder) / f"{name}{suffix}"
    return Path(str(resources.files("simplex_edu") / "data" / f"{name}{suffix}"))


def make_checkpoint(folder: Path | None = None, recipe: Recipe = Recipe(), progress: bool = True) -> dict:
    """Train the recipe and write the weights (``.pt``) and the record (``.json``: recipe, losses, time) to ``folder``.

    The files are named after the recipe's process (``mess3_transformer.pt``, ``rrxor_transformer.pt``); without a
    folder they overwrite the copies shipped in ``simplex_edu/data/``. Returns the record.
    """
    model, history = train_transformer(recipe, progress=progress)
    record = {"recipe": dataclasses.asdict(recipe), "parameters": count_parameters(model),
              "early_losses": [round(loss, 6) for loss in history.losses[:20]],
              "final_loss": round(history.final_loss, 6), "train_seconds": round(history.seconds, 1),
              "torch": torch.__version__, "made_by": "simplex_edu.beliefs.transformer.make_checkpoint"}
    weights = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    torch.save(weights, _data_file(recipe.name, ".pt", folder))
    _data_file(recipe.name, ".json", folder).write_text(json.dumps(record, indent=1) + "\n")
    return record


def load_checkpoint(folder: Path | None = None, process: str = "mess3") -> tuple[PositionTransformer, dict]:
    """The process's trained transformer (in eval mode) and its record, from ``folder`` or the package's copy."""
    name = Recipe(process=process).name
    record = json.loads(_data_file(name, ".json", folder).read_text())
    model = make_transformer(Recipe(**record["recipe"]))
    model.load_state_dict(torch.load(_data_file(name, ".pt", folder), weights_only=True))
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
        forward = forward[forward.sum(axis=1) > 0]  # prefixes the process never emits (RRXOR has many) cost nothing
        prefix_prob = forward.sum(axis=1)
        probs = B.next_token_probs(forward / prefix_prob[:, None], transitions)
        surprise = -np.log2(probs, out=np.zeros_like(probs), where=probs > 0)  # 0 · log 0 = 0: a certain token
        entropies.append(float(np.sum(prefix_prob * np.sum(probs * surprise, axis=1))))
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


def lookup_beliefs(fit_tokens: np.ndarray, fit_beliefs: np.ndarray, test_tokens: np.ndarray, k: int) -> np.ndarray:
    """The simplest baseline a probe must beat: the mean fit-set belief of contexts ending in the same last k tokens.

    Contexts shorter than k are keyed on all their tokens (and so on their length). Tokens (n, L), beliefs (n, L, S);
    returns (n_test, L, S). A key never seen in the fit set gets the mean belief.
    """
    base = int(max(fit_tokens.max(), test_tokens.max())) + 2  # a digit per token, and one for "before the start"

    def keys(tokens: np.ndarray) -> np.ndarray:
        key = np.zeros(tokens.shape, dtype=np.int64)
        for lag in range(k):  # digits: 0 for "before the start", 1 + token otherwise
            shifted = np.full(tokens.shape, -1)
            shifted[:, lag:] = tokens[:, :tokens.shape[1] - lag]
            key = key * base + shifted + 1
        return key
    fit_keys, test_keys = keys(fit_tokens).ravel(), keys(test_tokens).ravel()
    flat = fit_beliefs.reshape(-1, fit_beliefs.shape[-1])
    counts = np.bincount(fit_keys, minlength=base ** k)
    sums = np.stack([np.bincount(fit_keys, flat[:, s], minlength=base ** k) for s in range(flat.shape[1])], axis=1)
    table = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], flat.mean(0))
    return table[test_keys].reshape(*test_tokens.shape, -1)


def outside_simplex(points: np.ndarray, margin: float = 0.0) -> float:
    """Fraction of points (n, S) with some coordinate below −margin: where no belief can be."""
    return float(np.mean(np.min(points, axis=-1) < -margin))


def probe_study(transitions: np.ndarray, trained: PositionTransformer, untrained: PositionTransformer, context: int,
                n_fit: int = 1000, n_test: int = 500, seed: int = 1, lookups: tuple[int, ...] = (3, 4, 5)) -> dict:
    """Probe held-out beliefs from every layer of the trained network, against controls and lookup baselines.

    Controls: the same architecture before training, and the trained network with the fit set's beliefs shuffled
    across contexts. Baselines: a lookup table of the last k tokens. Returns the RMSE rows (per layer, then
    concatenated), the lookup RMSEs, the fit set's tokens and beliefs, the held-out true beliefs and tokens, the
    probed beliefs (trained last block, trained all layers, untrained last block), and the trained probes' weights
    (one per layer, and the all-layers probe) for the explorers.
    """
    rng = np.random.default_rng(seed)
    fit_tokens, _ = B.sample_sequences(transitions, n_fit, context, rng)
    test_tokens, _ = B.sample_sequences(transitions, n_test, context, rng)
    fit_beliefs, test_beliefs = B.filter_beliefs(fit_tokens, transitions), B.filter_beliefs(test_tokens, transitions)
    n_states = transitions.shape[1]
    shuffled = fit_beliefs.reshape(-1, n_states)[rng.permutation(fit_beliefs[..., 0].size)].reshape(fit_beliefs.shape)
    y, true = fit_beliefs.reshape(-1, n_states), test_beliefs.reshape(-1, n_states)
    rows, probed, probes = {}, {}, []
    for name, net in [("trained", trained), ("untrained (control)", untrained)]:
        fit_acts, test_acts = residual_stream(net, fit_tokens), residual_stream(net, test_tokens)
        rows[name] = probe_rmse_per_layer(fit_acts, fit_beliefs, test_acts, test_beliefs)
        last_fit, last_test = (acts[-1].reshape(-1, acts.shape[-1]) for acts in (fit_acts, test_acts))
        probed[f"{name.split(' ')[0]}, last block"] = B.apply_probe(last_test, B.fit_linear_probe(last_fit, y))
        if net is trained:
            rows["shuffled labels (control)"] = probe_rmse_per_layer(fit_acts, shuffled, test_acts, test_beliefs)
            probes = [B.fit_linear_probe(layer.reshape(-1, layer.shape[-1]), y) for layer in fit_acts]
            flat_fit, flat_test = (np.concatenate(list(a), -1).reshape(-1, a.shape[0] * a.shape[-1])
                                   for a in (fit_acts, test_acts))
            all_layers_probe = B.fit_linear_probe(flat_fit, y)
            probed["trained, all layers"] = B.apply_probe(flat_test, all_layers_probe)
        del fit_acts, test_acts
    rows = {name: rows[name] for name in ("trained", "untrained (control)", "shuffled labels (control)")}
    looked_up = {k: lookup_beliefs(fit_tokens, fit_beliefs, test_tokens, k).reshape(-1, n_states) for k in lookups}
    lookup = {k: B.simplex_rmse(points, true) for k, points in looked_up.items()}
    return {"rows": rows, "lookup": lookup, "looked_up": looked_up, "names": layer_names(len(probes) - 1),
            "fit_tokens": fit_tokens, "fit_beliefs": y, "tokens": test_tokens, "true": true, "probed": probed, "probes": probes,
            "all_layers_probe": all_layers_probe, "mean_belief": y.mean(0)}


def _near_corner(points: np.ndarray, size: float) -> np.ndarray:
    """Which beliefs (n, 3) lie within ``size`` of state 0's corner of the triangle: the magnified region."""
    return np.linalg.norm(B.simplex_to_xy(points) - B.SIMPLEX_CORNERS[0], axis=1) < size


def corner_r_squared(result: dict, size: float = 0.2) -> dict[str, float]:
    """R² of each probe and lookup against the exact beliefs near state 0 only: how much of the corner's own
    structure (its copies of copies) each resolves, which the whole triangle's R² would hide."""
    near = _near_corner(result["true"], size)
    readouts = {**{f"probe, {name}": points for name, points in result["probed"].items()},
                **{f"lookup of the last {k} tokens": points for k, points in result["looked_up"].items()}}
    return {name: B.r_squared(points[near], result["true"][near]) for name, points in readouts.items()}


# ---------------------------------------------------------------- is the geometry used? a causal test

def _run_from(model: PositionTransformer, h: torch.Tensor, layer: int) -> torch.Tensor:
    """Next-token probabilities from a residual stream h (batch, L, d) taken after ``layer`` blocks."""
    mask = torch.full((h.shape[1], h.shape[1]), float("-inf")).triu(1)
    for index, block in enumerate(model.blocks[layer:], start=layer):
        h = block(h, mask, None, index)
    return model.readout(model.norm(h)).softmax(-1)


def kl_bits(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p ‖ q) in bits along the last axis; a term with p = 0 is 0 (RRXOR's sure bits give exact zeros)."""
    positive = p > 0
    return np.sum(np.where(positive, p * np.log2(np.where(positive, p, 1) / q), 0.0), axis=-1)


@torch.no_grad()
def causal_test(model: PositionTransformer, transitions: np.ndarray, probes: list[np.ndarray], context: int,
                n_pairs: int = 1000, seed: int = 2) -> dict:
    """Move each context's residual stream along the probe to another context's belief: does the output follow?

    At the last position of each context, after each block, a shift δ with probe(h + δ) = the target belief is
    added and the rest of the network runs on. δ is the smallest such shift measured in the stream's own spread
    (covariance Σ): δ = gap · (WᵀΣW)⁺WᵀΣ, a move along the directions in which the stream varies with the belief.
    The control adds a shift of the same length in a random direction. Returns median KL (bits) from the filter's prediction for the target belief to the network's output:
    before any move, and per block after the probe move and after the random move.
    """
    rng = np.random.default_rng(seed)
    tokens, _ = B.sample_sequences(transitions, n_pairs, context, rng)
    beliefs = B.filter_beliefs(tokens, transitions)[:, -1]
    target = beliefs[rng.permutation(n_pairs)]
    want = B.next_token_probs(target, transitions)
    logits, residual = model(torch.as_tensor(tokens), return_residual=True)
    before = float(np.median(kl_bits(want, logits[:, -1].softmax(-1).double().numpy())))
    moved, random = [], []
    for layer in range(1, len(residual)):
        h = residual[layer].double().numpy()
        weights, spread = probes[layer], np.cov(h.reshape(-1, h.shape[-1]).T)
        to_stream = np.linalg.pinv(weights[:-1].T @ spread @ weights[:-1]) @ weights[:-1].T @ spread
        shift = (target - B.apply_probe(h[:, -1], weights)) @ to_stream
        direction = rng.normal(size=shift.shape)
        direction *= np.linalg.norm(shift, axis=1, keepdims=True) / np.linalg.norm(direction, axis=1, keepdims=True)
        for result, delta in ((moved, shift), (random, direction)):
            patched = residual[layer].clone()
            patched[:, -1] += torch.as_tensor(delta, dtype=patched.dtype)
            out = _run_from(model, patched, layer)[:, -1].double().numpy()
            result.append(float(np.median(kl_bits(want, out))))
    return {"before": before, "probe move": np.array(moved), "random move": np.array(random),
            "blocks": np.arange(1, len(residual))}


# ---------------------------------------------------------------- the checkpoint's measured record

@torch.no_grad()
def run_of_one_token(model: PositionTransformer, transitions: np.ndarray, lengths: tuple[int, ...] = (1, 10)) -> dict:
    """P(next token = 0) after a run of 0s of each length: the network's and the exact filter's."""
    runs = [np.zeros((1, n), dtype=np.int64) for n in lengths]
    network = [float(model(torch.as_tensor(run))[0, -1].softmax(-1)[0]) for run in runs]
    exact = [float(B.next_token_probs(B.filter_beliefs(run, transitions)[0, -1], transitions)[0]) for run in runs]
    return {"lengths": list(lengths), "network": network, "filter": exact}


def measure_checkpoint(n_sequences: int = 20000, seed: int = 11, folder: Path | None = None, write: bool = True,
                       process: str = "mess3", lookups: tuple[int, ...] = (3, 4, 5)) -> dict:
    """A shipped checkpoint's numbers on fresh sequences: loss excess per position, probes, baselines, causal test.

    Written to ``<process>_transformer.measured.json`` beside the checkpoint (the README's table quotes it).
    """
    model, record = load_checkpoint(folder, process)
    recipe = Recipe(**record["recipe"])
    transitions = recipe.transitions()
    tokens, _ = B.sample_sequences(transitions, n_sequences, recipe.context + 1, np.random.default_rng(seed))
    excess = loss_per_position(model, tokens) - filter_loss_per_position(transitions, tokens)
    half = n_sequences // 4
    study = probe_study(transitions, model, make_transformer(recipe).eval(), recipe.context, n_fit=half,
                        n_test=half, seed=seed + 1, lookups=lookups)
    causal = causal_test(model, transitions, study["probes"], recipe.context, n_pairs=2000, seed=seed + 2)
    measured = {"n_sequences": n_sequences, "run_of_one_token": run_of_one_token(model, transitions),
                "excess_bits_per_position": excess.round(5).tolist(),
                "excess_bits_mean": round(float(excess.mean()), 5),
                "probe_rmse": {name: rmse.round(4).tolist() for name, rmse in study["rows"].items()},
                "lookup_rmse": {str(k): round(v, 4) for k, v in study["lookup"].items()},
                "outside_simplex": {name: [round(outside_simplex(p), 4), round(outside_simplex(p, 0.01), 4)]
                                    for name, p in study["probed"].items()},
                "causal_median_kl_bits": {"before": round(causal["before"], 4),
                                          "probe move": causal["probe move"].round(4).tolist(),
                                          "random move": causal["random move"].round(4).tolist()},
                "made_by": "simplex_edu.beliefs.transformer.measure_checkpoint"}
    if write:
        write_measured(measured, process, folder)
    return measured


def write_measured(measured: dict, process: str, folder: Path | None = None) -> None:
    """Write a checkpoint's measured record to ``<process>_transformer.measured.json`` beside its weights."""
    _data_file(Recipe(process=process).name, ".measured.json", folder).write_text(json.dumps(measured, indent=1) + "\n")


# ---------------------------------------------------------------- figures

def plot_loss_per_position(losses: dict[str, np.ndarray], optimum: np.ndarray,
                           paired: np.ndarray | None = None, n_tokens: int = 3) -> Figure:
    """Loss after seeing k tokens for each network, against the optimum, the filter on the same sequences, no memory."""
    fig, ax = new_figure(1, 1, 6.4, 3.6)
    positions = np.arange(1, len(optimum) + 1)
    ax.plot(positions, optimum, "o-", color=COLORS["exact"], lw=2, label="optimum (exact, no sampling)")
    if paired is not None:
        ax.plot(positions, paired, "s", mfc="none", ms=8, color=COLORS["unamortized"],
                label="exact filter on the same test sequences")
    styles = iter([(COLORS["baseline"], ":"), (COLORS["accent"], "--"), (COLORS["amortized"], "-")])
    for name, loss in losses.items():
        color, style = next(styles)
        ax.plot(positions, loss, style, marker=".", color=color, label=name)
    ax.axhline(np.log2(n_tokens), color=COLORS["baseline"], lw=1, ls="-.", label=f"no memory (log₂ {n_tokens})")
    ax.set_xlabel("tokens seen (context position)")
    ax.set_ylabel("next-token loss (bits)")
    ax.set_xticks(positions)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    worst = max(float(np.max(loss - optimum)) for loss in losses.values())
    return describe(fig, f"Next-token loss in bits at each context position 1 to {len(optimum)} for "
                    f"{', '.join(losses)}, against the exact filter's optimum and the no-memory line at log2 "
                    f"{n_tokens} = {np.log2(n_tokens):.2f} bits. The loss falls as tokens arrive; the largest gap of any curve above the optimum "
                    f"is {worst:.3f} bits.")


def plot_rmse_per_layer(result: dict) -> Figure:
    """Held-out probe RMSE at each layer and concatenated, trained beside the controls, with the lookup baselines."""
    readouts = result.get("readouts", {})  # other baselines, e.g. lesson 08's readouts of the output alone
    fig, ax = new_figure(1, 1, 10.5 if readouts else 8, 3.8)  # room for a legend beside the bars
    places = np.arange(len(result["names"]))
    colors = [COLORS["amortized"], COLORS["baseline"], COLORS["unamortized"], COLORS["accent"]]
    hatches = ["", "///", "...", "xxx"]  # a second cue beside colour: the rows differ by pattern too
    width = 0.8 / len(result["rows"])
    for k, ((name, rmse), color, hatch) in enumerate(zip(result["rows"].items(), colors, hatches)):
        ax.bar(places + (k - (len(result["rows"]) - 1) / 2) * width, rmse, width, color=color, hatch=hatch,
               edgecolor="white", linewidth=0, label=name)
    for (k, rmse), style in zip(result["lookup"].items(), [":", "--", "-.", (0, (5, 1, 1, 1, 1, 1)), "-"]):
        ax.axhline(rmse, color=COLORS["accent"], ls=style, lw=1.2, label=f"lookup of the last {k} tokens")
    for (name, rmse), style in zip(readouts.items(), ["--", ":", "-."]):
        ax.axhline(rmse, color=COLORS["exact"], ls=style, lw=1.5, label=name)
    ax.set_xticks(places, [n.replace(" concatenated", "\nconcatenated") for n in result["names"]], fontsize=8)
    ax.set_yscale("log")
    shown = np.concatenate([np.ravel(list(result["rows"].values())), list(result["lookup"].values()),
                            list(readouts.values())])
    low, high = shown.min() / 1.5, shown.max() * 1.3
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1) if low <= t <= high]
    ax.set(ylim=(low, high), yticks=ticks, yticklabels=[f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_ylabel("held-out RMSE in the simplex")
    if readouts:  # nine entries: one column beside the axes, where they don't squeeze the bars
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(fontsize=8, ncols=4, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    trained = next(iter(result["rows"].values()))
    lookups = ", ".join(f"last {k} tokens {rmse:.3f}" for k, rmse in result["lookup"].items())
    others = "".join(f" A {style} black line marks the {name}: {rmse:.3f}." for (name, rmse), style
                     in zip(readouts.items(), ["dashed", "dotted", "dash-dotted"]))
    return describe(fig, f"Bar chart, log scale: held-out probe RMSE in the simplex at each place in the network "
                    f"({', '.join(n.replace(chr(10), ' ') for n in result['names'])}) for "
                    f"{', '.join(result['rows'])}. The trained network's error goes "
                    f"{' → '.join(f'{v:.3f}' for v in trained)}; horizontal lines mark exact lookups of the "
                    f"{lookups}.{others}")


def plot_true_vs_probed(result: dict) -> Figure:
    """The lesson's figure: exact beliefs, and probed from the trained network (all layers, last block) and untrained."""
    fig, axes = new_figure(2, 2, 12, 11, dpi=100)
    true = result["true"]
    B.scatter_beliefs(axes[0, 0], true, true, f"exact beliefs (forward algorithm), {len(true):,} held-out contexts")
    for ax, name in zip(axes.flat[1:], ["trained, all layers", "trained, last block", "untrained, last block"]):
        points = result["probed"][name]
        B.scatter_beliefs(ax, points, true, f"linear probe, {name}: RMSE {B.simplex_rmse(points, true):.3f}\n"
                          f"{outside_simplex(points, 0.01):.0%} of points more than 0.01 outside the triangle")
    for ax in axes.flat:
        for collection in ax.collections:
            collection.set_sizes([4])
    rmse = {name: B.simplex_rmse(points, true) for name, points in result["probed"].items()}
    return describe(fig, "Four triangles of belief states, coloured by the exact belief: the exact beliefs draw a "
                    "fractal of nested triangles; the linear probe of the trained network's residual stream draws "
                    f"the same fractal (all layers RMSE {rmse['trained, all layers']:.3f}, last block "
                    f"{rmse['trained, last block']:.3f}); the untrained network's probe is a blur "
                    f"(RMSE {rmse['untrained, last block']:.3f}).")


def plot_corner_zoom(result: dict, size: float = 0.2) -> Figure:
    """The corner of state 0 magnified: the exact beliefs' nested copies beside the trained network's probes."""
    fig, axes = new_figure(1, 3, 15, 5.2, dpi=100)
    true = result["true"]
    # Every belief near state 0 is nearly pure red; stretch each component over the corner's own range, so a copy
    # has its own colour and the same colour marks the same copy in the probed panels however much they blur.
    near = true[_near_corner(true, size)]
    low, high = near.min(axis=0), near.max(axis=0)
    colors = 0.85 * np.clip((true - low) / np.maximum(high - low, 1e-9), 0, 1)
    panels = [("exact beliefs", true)] + [(f"probe, {name}", result["probed"][name])
                                          for name in ("trained, all layers", "trained, last block")]
    for ax, (title, points) in zip(axes, panels):
        B.scatter_beliefs(ax, points, colors, f"{title}: the corner of state 0, magnified", size=6)
        ax.set_xlim(-0.05 * size, 0.95 * size)
        ax.set_ylim(-0.05 * size, 0.95 * size)
    return describe(fig, "The corner of state 0 magnified, three panels, coloured by where the exact belief lies "
                    "inside the corner: the exact beliefs show smaller copies of the triangle inside the corner; the "
                    "probe on all layers puts each colour on the same copy along the edges, the last block's probe a "
                    "blurrier version; the finest copies are the size of the probe's error.")


def plot_causal_test(result: dict) -> Figure:
    """Median KL to the target's prediction before the move, after a move along the probe, after a random move."""
    fig, ax = new_figure(1, 1, 6.4, 3.6)
    ax.axhline(result["before"], color=COLORS["exact"], ls="--", lw=1, label="before any move")
    ax.plot(result["blocks"], result["random move"], "o-", color=COLORS["baseline"],
            label="random move, same length")
    ax.plot(result["blocks"], result["probe move"], "o-", color=COLORS["amortized"],
            label="move along the probe to the target belief")
    ax.set_yscale("log")
    ax.set_xticks(result["blocks"], [f"after block {b}" for b in result["blocks"]])
    ax.set_ylabel("median KL to the target's\nexact prediction (bits)")
    ax.legend(fontsize=8)
    return describe(fig, f"Causal test, log scale: median KL from the network's prediction to the target belief's "
                    f"exact prediction, {result['before']:.2f} bits before any move. Moving the residual stream along "
                    f"the probe after blocks {', '.join(map(str, result['blocks']))} brings it to "
                    f"{', '.join(f'{v:.3f}' for v in result['probe move'])} bits; a random move of the same length "
                    f"only to {', '.join(f'{v:.2f}' for v in result['random move'])}.")


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
    ignored = sorted({c for c in tokens if c not in "012" and not c.isspace()})  # said in the page (widgets)
    return {"tokens": seq, "true": true, "probed": probed, "layer": layer, "ignored": ignored,
            "true_next": B.next_token_probs(true[-1], transitions), "net_next": net_next}


def draw_transformer_walk(fig: Figure, view: dict, background: np.ndarray | None = None) -> None:
    """Draw :func:`transformer_walk`'s result with lesson 05's drawing, the network's legend entry renamed."""
    first = not fig.axes[0].lines
    B.draw_belief_walk(fig, view, background)
    if first:
        fig.axes[0].get_legend().get_texts()[1].set_text("transformer,\nprobed")  # narrow: clear of "state 2"
    label = "embedding" if view["layer"] == 0 else f"after block {view['layer']}"
    fig.axes[0].texts[-1].set_text(fig.axes[0].texts[-1].get_text() + f"\nprobe at: {label}")
    describe(fig, fig.alt_text.replace("GRU", "transformer") + f" The probe reads the stream at: {label}.")
