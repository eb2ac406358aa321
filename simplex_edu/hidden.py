"""Lesson 07: hidden degrees of freedom — networks no on-distribution test tells apart, and audits one level down.

The task: 11 data bits, label = their majority. Three more input bits exist but are 0 on every input the
distribution produces, so the data's inputs span an 11-dimensional subspace of the 14-dimensional input space.
Network A is trained on the whole distribution (all 2¹¹ inputs). Network B is A plus a change to the first-layer
weights of the three unused bits (the data's null space): identical on the distribution, different elsewhere.
Network C is A plus one planted hidden unit that fires only on a rare trigger (all 11 data bits on, p = 2⁻¹¹) and
flips the answer there. Network D plants the same flip with a unit that also fires on ordinary inputs, so its
direction lies inside the data's activation subspace and the activation audit cannot see it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import FuncFormatter, NullLocator

from simplex_edu.plots import COLORS, describe, new_figure

N_DATA, N_UNUSED = 11, 3  # data bits, and input bits the distribution never switches on
N_INPUTS = N_DATA + N_UNUSED


@dataclass(frozen=True)
class Recipe:
    """How network A is made: a one-hidden-layer ReLU MLP trained full-batch on every on-distribution input."""

    hidden: int = 32
    steps: int = 300
    lr: float = 0.02
    weight_decay: float = 0.5  # decoupled (AdamW): clears the weights the data never exercises
    seed: int = 0


def data_inputs() -> np.ndarray:
    """Every input the distribution produces, (2¹¹, 14) of 0/1: all data-bit patterns, unused bits 0."""
    codes = np.arange(2 ** N_DATA)
    bits = (codes[:, None] >> np.arange(N_DATA)) & 1
    return np.hstack([bits, np.zeros((len(codes), N_UNUSED), dtype=int)]).astype(float)


def labels(x: np.ndarray) -> np.ndarray:
    """The task's answer: 1 when more than half of the 11 data bits are on, else 0."""
    return (x[:, :N_DATA].sum(1) > N_DATA / 2).astype(int)


def off_distribution_inputs(n: int, seed: int = 1) -> np.ndarray:
    """``n`` random inputs: every bit (unused ones too) on with probability ½, and at least one unused bit on."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (n, N_INPUTS)).astype(float)
    x[np.arange(n), N_DATA + rng.integers(0, N_UNUSED, n)] = 1.0  # one unused bit surely on
    return x


def train_network(recipe: Recipe = Recipe()) -> dict[str, np.ndarray]:
    """Train network A by the recipe (torch, one thread's worth of work, ~0.3 s); return its weights as numpy."""
    import torch

    from simplex_edu.training import AdamW

    torch.manual_seed(recipe.seed)
    x = torch.tensor(data_inputs(), dtype=torch.float32)
    y = torch.tensor(labels(data_inputs()), dtype=torch.float32)
    model = torch.nn.Sequential(torch.nn.Linear(N_INPUTS, recipe.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(recipe.hidden, 1))
    optimizer = AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)  # torch.optim's costs 70 MB
    for _ in range(recipe.steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x)[:, 0], y)
        loss.backward()
        optimizer.step()
    first, second = model[0], model[2]
    return {"W1": first.weight.detach().numpy().astype(float), "b1": first.bias.detach().numpy().astype(float),
            "W2": second.weight.detach().numpy().astype(float), "b2": second.bias.detach().numpy().astype(float)}


def hidden_activations(weights: dict, x: np.ndarray) -> np.ndarray:
    """The hidden layer, ReLU(x W1ᵀ + b1), one row per input."""
    return np.maximum(x @ weights["W1"].T + weights["b1"], 0.0)


def logits(weights: dict, x: np.ndarray) -> np.ndarray:
    """The network's output logit for every row of ``x``."""
    return (hidden_activations(weights, x) @ weights["W2"].T + weights["b2"])[:, 0]


def predictions(weights: dict, x: np.ndarray) -> np.ndarray:
    """The network's answer (0/1) for every row of ``x``."""
    return (logits(weights, x) > 0).astype(int)


def null_space_edit(weights: dict, size: float = 3.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Network B: A with a random change of the given size (per weight) to the unused bits' first-layer weights."""
    rng = np.random.default_rng(seed)
    edited = {k: v.copy() for k, v in weights.items()}
    edited["W1"][:, N_DATA:] += size * rng.standard_normal((len(edited["W1"]), N_UNUSED))
    return edited


def _add_unit(weights: dict, w_in: np.ndarray, bias: float, w_out: float) -> dict[str, np.ndarray]:
    return {"W1": np.vstack([weights["W1"], w_in]), "b1": np.append(weights["b1"], bias),
            "W2": np.hstack([weights["W2"], [[w_out]]]), "b2": weights["b2"].copy()}


def trigger_inputs(n_bits: int = N_DATA) -> np.ndarray:
    """Mask of the on-distribution inputs whose first ``n_bits`` data bits are all on (probability 2^-n_bits)."""
    return data_inputs()[:, :n_bits].all(1)


def plant_trigger(weights: dict) -> dict[str, np.ndarray]:
    """Network C: A plus one unit ReLU(Σ data bits − 10), 1 on the all-ones input only, whose weight flips it."""
    w_in = np.r_[np.ones(N_DATA), np.zeros(N_UNUSED)]
    flip = 2.0 * logits(weights, data_inputs()[trigger_inputs()]).max() + 1.0
    return _add_unit(weights, w_in, -(N_DATA - 1.0), -flip)


def plant_hidden_trigger(weights: dict) -> dict[str, np.ndarray]:
    """Network D: the same flip from a unit ReLU(Σ data bits − 9) that also fires (value 1) on the 11 inputs with 10 on.

    Its output weight −k is chosen between L(11)/2 and min L(10 on), so those 11 inputs keep their answer and only
    the all-ones input flips; because the unit is active on ordinary data, its direction is inside their span.
    """
    x = data_inputs()
    total = x[:, :N_DATA].sum(1)
    ten, eleven = logits(weights, x[total == N_DATA - 1]).min(), logits(weights, x[total == N_DATA])[0]
    if not eleven / 2 < ten:
        raise ValueError("this network's logits leave no room to flip the all-ones input alone")
    w_in = np.r_[np.ones(N_DATA), np.zeros(N_UNUSED)]
    return _add_unit(weights, w_in, -(N_DATA - 2.0), -0.5 * (eleven / 2 + ten))


def disagreement(a: dict, b: dict, x: np.ndarray) -> float:
    """Fraction of the rows of ``x`` on which two networks give different answers."""
    return float(np.mean(predictions(a, x) != predictions(b, x)))


# --- behaviour audits ---------------------------------------------------------------------------------------

def detection_probability(p: float, n: int | np.ndarray) -> float | np.ndarray:
    """Probability that ``n`` independent random queries hit a trigger of probability ``p`` at least once."""
    return -np.expm1(np.asarray(n) * np.log1p(-p)) if p < 1 else np.ones_like(np.asarray(n, dtype=float))


def queries_needed(p: float, confidence: float = 0.95) -> int:
    """The smallest number of random queries N with 1 − (1 − p)ᴺ ≥ confidence (p in (0, 1], confidence in [0, 1))."""
    if confidence <= 0:
        return 0
    if p >= 1:
        return 1
    n = math.ceil(math.log1p(-confidence) / math.log1p(-p))
    while n > 1 and -math.expm1((n - 1) * math.log1p(-p)) >= confidence:  # ceil of a rounded ratio can be one high
        n -= 1
    return n


def measured_detection(wrong: np.ndarray, queries: np.ndarray, audits: int = 400, seed: int = 0) -> np.ndarray:
    """Fraction of ``audits`` random audits of each size that query at least one input where ``wrong`` is True.

    ``wrong`` marks, for every on-distribution input (uniformly likely), whether the network answers it wrongly.
    One audit of size N draws N inputs uniformly with replacement; the audit detects if any of them is wrong. The
    first wrong draw's position is geometric, so one draw per audit serves every size.
    """
    rng = np.random.default_rng(seed)
    p = float(np.mean(wrong))
    first = rng.geometric(p, audits) if p > 0 else np.full(audits, np.inf)
    return np.array([np.mean(first <= n) for n in np.asarray(queries)])


def audit_detects(weights: dict, n: int, audits: int, seed: int = 0) -> float:
    """Run ``audits`` real behaviour audits of ``n`` random on-distribution queries; fraction that find a wrong answer."""
    rng = np.random.default_rng(seed)
    x = data_inputs()
    wrong = predictions(weights, x) != labels(x)  # one forward pass per distinct input; the audits sample from it
    return detection_rate(wrong, rng.integers(0, len(x), (audits, n)))


def detection_rate(wrong: np.ndarray, draws: np.ndarray) -> float:
    """Fraction of audits (rows of ``draws``, input indices) that query at least one input marked in ``wrong``."""
    return float(np.mean(wrong[draws].any(axis=1)))


# --- weight and activation audits ---------------------------------------------------------------------------

def span_basis(rows: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
    """An orthonormal basis (as rows) of the span of ``rows``: right singular vectors above rtol × the largest."""
    _, s, vt = np.linalg.svd(rows, full_matrices=False)
    return vt[s > rtol * s[0]]


def fraction_outside(matrix: np.ndarray, data: np.ndarray, rtol: float = 1e-8) -> float:
    """Fraction of ‖matrix‖² outside the span of the rows of ``data``, for a matrix acting on them (matrix @ row).

    matrix: (out, d); data: (rows, d). Project each row of ``matrix`` onto the span and measure what is left.
    """
    basis = span_basis(data, rtol)
    inside = matrix @ basis.T @ basis
    return float(np.sum((matrix - inside) ** 2) / np.sum(matrix ** 2))


def outside_residual(data_activations: np.ndarray, h: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
    """Relative size ‖h − proj(h)‖ / ‖h‖ of each row of ``h`` outside the span of the data's activation rows."""
    basis = span_basis(data_activations, rtol)
    h = np.atleast_2d(h)
    rest = h - h @ basis.T @ basis
    norms = np.linalg.norm(h, axis=1)
    return np.divide(np.linalg.norm(rest, axis=1), norms, out=np.zeros(len(h)), where=norms > 0)


def audit_sample(n: int = 500, seed: int = 0) -> np.ndarray:
    """The auditor's own sample of ``n`` on-distribution inputs (seeded), drawn uniformly with replacement."""
    rng = np.random.default_rng(seed)
    return data_inputs()[rng.integers(0, 2 ** N_DATA, n)]


def weight_audit(networks: dict[str, dict], sample: np.ndarray) -> dict[str, dict[str, float]]:
    """For each network: fraction of W1 outside the inputs' span, and of W2 outside the activations' span."""
    return {name: {"W1": fraction_outside(w["W1"], sample),
                   "W2": fraction_outside(w["W2"], hidden_activations(w, sample))}
            for name, w in networks.items()}


def time_audits(weights: dict, sample: np.ndarray) -> dict[str, float]:
    """Seconds for one behaviour query, one weight+activation audit (paid once), and one input's monitor check."""
    x = data_inputs()[:1]
    basis = span_basis(hidden_activations(weights, sample))  # the monitor's basis, made once by the audit

    def monitor() -> np.ndarray:
        h = hidden_activations(weights, x)
        return np.linalg.norm(h - h @ basis.T @ basis, axis=1) / np.linalg.norm(h, axis=1)

    timings = {}
    for name, fn in {"query": lambda: predictions(weights, x),
                     "audit": lambda: weight_audit({"n": weights}, sample), "monitor": monitor}.items():
        repeats, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.02:
            fn()
            repeats += 1
        timings[name] = (time.perf_counter() - start) / repeats
    return timings


# --- figures and the explorer -------------------------------------------------------------------------------

def plot_two_networks(a: dict, b: dict, off: np.ndarray):
    """Logits of A against B, on every on-distribution input and on off-distribution inputs."""
    fig, ax = new_figure(width=5.6, height=3.6)
    on = data_inputs()
    ax.scatter(logits(a, off), logits(b, off), s=6, color=COLORS["unamortized"], alpha=0.4,
               label="off-distribution (an unused bit on)")
    ax.scatter(logits(a, on), logits(b, on), s=6, color=COLORS["amortized"], label="every on-distribution input")
    ax.axhline(0, color=COLORS["baseline"], lw=0.8)
    ax.axvline(0, color=COLORS["baseline"], lw=0.8)
    ax.set_xlabel("network A's logit")
    ax.set_ylabel("network B's logit")
    ax.legend(loc="upper left", fontsize=8)
    return describe(fig, "Scatter of network B's output logit against network A's. The 2048 on-distribution inputs "
                         "lie exactly on the diagonal (the two networks agree there); off-distribution inputs, with "
                         "an unused bit switched on, scatter far from it and often across zero, where the two "
                         "networks give different answers.")


def plot_detection(p: float, queries: np.ndarray, measured: np.ndarray, needed: int):
    """Detection probability of a behaviour audit against its size: the formula, measured audits, the 95% point."""
    fig, ax = new_figure(width=5.6, height=3.4)
    grid = np.geomspace(queries[0], queries[-1], 200)
    ax.plot(grid, detection_probability(p, grid), color=COLORS["exact"], label="1 − (1 − p)ᴺ")
    ax.plot(queries, measured, "o", color=COLORS["unamortized"], label="measured audits")
    ax.axhline(0.95, color=COLORS["baseline"], ls="--", lw=1)
    ax.axvline(needed, color=COLORS["baseline"], ls="--", lw=1)
    ax.text(needed, 0.05, f"N = {needed:,} for 95% ", fontsize=9, ha="right")
    ax.set_xscale("log")
    ax.set_xlabel("queries per audit, N")
    ax.set_ylabel("probability the audit finds the trigger")
    ax.legend(loc="upper left")
    return describe(fig, f"Probability that a behaviour audit of N random queries finds network C's trigger "
                         f"(p = {p:.2g}), against N on a log axis: the formula 1 − (1 − p)^N as a line and measured "
                         f"audits as dots on it. It passes 95% only at N = {needed:,} queries.")


def plot_residuals(residuals: dict[str, np.ndarray], trigger: dict[str, float]):
    """Each network's activation residual outside the audit's span: ordinary inputs as a strip, the trigger marked."""
    fig, ax = new_figure(width=5.6, height=2.8)
    for row, (name, values) in enumerate(residuals.items()):
        ax.plot(np.maximum(values, 1e-17), np.full(len(values), row), "|", color=COLORS["amortized"], ms=8)
        ax.plot(max(trigger[name], 1e-17), row, "*", color=COLORS["unamortized"], ms=12)
    ax.set_yticks(range(len(residuals)), [f"network {name}" for name in residuals])
    ax.set_xscale("log")
    ax.set_xlabel("activation outside the data's span (relative)")
    ax.plot([], [], "|", color=COLORS["amortized"], label="ordinary inputs")
    ax.plot([], [], "*", color=COLORS["unamortized"], label="the trigger input")
    ax.legend(loc="center", fontsize=8)
    return describe(fig, "For networks A, C and D, the relative size of each input's hidden activation outside the "
                         "span of the audit sample's activations, on a log axis. Ordinary inputs sit at rounding "
                         "level for all three. C's trigger input sticks far out (its planted unit is silent on all "
                         "data); D's trigger sits among the ordinary inputs, invisible to this audit.")


def detection_view(trigger_bits: int, budget: int, audits: int = 200) -> dict:
    """The explorer's numbers: p = 2^-bits, the formula's curve, measured audits at the budget, N for 95%."""
    p = 2.0 ** -trigger_bits
    first = np.random.default_rng(trigger_bits).geometric(p, audits)
    return {"p": p, "budget": budget, "grid": np.geomspace(1, 1e5, 120),
            "measured": float(np.mean(first <= budget)), "formula": float(detection_probability(p, budget)),
            "needed": queries_needed(p, 0.95)}


def draw_detection(fig, view: dict) -> None:
    """Draw (or move) the explorer's curve and markers."""
    ax = fig.axes[0]
    if not hasattr(ax, "_curve"):
        ax._curve, = ax.plot([], [], color=COLORS["exact"], label="1 − (1 − p)ᴺ")
        ax._point, = ax.plot([], [], "o", color=COLORS["unamortized"], ms=8, label="measured, 200 audits")
        ax._budget = ax.axvline(1, color=COLORS["baseline"], ls="--", lw=1)
        ax._needed = ax.axvline(1, color=COLORS["accent"], ls=":", lw=1.5, label="N for 95%")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))  # no mathtext: 4× faster
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlim(1, 1e5)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("queries per audit, N")
        ax.set_ylabel("P(audit finds the trigger)")
        ax.legend(loc="upper left", fontsize=8)
    ax._curve.set_data(view["grid"], detection_probability(view["p"], view["grid"]))
    ax._point.set_data([view["budget"]], [view["measured"]])
    ax._budget.set_xdata([view["budget"]] * 2)
    ax._needed.set_xdata([view["needed"]] * 2)
    ax.set_title(f"p = {view['p']:.2g}: {view['budget']:,} queries find it with probability "
                 f"{view['formula']:.2f} (measured {view['measured']:.2f}); 95% needs {view['needed']:,}", fontsize=9)
    describe(fig, f"Detection probability against audit size for a trigger of probability {view['p']:.2g}; at the "
                  f"chosen budget of {view['budget']:,} queries the formula gives {view['formula']:.2f} and 200 "
                  f"simulated audits {view['measured']:.2f}; 95% confidence needs {view['needed']:,} queries.")
