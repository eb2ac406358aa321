"""Lesson 05's machinery: the Mess3 hidden Markov process, exact Bayesian filtering, and probing a network for beliefs.

Mess3 (Marzen & Crutchfield 2017; Shai et al. 2024) has three hidden states and three tokens. Its transition
tensor is ``T[a, i, j] = P(emit token a, move to state j | in state i)``. An observer who sees only tokens keeps a
*belief* — a probability distribution over the hidden states — and updates it after each token with the forward
algorithm. That is the un-amortized answer: exact, paid per token. A GRU trained only to predict the next token
amortizes it, and a linear probe reads the belief back out of its activations.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simplex_edu.compute import time_call
from simplex_edu.nn import GRUReadout
from simplex_edu.plots import COLORS, describe, new_figure
from simplex_edu.training import History, TrainConfig, seed_everything, train

N_TOKENS = 3
# Corners of the 2-simplex drawn as an equilateral triangle with side 1: state 0 bottom left, 1 bottom right, 2 top.
SIMPLEX_CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, math.sqrt(3) / 2]])


# ---------------------------------------------------------------- the process

def mess3(x: float = 0.05, alpha: float = 0.85) -> np.ndarray:
    """Mess3's transition tensor ``T[a, i, j] = P(token a, next state j | state i)``, shape (3, 3, 3).

    With y = 1 − 2x and β = (1 − α)/2: ``T[a, i, j] = M[i, j] · E[j, a]``, where the hidden state stays with
    probability y and jumps to each other state with probability x (``M``), and the new state j emits its own
    token with probability α and each other token with probability β (``E``).
    """
    if not 0 <= x <= 0.5:
        raise ValueError(f"x is a jump probability to each of two other states, so 0 ≤ x ≤ 0.5; got {x}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha is a probability, so 0 ≤ alpha ≤ 1; got {alpha}")
    y, beta = 1 - 2 * x, (1 - alpha) / 2
    move = np.full((3, 3), x) + np.eye(3) * (y - x)
    emit = np.full((3, 3), beta) + np.eye(3) * (alpha - beta)
    return np.einsum("ij,ja->aij", move, emit)


RRXOR_STATES = ("S", "0", "1", "T", "F")


def rrxor(p_one: float = 0.5) -> np.ndarray:
    """RRXOR's transition tensor ``T[a, i, j]``, shape (2, 5, 5): two random bits, then their XOR, over and over.

    States S, "0", "1", T, F (in that order, :data:`RRXOR_STATES`). From S the first bit is 1 with probability
    ``p_one`` (0 otherwise), moving to "0" or "1", the state that remembers it; the second bit is again 1 with
    probability ``p_one``, moving to T if the XOR of the two bits is 1 and to F if it is 0; T emits 1 and F emits 0,
    both returning to S.
    """
    if not 0 <= p_one <= 1:
        raise ValueError(f"p_one is the probability that a random bit is 1, so 0 ≤ p_one ≤ 1; got {p_one}")
    start, zero, one, true, false = range(len(RRXOR_STATES))
    transitions = np.zeros((2, 5, 5))
    transitions[0, start, zero], transitions[1, start, one] = 1 - p_one, p_one
    transitions[0, zero, false], transitions[1, zero, true] = 1 - p_one, p_one  # 0 XOR 0 = 0, 0 XOR 1 = 1
    transitions[0, one, true], transitions[1, one, false] = 1 - p_one, p_one    # 1 XOR 0 = 1, 1 XOR 1 = 0
    transitions[1, true, start] = transitions[0, false, start] = 1.0
    return transitions


def stationary_distribution(transitions: np.ndarray) -> np.ndarray:
    """The distribution over hidden states left unchanged by one step (the left eigenvector of Σₐ T⁽ᵃ⁾ for 1)."""
    values, vectors = np.linalg.eig(transitions.sum(axis=0).T)
    vector = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    return vector / vector.sum()


def emission_matrix(transitions: np.ndarray) -> np.ndarray:
    """``B[i, a] = P(next token a | current state i) = Σⱼ T[a, i, j]``: the behaviour of each hidden state."""
    return transitions.sum(axis=2).T


def sample_sequences(transitions: np.ndarray, n_sequences: int, length: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sample token sequences (n, length) and the hidden states they started from and passed through (n, length + 1).

    The first state is drawn from the stationary distribution, so every position is statistically alike.
    """
    n_states = transitions.shape[1]
    # For each current state, one joint distribution over (token, next state) pairs, flattened to a·S + j.
    joint = np.cumsum(transitions.transpose(1, 0, 2).reshape(n_states, -1), axis=1)
    states = np.empty((n_sequences, length + 1), dtype=np.int64)
    tokens = np.empty((n_sequences, length), dtype=np.int64)
    start = np.cumsum(stationary_distribution(transitions))
    states[:, 0] = np.minimum((rng.random(n_sequences)[:, None] > start).sum(1), n_states - 1)
    for t in range(length):
        pick = (rng.random(n_sequences)[:, None] > joint[states[:, t]]).sum(1)
        pick = np.minimum(pick, joint.shape[1] - 1)  # guards against cumsum rounding just below 1
        tokens[:, t], states[:, t + 1] = np.divmod(pick, n_states)
    return tokens, states


# ---------------------------------------------------------------- exact filtering (the un-amortized answer)

def belief_update(belief: np.ndarray, token: int | np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """One forward-algorithm step: the belief after seeing ``token``, ∝ belief · T⁽ᵗᵒᵏᵉⁿ⁾, normalised to sum to 1.

    Works for one belief (S,) and one token, or a batch of beliefs (..., S) with tokens of shape (...).
    """
    token = np.asarray(token)
    if token.size and (token.min() < 0 or token.max() >= len(transitions)):  # -1 would silently mean the last
        raise ValueError(f"tokens must be 0 … {len(transitions) - 1}; got {token.min() if token.min() < 0 else token.max()}")
    unnormalised = np.einsum("...i,...ij->...j", belief, transitions[token])
    return unnormalised / unnormalised.sum(axis=-1, keepdims=True)


def next_token_probs(belief: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """P(next token | belief) = belief @ B: a fixed linear map from beliefs to behaviour."""
    return belief @ emission_matrix(transitions)


def filter_beliefs(tokens: np.ndarray, transitions: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
    """Beliefs after each token of each sequence, shape (n, length, S), starting from ``prior`` (default stationary)."""
    tokens = np.atleast_2d(tokens)
    belief = np.broadcast_to(stationary_distribution(transitions) if prior is None else prior,
                             (len(tokens), transitions.shape[1]))
    beliefs = np.empty(tokens.shape + (transitions.shape[1],))
    for t in range(tokens.shape[1]):
        belief = belief_update(belief, tokens[:, t], transitions)
        beliefs[:, t] = belief
    return beliefs


def entropy_rate_bits(transitions: np.ndarray, n_sequences: int = 2000, length: int = 400, burn_in: int = 200,
                      seed: int = 0) -> float:
    """The process's entropy rate in bits per token, estimated as the exact filter's mean −log₂ P(next token)
    once its belief has forgotten the start (positions after ``burn_in``): the best any predictor can do."""
    tokens, _ = sample_sequences(transitions, n_sequences, length, np.random.default_rng(seed))
    predicted = next_token_probs(filter_beliefs(tokens, transitions), transitions)
    return cross_entropy_bits(predicted[:, burn_in - 1:-1], tokens[:, burn_in:])


def mixed_states(transitions: np.ndarray, max_tokens: int = 20, decimals: int = 9) -> np.ndarray:
    """Every distinct belief the exact filter reaches from the stationary prior within ``max_tokens`` tokens, prior first.

    This is the mixed-state presentation's set of states, found breadth first; beliefs equal to ``decimals`` places
    are one. Finite for RRXOR (36 states), infinite for Mess3 (the fractal), so ``max_tokens`` bounds the search.
    """
    frontier = stationary_distribution(transitions)[None]
    found = {tuple(np.round(frontier[0], decimals)): frontier[0]}
    for _ in range(max_tokens):
        unnormalised = np.einsum("pi,aij->paj", frontier, transitions).reshape(-1, transitions.shape[1])
        unnormalised = unnormalised[unnormalised.sum(axis=1) > 0]  # tokens impossible after this belief
        new = {}
        for belief in unnormalised / unnormalised.sum(axis=1, keepdims=True):
            key = tuple(np.round(belief, decimals))
            if key not in found and key not in new:
                new[key] = belief
        if not new:
            break
        found.update(new)
        frontier = np.array(list(new.values()))
    return np.array(list(found.values()))


def belief_fractal(transitions: np.ndarray, n_sequences: int = 300, length: int = 16, seed: int = 0) -> np.ndarray:
    """Beliefs reached along sampled sequences, flattened to (n · length, S): the points of the belief fractal."""
    tokens, _ = sample_sequences(transitions, n_sequences, length, np.random.default_rng(seed))
    return filter_beliefs(tokens, transitions).reshape(-1, transitions.shape[1])


def cross_entropy_bits(probs: np.ndarray, tokens: np.ndarray) -> float:
    """Mean −log₂ P(actual next token), with probs (n, L, 3) predicting tokens (n, L)."""
    picked = np.take_along_axis(probs, tokens[..., None], axis=-1)[..., 0]
    return float(-np.mean(np.log2(picked)))


# ---------------------------------------------------------------- the simplex and its measures

def simplex_to_xy(p: np.ndarray) -> np.ndarray:
    """Map points of the 2-simplex (..., 3) to the plane (..., 2): each is the probability-weighted mix of the corners."""
    return np.asarray(p) @ SIMPLEX_CORNERS


def simplex_rmse(predicted: np.ndarray, true: np.ndarray) -> float:
    """Root mean squared Euclidean distance between predicted and true distributions (last axis), over all points."""
    return float(np.sqrt(np.mean(np.sum((np.asarray(predicted) - np.asarray(true)) ** 2, axis=-1))))


def r_squared(predicted: np.ndarray, true: np.ndarray) -> float:
    """Fraction of the variance of ``true`` (pooled over components) that ``predicted`` explains."""
    true = np.asarray(true).reshape(-1, np.shape(true)[-1])
    residual = np.sum((np.asarray(predicted).reshape(true.shape) - true) ** 2)
    return float(1 - residual / np.sum((true - true.mean(axis=0)) ** 2))


# ---------------------------------------------------------------- the network (the amortized answer)

def make_gru(hidden_size: int = 32, seed: int = 0) -> GRUReadout:
    """A fresh GRU for Mess3's 3 tokens; the same seed gives the same initial weights."""
    seed_everything(seed)
    return GRUReadout(N_TOKENS, hidden_size)


def next_token_batch(transitions: np.ndarray, length: int) -> Callable[[int, torch.Generator], tuple[torch.Tensor]]:
    """A ``make_batch`` for :func:`simplex_edu.training.train`: fresh Mess3 sequences of ``length + 1`` tokens."""
    def make_batch(batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor]:
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))  # the loop's generator decides the data
        tokens, _ = sample_sequences(transitions, batch_size, length + 1, np.random.default_rng(seed))
        return (torch.from_numpy(tokens),)
    return make_batch


def next_token_loss(model: torch.nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of predicting token t + 1 from tokens up to t, at every position."""
    logits = model(tokens[:, :-1])
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def train_gru(transitions: np.ndarray, hidden_size: int = 32, steps: int = 400, length: int = 16,
              batch_size: int = 64, lr: float = 1e-2, seed: int = 0,
              progress: bool = True) -> tuple[GRUReadout, History]:
    """Train a GRU on next-token prediction only (it never sees a belief or a hidden state)."""
    model = make_gru(hidden_size, seed)
    config = TrainConfig(steps=steps, lr=lr, batch_size=batch_size, seed=seed, progress=progress,
                         description="GRU on Mess3")
    history = train(model, next_token_batch(transitions, length), next_token_loss, config)
    return model, history


@torch.no_grad()
def run_network(model: GRUReadout, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hidden states (n, L, H) after each token and next-token probabilities (n, L, 3)."""
    logits, hidden = model(torch.as_tensor(np.atleast_2d(tokens)), return_hidden=True)
    return hidden.numpy().astype(np.float64), logits.softmax(-1).numpy().astype(np.float64)


# ---------------------------------------------------------------- the probe

def fit_linear_probe(activations: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Least-squares weights W (H + 1, K) with activations @ W[:-1] + W[-1] ≈ targets; the last row is the bias."""
    design = np.hstack([activations, np.ones((len(activations), 1))])
    return np.linalg.lstsq(design, targets, rcond=None)[0]


def apply_probe(activations: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The probe's prediction for activations of shape (..., H)."""
    return activations @ weights[:-1] + weights[-1]


def probe_comparison(transitions: np.ndarray, trained: GRUReadout, untrained: GRUReadout, length: int = 16,
                     n_fit: int = 400, n_test: int = 400, seed: int = 1) -> dict:
    """Probe held-out beliefs from the trained network, the same network before training, and a shuffled-label control.

    Probes are fitted on ``n_fit`` sequences and scored on ``n_test`` fresh ones. Returns, per row, the held-out
    RMSE in the simplex and R², the held-out points for plotting, and the trained probe's ``weights``.
    """
    rng = np.random.default_rng(seed)
    fit_tokens, _ = sample_sequences(transitions, n_fit, length, rng)
    test_tokens, _ = sample_sequences(transitions, n_test, length, rng)
    fit_beliefs = filter_beliefs(fit_tokens, transitions).reshape(-1, 3)
    test_beliefs = filter_beliefs(test_tokens, transitions).reshape(-1, 3)
    shuffled = fit_beliefs[rng.permutation(len(fit_beliefs))]  # breaks the pairing, keeps the distribution
    def flat_hidden(model: GRUReadout, tokens: np.ndarray) -> np.ndarray:
        hidden = run_network(model, tokens)[0]
        return hidden.reshape(-1, hidden.shape[-1])
    trained_fit, trained_test = flat_hidden(trained, fit_tokens), flat_hidden(trained, test_tokens)
    untrained_fit, untrained_test = flat_hidden(untrained, fit_tokens), flat_hidden(untrained, test_tokens)
    weights = fit_linear_probe(trained_fit, fit_beliefs)
    probed = {"trained GRU": apply_probe(trained_test, weights),
              "untrained GRU": apply_probe(untrained_test, fit_linear_probe(untrained_fit, fit_beliefs)),
              "trained GRU, shuffled labels": apply_probe(trained_test, fit_linear_probe(trained_fit, shuffled))}
    probed["mean belief (no probe)"] = np.broadcast_to(fit_beliefs.mean(0), test_beliefs.shape)
    rows = {name: {"rmse": simplex_rmse(prediction, test_beliefs), "r2": r_squared(prediction, test_beliefs)}
            for name, prediction in probed.items()}
    return {"rows": rows, "probed": probed, "true": test_beliefs, "tokens": test_tokens, "weights": weights}


def principal_variance(activations: np.ndarray) -> np.ndarray:
    """Fraction of the activations' variance along each principal direction, largest first (sums to 1)."""
    flat = activations.reshape(-1, activations.shape[-1])
    power = np.linalg.svd(flat - flat.mean(axis=0), compute_uv=False) ** 2
    return power / power.sum()


@torch.no_grad()
def invisible_nudge(model: GRUReadout, tokens: np.ndarray, at: int, scale: float = 0.5, seed: int = 0) -> dict:
    """Push each hidden state after ``at + 1`` tokens along directions the readout cannot see, then read on.

    The nudge lies in the null space of the readout's weight matrix and has ``scale`` times the hidden state's
    length. Returns the largest change in next-token probabilities right away (``now``: zero up to rounding) and the
    RMS change at each later position (``later``), where the recurrence may carry the nudge into behaviour.
    """
    weight = model.readout.weight.double().numpy()
    invisible = np.linalg.svd(weight)[2][weight.shape[0]:]  # orthonormal basis of the readout's null space
    embedded = model.embed(torch.as_tensor(tokens))
    hidden = model.gru(embedded[:, :at + 1])[0][:, -1]
    nudge = torch.tensor(np.random.default_rng(seed).normal(size=(len(tokens), len(invisible))) @ invisible,
                         dtype=hidden.dtype)
    nudge *= scale * hidden.norm(dim=1, keepdim=True) / nudge.norm(dim=1, keepdim=True)
    now, later = [], []
    for start in (hidden, hidden + nudge):
        now.append(model.readout(start).softmax(-1).numpy())
        later.append(model.readout(model.gru(embedded[:, at + 1:], start[None].contiguous())[0]).softmax(-1).numpy())
    return {"now": float(np.abs(now[1] - now[0]).max()),
            "later": np.sqrt(np.mean(np.sum((later[1] - later[0]) ** 2, axis=-1), axis=0))}


def time_per_token(transitions: np.ndarray, model: GRUReadout) -> dict[str, float]:
    """Measured seconds to take in one more token: an exact filter update vs one GRU step with its readout."""
    belief = stationary_distribution(transitions)
    token = torch.zeros(1, 1, dtype=torch.long)
    hidden = torch.zeros(1, 1, model.gru.hidden_size)

    @torch.no_grad()
    def gru_step() -> torch.Tensor:
        out, _ = model.gru(model.embed(token), hidden)
        return model.readout(out).softmax(-1)
    return {"exact filter": time_call(lambda: next_token_probs(belief_update(belief, 0, transitions), transitions)),
            "GRU": time_call(gru_step)}


# ---------------------------------------------------------------- figures

def draw_simplex(ax: Axes, title: str = "") -> None:
    """An empty triangle with its corners labelled by hidden state, equal aspect, no axes."""
    outline = SIMPLEX_CORNERS[[0, 1, 2, 0]]
    ax.plot(outline[:, 0], outline[:, 1], color=COLORS["exact"], lw=0.8)
    for state, (cx, cy) in enumerate(SIMPLEX_CORNERS):
        # Above the points (zorder) on a light background: spilled probe points must not hide the corner's name.
        ax.annotate(f"state {state}", (cx, cy), xytext=(0, -11 if cy == 0 else 4), textcoords="offset points",
                    ha="center", fontsize=8, zorder=5,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 0.5})
    ax.set_aspect("equal")
    ax.set_xlim(-0.08, 1.08)
    ax.set_ylim(-0.1, 0.95)
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def scatter_beliefs(ax: Axes, points: np.ndarray, colors: np.ndarray, title: str = "", size: float = 1.5) -> None:
    """Belief points (n, 3) in the triangle, each coloured by a true belief read as an RGB colour."""
    draw_simplex(ax, title)
    xy = simplex_to_xy(points)
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=np.clip(colors, 0, 1), linewidths=0, rasterized=True)


def plot_fractal(beliefs: np.ndarray) -> Figure:
    """The lesson's hero figure: every belief the exact filter reached, large enough to see copies of copies."""
    fig, ax = new_figure(1, 1, 7.0, 6.2)
    colors = 0.8 * np.clip(beliefs, 0, 1)  # darker than the raw belief colours: pale green and yellow show on white
    scatter_beliefs(ax, beliefs, colors, f"{len(beliefs):,} beliefs reached by the exact filter", size=4)
    xy = simplex_to_xy(beliefs)
    corner = SIMPLEX_CORNERS[0]
    near = xy[np.linalg.norm(xy - corner, axis=1) < 0.2]  # the small copy of the whole triangle at state 0
    (x0, y0), (x1, y1) = near.min(axis=0) - 0.01, near.max(axis=0) + 0.01
    inset = ax.inset_axes((0.0, 0.58, 0.32, 0.38))  # the empty space left of the top corner
    inset.scatter(xy[:, 0], xy[:, 1], s=6, c=colors, linewidths=0, rasterized=True)
    inset.set(xlim=(x0, x1), ylim=(y0, y1), xticks=[], yticks=[], aspect="equal")
    inset.set_title("zoom: copies of copies", fontsize=9)
    inset.spines[:].set_visible(True)
    ax.indicate_inset_zoom(inset, edgecolor=COLORS["exact"])
    describe(fig, f"{len(beliefs):,} belief states of the exact filter drawn in a triangle whose corners are the three "
                  "hidden states: a fractal of nested triangles, each corner holding a smaller copy of the whole, "
                  "the inset zooming into the copy nearest state 0. Read the self-similarity: copies of copies.")
    return fig


def plot_probe_comparison(result: dict) -> Figure:
    """The lesson's figure: the exact belief fractal beside what a linear probe reads from each network (2 × 2)."""
    fig, axes = new_figure(2, 2, 8.4, 7.6)
    axes = axes.ravel()
    true = result["true"]
    scatter_beliefs(axes[0], true, true, "exact beliefs (forward algorithm)")
    for ax, name in zip(axes[1:], ["trained GRU", "untrained GRU", "trained GRU, shuffled labels"]):
        scatter_beliefs(ax, result["probed"][name], true,
                        f"probe on {name}\nheld-out RMSE {result['rows'][name]['rmse']:.3f}")
    describe(fig, "Four triangles: the exact beliefs, and what a linear probe reads from the trained GRU, an "
                  "untrained GRU and the trained GRU with shuffled labels, each coloured by the true belief. Only "
                  "the trained network's probe draws the fractal; the controls blur it or collapse it.")
    return fig


def plot_levels(true_beliefs: np.ndarray, hidden: np.ndarray, transitions: np.ndarray) -> Figure:
    """Three levels side by side: beliefs, the behaviour they imply (belief @ B), and the hidden state's variance."""
    fig, axes = new_figure(1, 3, 12, 4.6)
    scatter_beliefs(axes[0], true_beliefs, true_beliefs, "beliefs: P(hidden state | tokens so far)")
    scatter_beliefs(axes[1], next_token_probs(true_beliefs, transitions), true_beliefs,
                    "behaviour: P(next token) = belief @ B")
    for ax, prefix in zip(axes[:2], ("state", "token")):
        for text in ax.texts:
            text.set_text(text.get_text().replace("state", prefix))
    share = principal_variance(hidden)[:12]
    axes[2].bar(np.arange(1, len(share) + 1), share, color=COLORS["amortized"])
    axes[2].set_xlabel("principal direction of the GRU's hidden state")
    axes[2].set_ylabel("share of variance")
    axes[2].set_title(f"activations: {hidden.shape[-1]} numbers, first two directions hold "
                      f"{share[:2].sum():.0%}", fontsize=10)
    describe(fig, "Three panels: the beliefs in their triangle, the next-token probabilities they imply (belief @ B) "
                  "in a triangle of their own, and the spread of the hidden state. Read behaviour as a squeezed "
                  "copy of the belief fractal: a projection that loses detail.")
    return fig


# ---------------------------------------------------------------- the explorer

def parse_tokens(text: str) -> np.ndarray:
    """The tokens 0/1/2 typed in ``text``, in order; any other character is ignored."""
    return np.array([int(c) for c in text if c in "012"], dtype=np.int64)


def belief_walk(step: int, tokens: str, transitions: np.ndarray, model: GRUReadout, probe: np.ndarray) -> dict:
    """What the explorer shows after the first ``step`` typed tokens: true and probed belief paths, next-token probs.

    Position 0 is the prior (before any token); the network's position-0 belief is the probe applied to a zero
    hidden state, which is where the GRU starts.
    """
    seq = parse_tokens(tokens)[:max(step, 0)]
    prior = stationary_distribution(transitions)
    true = np.vstack([prior, filter_beliefs(seq, transitions)[0]]) if len(seq) else prior[None]
    hidden0 = np.zeros((1, probe.shape[0] - 1))
    if len(seq):
        hidden, probs = run_network(model, seq)
        hidden = np.vstack([hidden0, hidden[0]])
        net_next = probs[0, -1]
    else:
        hidden = hidden0
        net_next = next_token_probs(prior, transitions)  # before any token the readout has not run
    probed = apply_probe(hidden, probe)
    ignored = sorted({c for c in tokens if c not in "012" and not c.isspace()})
    return {"tokens": seq, "true": true, "probed": probed, "ignored": ignored,
            "true_next": next_token_probs(true[-1], transitions), "net_next": net_next}


def belief_walk_controls(tokens: str = "0000111122220120120121100000") -> dict:
    """The explorer's two controls: a token box and a step slider whose range follows the typed sequence.

    Typing a new sequence sets the slider's maximum to its length and moves it to the end, so every token can be
    replayed and a new sequence is shown whole.
    """
    import ipywidgets as W  # only the explorer needs widgets; keep importing the module cheap

    length = len(parse_tokens(tokens))
    step = W.IntSlider(value=length, min=0, max=length, description="step")
    text = W.Text(value=tokens, description="tokens", continuous_update=False)

    def fit_step(change: dict) -> None:
        n = len(parse_tokens(change["new"]))
        if n >= step.value:
            step.max, step.value = n, n
        else:  # shrink the value before the maximum, so the slider never clamps to an intermediate value
            step.value, step.max = n, n

    text.observe(fit_step, names="value")
    return {"step": step, "tokens": text}


def draw_belief_walk(fig: Figure, view: dict, background: np.ndarray | None = None) -> None:
    """Draw :func:`belief_walk`'s result; the first call builds the artists, later calls only move them.

    Titles are plain texts at fixed positions and there is one legend: matplotlib re-lays out axes titles and
    legends on every render, which would cost more than everything else in an update.
    """
    ax, bars_ax = fig.axes[:2]
    true_xy, probed_xy = simplex_to_xy(view["true"]), simplex_to_xy(view["probed"])
    if not ax.lines:
        draw_simplex(ax, "")
        if background is not None:
            bg = simplex_to_xy(background)
            ax.plot(bg[:, 0], bg[:, 1], ".", ms=1.5, mew=0, color=COLORS["baseline"], alpha=0.6)
        ax.plot([], [], "-", color=COLORS["exact"], lw=1, alpha=0.6)
        ax.plot([], [], "--", color=COLORS["amortized"], lw=1, alpha=0.6)
        ax.plot([], [], "o", color=COLORS["exact"], ms=7, label="exact filter")
        ax.plot([], [], "o", color=COLORS["amortized"], ms=7, mfc="none", mew=2, label="GRU")
        ax.legend(loc="upper left", fontsize=8)
        ax.text(0.5, 1.0, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=9)
        positions = np.arange(N_TOKENS)
        bars_ax.bar(positions - 0.2, [0] * 3, 0.4, color=COLORS["exact"])
        bars_ax.bar(positions + 0.2, [0] * 3, 0.4, color=COLORS["amortized"])
        bars_ax.set_xticks(positions, [f"token {a}" for a in positions])
        bars_ax.set_ylim(0, 1)
        bars_ax.set_yticks([0, 0.5, 1])
        bars_ax.set_ylabel("P(next token)")
        bars_ax.text(0.5, 1.0, "behaviour: next-token probabilities", transform=bars_ax.transAxes, ha="center",
                     va="bottom", fontsize=10)
    lines = ax.lines[-4:]
    lines[0].set_data(true_xy[:, 0], true_xy[:, 1])
    lines[1].set_data(probed_xy[:, 0], probed_xy[:, 1])
    lines[2].set_data(true_xy[-1:, 0], true_xy[-1:, 1])
    lines[3].set_data(probed_xy[-1:, 0], probed_xy[-1:, 1])
    for bar, height in zip(bars_ax.patches, np.concatenate([view["true_next"], view["net_next"]])):
        bar.set_height(height)
    typed = ("…" if len(view["tokens"]) > 20 else "") + "".join(map(str, view["tokens"][-20:]))
    belief = ", ".join(f"{p:.2f}" for p in view["true"][-1])
    shown = view.get("ignored", [])
    ignored = (f"  (ignored: {' '.join(shown[:6])}{' …' if len(shown) > 6 else ''})" if shown else "")
    ax.texts[-1].set_text(f"after '{typed}'\nbelief ({belief}){ignored}")
    describe(fig, f"Left, the triangle of beliefs with the exact filter's path (filled dot) and the GRU's probed path "
                  f"(open circle) after {len(view['tokens'])} tokens, over the fractal of all beliefs; right, the next-"
                  f"token probabilities of both. Exact belief ({belief}): read how close the open circle and the "
                  f"bars stay to the exact ones.")
