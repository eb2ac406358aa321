"""Lesson 01: one tiny network described at four levels — recipe, weights, activations, behaviour.

The network is a one-hidden-layer MLP trained on n-bit parity over all 2ⁿ inputs (full batch). Each level is
a complete description of the same behaviour; they differ in how many bytes they take and in how much work
it costs to read the behaviour (the truth table) back out of them.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simplex_edu.compute import mlp_flops, time_call
from simplex_edu.nn import MLP
from simplex_edu.plots import COLORS, describe, new_figure
from simplex_edu.training import TrainConfig, seed_everything, train

Weights = dict[str, np.ndarray]  # {"W1": (H, n), "b1": (H,), "W2": (1, H), "b2": (1,)}, as nn.Linear stores them
FLOAT_BYTES = 4  # float32


# --- level 1: the recipe --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipe:
    """Level 1: everything that decides the network — the data rule, the architecture, the optimizer, the seed."""

    rule: str = "parity"  # y = x1 XOR x2 XOR … XOR xn, on all 2ⁿ inputs (see `truth_inputs`, `parity`)
    n_bits: int = 4
    hidden: int = 24
    steps: int = 400
    lr: float = 0.02
    seed: int = 0


def truth_inputs(n_bits: int = 4) -> np.ndarray:
    """All 2ⁿ inputs as rows of 0/1 bits, in counting order (row i is i written in binary, first bit highest)."""
    return np.array(list(itertools.product([0, 1], repeat=n_bits)), dtype=np.int64)


def parity(bits: np.ndarray) -> np.ndarray:
    """The data rule: 1 where a row has an odd number of ones, else 0."""
    return np.asarray(bits).sum(axis=-1) % 2


def encode(bits: np.ndarray) -> np.ndarray:
    """Bits as the network sees them: 0 → −1, 1 → +1 (centred inputs train faster)."""
    return 2.0 * np.asarray(bits, dtype=np.float32) - 1.0


def train_network(recipe: Recipe) -> MLP:
    """Follow the recipe: a fresh MLP [n, hidden, 1] trained full batch on every input with the shared loop."""
    seed_everything(recipe.seed)  # the initial weights are part of the recipe too
    model = MLP([recipe.n_bits, recipe.hidden, 1])
    bits = truth_inputs(recipe.n_bits)
    x = torch.from_numpy(encode(bits))
    y = torch.from_numpy(parity(bits).astype(np.float32))
    config = TrainConfig(steps=recipe.steps, lr=recipe.lr, batch_size=len(bits), seed=recipe.seed,
                         progress=False, description=f"parity seed {recipe.seed}")
    train(model, lambda _size, _gen: (x, y),
          lambda m, xb, yb: torch.nn.functional.binary_cross_entropy_with_logits(m(xb).squeeze(-1), yb), config)
    return model


# --- level 2: the weights ---------------------------------------------------------------------------------------

def weights_of(model: MLP) -> Weights:
    """The trained numbers, as float64 numpy arrays named like the layers' weights and biases."""
    first, last = model[0], model[2]
    return {"W1": first.weight.detach().double().numpy().copy(), "b1": first.bias.detach().double().numpy().copy(),
            "W2": last.weight.detach().double().numpy().copy(), "b2": last.bias.detach().double().numpy().copy()}


def n_parameters(weights: Weights) -> int:
    """How many numbers the weights level stores."""
    return sum(w.size for w in weights.values())


# --- level 3: the activations -----------------------------------------------------------------------------------

def hidden_activations(weights: Weights, bits: np.ndarray) -> np.ndarray:
    """The hidden layer on every row of ``bits``: ReLU(x·W1ᵀ + b1), shape (rows, hidden)."""
    return np.maximum(encode(bits).astype(np.float64) @ weights["W1"].T + weights["b1"], 0.0)


def readout(weights: Weights, activations: np.ndarray) -> np.ndarray:
    """Behaviour from activations: the output bit, 1 where h·W2ᵀ + b2 > 0."""
    return ((activations @ weights["W2"].T + weights["b2"])[..., 0] > 0).astype(np.int64)


def plot_activations(bits: np.ndarray, activations: np.ndarray, table: np.ndarray) -> Figure:
    """Levels 3 and 4 side by side: the hidden layer on every input (a heatmap) and the output bit beside it."""
    fig, (left, right) = new_figure(1, 2, width=6.4, height=4.2, gridspec_kw={"width_ratios": [8, 1]})
    image = left.imshow(activations, cmap="Greys", aspect="auto", interpolation="nearest", vmin=0)
    fig.colorbar(image, ax=left, location="bottom", shrink=0.6, aspect=40, label="activation (0 = unit off)")
    right.imshow(np.asarray(table)[:, None], cmap="Greys", vmin=-0.3, vmax=1.3, aspect="auto")
    labels = ["".join(map(str, row)) for row in bits]
    left.set_yticks(range(len(bits)), labels, fontsize=8, family="monospace")
    left.set_xlabel("hidden unit")
    left.set_ylabel("input x1x2x3x4")
    left.set_title("activations: ReLU(W1·x + b1) on every input", fontsize=10)
    right.set_yticks(range(len(bits)), [str(int(t)) for t in table], fontsize=8)
    right.yaxis.tick_right()
    right.set_xticks([])
    right.set_title("output", fontsize=10)
    for ax in (left, right):
        ax.grid(False)
    describe(fig, "The hidden layer's activation on every input (rows: the 16 inputs, columns: hidden units, dark = "
                  "active) beside the network's output bit. Read how different units fire on different inputs while "
                  "the output column is the parity pattern.")
    return fig


# --- level 4: the behaviour -------------------------------------------------------------------------------------

def truth_table(weights: Weights, bits: np.ndarray) -> np.ndarray:
    """The network's output bit (0/1, int) for every row of ``bits``: one forward pass, thresholded at logit 0."""
    return readout(weights, hidden_activations(weights, bits))


def behaviour_bytes(table: np.ndarray) -> bytes:
    """The behaviour level stored as tightly as it goes: one bit per input, packed eight to a byte."""
    return np.packbits(np.asarray(table, dtype=np.uint8)).tobytes()


# --- sizes and access costs -------------------------------------------------------------------------------------

LEVELS = ("recipe", "weights", "activations", "behaviour")
ACCESS = {"recipe": "retrain", "weights": "forward pass", "activations": "readout", "behaviour": "lookup"}


def description_sizes(recipe: Recipe, weights: Weights, activations: np.ndarray, table: np.ndarray) -> dict[str, int]:
    """Bytes each level takes: the recipe as JSON; weights and activations (+ readout row) as float32; table as bits.

    The recipe's bytes leave out the code it points at (the training loop, torch): like a genome, it is short
    because an expensive shared machine does the unfolding.
    """
    readout_numbers = weights["W2"].size + weights["b2"].size
    return {"recipe": len(json.dumps(asdict(recipe)).encode()),
            "weights": FLOAT_BYTES * n_parameters(weights),
            "activations": FLOAT_BYTES * (activations.size + readout_numbers),
            "behaviour": len(behaviour_bytes(table))}


def sizes_for(n_bits: int, hidden: int) -> dict[str, int]:
    """Bytes of the weights (float32, an [n, hidden, 1] MLP) and of the behaviour (one bit per input, whole bytes)."""
    return {"weights": FLOAT_BYTES * (hidden * (n_bits + 2) + 1), "behaviour": -(-2 ** n_bits // 8)}


def access_flops(recipe: Recipe) -> dict[str, int]:
    """Counted FLOPs to answer one query from each level (a lookup does no arithmetic).

    Retraining: each full-batch step is a forward and a backward pass (≈ 3 forwards) over all 2ⁿ inputs.
    """
    sizes = [recipe.n_bits, recipe.hidden, 1]
    forward = mlp_flops(sizes)
    return {"recipe": 3 * recipe.steps * mlp_flops(sizes, batch=2 ** recipe.n_bits) + forward,
            "weights": forward, "activations": mlp_flops(sizes[1:]), "behaviour": 0}



def measure_access_costs(recipe: Recipe, query: int = 5) -> dict[str, float]:
    """Measured seconds to get the output for input row ``query`` from each level, all in plain numpy/Python.

    Recipe: retrain, then one forward pass. Weights: one forward pass. Activations: the readout of one stored
    row. Behaviour: index the stored table.
    """
    bits = truth_inputs(recipe.n_bits)
    start = time.perf_counter()
    weights = weights_of(train_network(recipe))
    retrain = time.perf_counter() - start
    x = encode(bits[query]).astype(np.float64)
    w1, b1, w2, b2 = weights["W1"], weights["b1"], weights["W2"][0], float(weights["b2"][0])
    row = hidden_activations(weights, bits)[query]
    table = tuple(truth_table(weights, bits).tolist())
    forward = time_call(lambda: int(np.maximum(w1 @ x + b1, 0.0) @ w2 + b2 > 0))
    return {"recipe": retrain + forward, "weights": forward,
            "activations": time_call(lambda: int(row @ w2 + b2 > 0)),
            "behaviour": time_call(lambda: table[query])}


def plot_levels(sizes: dict[str, int], seconds: dict[str, float], flops: dict[str, int] | None = None) -> Figure:
    """The lesson's figure: bytes against seconds per query for the four levels, log-log, points labelled."""
    fig, ax = new_figure(width=6.4, height=4.0)
    colors = {"recipe": COLORS["unamortized"], "weights": COLORS["amortized"], "activations": COLORS["accent"],
              "behaviour": COLORS["exact"]}
    # Weights and activations sit close together: one label goes above-left, the other below-right.
    offsets = {"recipe": (8, 4), "weights": (-8, 10), "activations": (8, -26), "behaviour": (8, 4)}
    for level in LEVELS:
        ax.scatter(sizes[level], seconds[level], s=80, color=colors[level], zorder=3)
        label = f"{level}: {ACCESS[level]}" + ("" if flops is None else f"\n{flops[level]:,} FLOPs")
        ax.annotate(label, (sizes[level], seconds[level]), xytext=offsets[level], textcoords="offset points",
                    fontsize=9, ha="right" if offsets[level][0] < 0 else "left")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(min(sizes.values()) / 3, max(sizes.values()) * 20)
    ax.set_ylim(min(seconds.values()) / 10, max(seconds.values()) * 30)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _seconds_label(v)))
    ax.set_xlabel("size of the description (bytes)")
    ax.set_ylabel("time to read one answer out of it")
    ax.set_title("one network, four descriptions: size vs access cost", fontsize=10)
    describe(fig, "Bytes to store each level of description against seconds to answer one query from it, both "
                  "logarithmic, one labelled point per level. Read the trade: the small descriptions are slow to "
                  "query and the fast ones are large.")
    return fig


def _seconds_label(value: float) -> str:
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if value >= scale * 0.999:
            return f"{value / scale:g} {unit}"
    return f"{value:.0e} s"


# --- many weights, one behaviour ---------------------------------------------------------------------------------

def permute_hidden(weights: Weights, perm: np.ndarray) -> Weights:
    """The same network with its hidden units reordered: new unit i is old unit perm[i] (in and out weights move)."""
    perm = np.asarray(perm)
    return {"W1": weights["W1"][perm], "b1": weights["b1"][perm], "W2": weights["W2"][:, perm],
            "b2": weights["b2"].copy()}


def flat_weights(weights: Weights) -> np.ndarray:
    """All parameters in one vector (W1, b1, W2, b2 in that order)."""
    return np.concatenate([weights[k].ravel() for k in ("W1", "b1", "W2", "b2")])


def weight_correlation(a: Weights, b: Weights) -> float:
    """Pearson correlation between two networks' parameter vectors, entry by entry."""
    return float(np.corrcoef(flat_weights(a), flat_weights(b))[0, 1])


def unit_correlations(acts_a: np.ndarray, acts_b: np.ndarray) -> np.ndarray:
    """C[i, j]: correlation over inputs of unit i of A with unit j of B (0 for a unit that never varies)."""
    za = acts_a - acts_a.mean(0)
    zb = acts_b - acts_b.mean(0)
    norm = np.outer(np.linalg.norm(za, axis=0), np.linalg.norm(zb, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 1e-12, za.T @ zb / np.where(norm > 1e-12, norm, 1.0), 0.0)


def match_units(acts_a: np.ndarray, acts_b: np.ndarray) -> np.ndarray:
    """Greedy matching: perm with B's unit perm[i] paired to A's unit i, most-correlated pairs chosen first.

    Repeatedly take the largest remaining entry of the correlation matrix, pair its row and column, and strike
    both out. Ties go to the first in row-major order (np.argmax).
    """
    corr = unit_correlations(acts_a, acts_b)
    hidden = corr.shape[0]
    perm = np.zeros(hidden, dtype=np.int64)
    free = np.ones_like(corr, dtype=bool)
    for _ in range(hidden):
        i, j = np.unravel_index(np.argmax(np.where(free, corr, -np.inf)), corr.shape)
        perm[i] = j
        free[i, :] = False
        free[:, j] = False
    return perm


@lru_cache(maxsize=None)
def trained_seeds(seeds: tuple[int, ...] = tuple(range(6)), recipe: Recipe = Recipe()) -> dict[int, Weights]:
    """Train one network per seed (same recipe otherwise); cached, so the lesson and the explorer share them."""
    return {seed: weights_of(train_network(Recipe(**{**asdict(recipe), "seed": seed}))) for seed in seeds}


def solving_seeds(networks: dict[int, Weights], n_bits: int = 4) -> list[int]:
    """The seeds whose network reproduces the whole parity truth table."""
    bits = truth_inputs(n_bits)
    return [s for s, w in networks.items() if np.array_equal(truth_table(w, bits), parity(bits))]


def compare_pair(a: Weights, b: Weights, n_bits: int = 4) -> dict[str, float]:
    """Two networks side by side: weight correlation before and after matching B's units to A's, same table?"""
    bits = truth_inputs(n_bits)
    acts_a, acts_b = hidden_activations(a, bits), hidden_activations(b, bits)
    matched = permute_hidden(b, match_units(acts_a, acts_b))
    return {"raw": weight_correlation(a, b), "matched": weight_correlation(a, matched),
            "same_table": bool(np.array_equal(truth_table(a, bits), truth_table(b, bits)))}


def off_table_disagreement(a: Weights, b: Weights, n_points: int = 4000, seed: int = 0) -> float:
    """Fraction of points drawn uniformly from the cube [−1, 1]ⁿ between the ±1 corners where a and b disagree.

    The truth table only asks about the 2ⁿ corners; this asks what the weights do everywhere else.
    """
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n_points, a["W1"].shape[1]))

    def outputs(w: Weights) -> np.ndarray:
        return (np.maximum(x @ w["W1"].T + w["b1"], 0.0) @ w["W2"][0] + w["b2"][0]) > 0

    return float(np.mean(outputs(a) != outputs(b)))


def pair_view(seed_a: int, seed_b: int, matched: bool, networks: dict[int, Weights], n_bits: int = 4) -> dict:
    """What the explorer shows: both networks' per-unit weights [W1 | b1 | W2] and their unit correlation matrix."""
    bits = truth_inputs(n_bits)
    a, b = networks[seed_a], networks[seed_b]
    acts_a, acts_b = hidden_activations(a, bits), hidden_activations(b, bits)
    if matched:
        b = permute_hidden(b, match_units(acts_a, acts_b))
        acts_b = hidden_activations(b, bits)

    def per_unit(w: Weights) -> np.ndarray:
        return np.column_stack([w["W1"], w["b1"], w["W2"][0]]).T  # rows: in-weights, bias, out-weight

    return {"A": per_unit(a), "B": per_unit(b), "unit_corr": unit_correlations(acts_a, acts_b),
            "weight_corr": weight_correlation(a, b), "seed_a": seed_a, "seed_b": seed_b, "matched": matched}


def draw_pair(fig: Figure, view: dict) -> None:
    """Draw :func:`pair_view`: two weight heatmaps and the unit-correlation matrix, updated in place."""
    axes = fig.axes
    panels = (view["A"], view["B"], view["unit_corr"])
    if not axes[0].images:
        limit = max(np.abs(view["A"]).max(), np.abs(view["B"]).max())
        rows = [f"w{i + 1}" for i in range(view["A"].shape[0] - 2)] + ["bias", "out"]
        # Correlations saturate at ±0.5, so the matched pairs (typically 0.5–0.9) are full red on the diagonal.
        images = [ax.imshow(data, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto", interpolation="nearest")
                  for ax, data, vmax in zip(axes, panels, (limit, limit, 0.5))]
        n_units = view["unit_corr"].shape[0]
        axes[2].plot(range(n_units), range(n_units), "s", ms=5, mfc="none", mec=COLORS["exact"], mew=0.8,
                     visible=False)  # outlines the diagonal once the units are matched
        for ax in axes[:3]:
            ax.grid(False)
            ax.set_xticks([])  # few tick labels: laying them out is most of a redraw's time
        for ax in axes[:2]:
            ax.set_yticks(range(len(rows)), rows)
            ax.set_xlabel("hidden unit →")
        axes[2].set_yticks([])
        axes[2].set_xlabel("unit of B →")
        axes[2].set_ylabel("unit of A (top to bottom)")
        fig.colorbar(images[0], ax=axes[0], shrink=0.8, label="weight")
        fig.colorbar(images[1], ax=axes[1], shrink=0.8, label="weight")
        fig.colorbar(images[2], ax=axes[2], shrink=0.8, label="correlation", extend="both")
    for ax, data in zip(axes[:3], panels):
        ax.images[0].set_data(data)
    axes[2].lines[0].set_visible(view["matched"])
    axes[0].set_title(f"network A (seed {view['seed_a']})", fontsize=10)
    order = "units matched to A" if view["matched"] else "units as trained"
    axes[2].set_title("activation correlation, A × B\n" + ("(matched pairs on the diagonal)" if view["matched"]
                                                         else "(red: same job, blue: opposite)"), fontsize=10)
    axes[1].set_title(f"B (seed {view['seed_b']}), {order}\nweight correlation with A: {view['weight_corr']:.2f}",
                      fontsize=10)
    diagonal = np.mean(np.diag(view["unit_corr"]))
    describe(fig, f"Three heatmaps: the weights of network A (seed {view['seed_a']}) and of network B (seed "
                  f"{view['seed_b']}, {order}), one column per hidden unit, and the correlation of every unit of A "
                  f"with every unit of B. Weight correlation {view['weight_corr']:.2f}; mean correlation on the "
                  f"diagonal {diagonal:.2f}: matched units make the diagonal red.")


# --- probes --------------------------------------------------------------------------------------------------

def probe_accuracy(features: np.ndarray, labels: np.ndarray, ridge: float = 0.1) -> float:
    """Leave-one-out accuracy of a linear probe: for each row, fit ridge least squares (with a bias column) on
    the other rows to the 0/1 labels, predict the held-out row as 1 if the fit exceeds 0.5, and score it."""
    design = np.column_stack([np.asarray(features, dtype=np.float64), np.ones(len(features))])
    labels = np.asarray(labels, dtype=np.float64)
    correct = 0
    for i in range(len(labels)):
        keep = np.arange(len(labels)) != i
        a, y = design[keep], labels[keep]
        coef = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y)
        correct += int((design[i] @ coef > 0.5) == (labels[i] > 0.5))
    return correct / len(labels)


def probe_targets(n_bits: int = 4) -> dict[str, np.ndarray]:
    """Things a probe might look for: single bits, every pairwise XOR, and the full parity (the behaviour)."""
    bits = truth_inputs(n_bits)
    targets = {f"x{i + 1}": bits[:, i] for i in range(n_bits)}
    targets.update({f"x{i + 1}⊕x{j + 1}": bits[:, i] ^ bits[:, j]
                    for i, j in itertools.combinations(range(n_bits), 2)})
    targets["parity"] = parity(bits)
    return targets


def shuffled_control(features: np.ndarray, labels: np.ndarray, n_shuffles: int = 20, seed: int = 0) -> np.ndarray:
    """Probe accuracies on randomly permuted labels: what the probe scores when there is nothing to find."""
    rng = np.random.default_rng(seed)
    return np.array([probe_accuracy(features, rng.permutation(labels)) for _ in range(n_shuffles)])


def probe_report(weights: Weights, untrained: Weights, n_bits: int = 4) -> dict[str, dict[str, float]]:
    """Probe accuracy for every target read from raw inputs, an untrained net's and the trained net's hidden layer."""
    bits = truth_inputs(n_bits)
    sources = {"raw inputs": encode(bits), "untrained hidden": hidden_activations(untrained, bits),
               "trained hidden": hidden_activations(weights, bits)}
    return {name: {t: probe_accuracy(f, y) for t, y in probe_targets(n_bits).items()} for name, f in sources.items()}
