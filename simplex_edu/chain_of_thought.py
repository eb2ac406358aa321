"""Serial tasks of length N, answered directly (amortized) or step by step (chain of thought, un-amortized).

The task: read N symbols x_1..x_N in {0..k-1} and report the running sum mod k (k = 2 is parity).
The state after step i is s_i = (s_{i-1} + x_i) mod k, so the answer is one serial chain of N updates.

Three ways to train the same tiny causal transformer on lengths 1..16:
- **direct**: tokens x_1..x_N, loss only on the answer s_N at the last token (question → answer);
- **every prefix** (a control): the same tokens, loss on s_i at every position — dense supervision but
  the states are never fed back in, so each answer must still be computed in one pass;
- **chain of thought**: tokens x_1, s_1, x_2, s_2, …; at each x_i the model predicts s_i, and at test time
  it reads back the states it wrote itself (decoded step by step).
Token ids: inputs are 0..k-1, states are k..2k-1; the model outputs logits over the k state values.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from simplex_edu.compute import linear_flops, mlp_flops
from simplex_edu.nn import MLP, TinyTransformer
from simplex_edu.plots import COLORS, describe, new_figure
from simplex_edu.training import History, TrainConfig, train

TRAIN_MAX_LEN = 16
MLP_BATCH = 256
EVAL_LENGTHS = np.array([1, 2, 4, 8, 12, 16, 20, 24, 32, 48, 64])
KINDS = ("direct", "prefix", "cot")
LABELS = {"direct": "direct (question → answer)", "prefix": "every prefix's answer, no feedback",
          "cot": "chain of thought (decoded)", "mlp": "MLP trained per N (direct)"}
DATA_DIR = Path(__file__).resolve().parent / "data"
SWEEP_PATH = DATA_DIR / "cot_sweep.json"


# --- the task -------------------------------------------------------------------------------------------

def sample_inputs(batch: int, length: int, k: int = 2, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniformly random problems: a (batch, length) tensor of symbols in 0..k-1."""
    return torch.randint(0, k, (batch, length), generator=generator)


def running_states(x: torch.Tensor, k: int = 2) -> torch.Tensor:
    """The state after every step, s_i = (x_1 + … + x_i) mod k, same shape as ``x``; s_N is the answer."""
    return torch.cumsum(x, dim=-1) % k


def cot_tokens(x: torch.Tensor, k: int = 2) -> torch.Tensor:
    """Interleave inputs and states: x_1, k+s_1, x_2, k+s_2, … (shape (…, 2N)); states get ids k..2k-1."""
    states = running_states(x, k) + k
    return torch.stack([x, states], dim=-1).flatten(-2)


def chance_accuracy(k: int = 2) -> float:
    """Accuracy of guessing: 1/k."""
    return 1.0 / k


def chance_loss(k: int = 2) -> float:
    """Cross-entropy (nats) of the uniform guess: ln k."""
    return math.log(k)


# --- models and training --------------------------------------------------------------------------------

@dataclass
class ModelSpec:
    """The transformer every variant shares (only the data and the loss differ)."""

    d_model: int = 32
    n_layers: int = 2
    n_heads: int = 4


def make_transformer(k: int = 2, spec: ModelSpec = ModelSpec(), seed: int = 0) -> TinyTransformer:
    """A fresh seeded TinyTransformer over the 2k token ids, predicting one of k states."""
    torch.manual_seed(seed)
    return TinyTransformer(2 * k, spec.d_model, spec.n_layers, spec.n_heads, output_size=k)


def make_batch_fn(kind: str, k: int = 2, max_len: int = TRAIN_MAX_LEN) -> Callable[[int, torch.Generator], tuple]:
    """Batch maker for ``train``: (tokens, positions to score, targets at those positions)."""
    def make_batch(batch_size: int, generator: torch.Generator):
        x = sample_inputs(batch_size, max_len, k, generator)
        states = running_states(x, k)
        if kind == "direct":  # one question of random length N per row; causal, so later tokens don't matter
            last = torch.randint(0, max_len, (batch_size, 1), generator=generator)
            return x, last, states.gather(1, last)
        positions = torch.arange(max_len).expand(batch_size, -1)
        if kind == "prefix":
            return x, positions, states
        if kind == "cot":  # the state s_i is predicted at x_i's position, 2(i-1)
            return cot_tokens(x, k), 2 * positions, states
        raise ValueError(f"unknown kind {kind!r}; use one of {KINDS}")
    return make_batch


def scored_loss(model: torch.nn.Module, tokens: torch.Tensor, positions: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the model's logits at ``positions`` against ``targets``."""
    logits = model(tokens)
    picked = logits.gather(1, positions[..., None].expand(-1, -1, logits.shape[-1]))
    return F.cross_entropy(picked.flatten(0, 1), targets.flatten())


def train_transformer(kind: str, k: int = 2, steps: int = 150, seed: int = 0, spec: ModelSpec = ModelSpec(),
                      batch_size: int = 64, lr: float = 3e-3, progress: bool = True) -> tuple[TinyTransformer, History]:
    """Train one variant ("direct", "prefix" or "cot") on lengths 1..16; return (model, history)."""
    model = make_transformer(k, spec, seed)
    config = TrainConfig(steps=steps, lr=lr, batch_size=batch_size, seed=seed, progress=progress,
                         description=f"{kind} transformer")
    history = train(model, make_batch_fn(kind, k), scored_loss, config)
    return model, history


# --- answering: one pass, or step by step ---------------------------------------------------------------

@torch.no_grad()
def direct_answers(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Probabilities (batch, N, k) of the answer for every prefix length, from one forward pass over x."""
    return model(x).softmax(-1)


@torch.no_grad()
def decode_cot(model: torch.nn.Module, x: torch.Tensor, k: int = 2, chunk: int = 1024,
               temperature: float = 0.0, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Chain-of-thought decoding: at each step write a state and feed it back; N serial steps.

    Returns (states written (batch, N), probabilities (batch, N, k) at each step given the model's own chain).
    Temperature 0 takes the most likely state; otherwise states are sampled. Problems are decoded in chunks
    with a key–value cache, so memory stays bounded for long chains and many problems.
    """
    written, probabilities = [], []
    for part in x.split(chunk):
        cache = [None] * model.n_layers
        states, probs = [], []
        previous = None
        for i in range(part.shape[1]):
            step = part[:, i:i + 1] if previous is None else torch.cat([previous + k, part[:, i:i + 1]], dim=1)
            logits = model(step, cache=cache)[:, -1]
            p = logits.softmax(-1)
            if temperature > 0:
                previous = torch.multinomial((logits / temperature).softmax(-1), 1, generator=generator)
            else:
                previous = p.argmax(-1, keepdim=True)
            states.append(previous[:, 0])
            probs.append(p)
        written.append(torch.stack(states, 1))
        probabilities.append(torch.stack(probs, 1))
    return torch.cat(written), torch.cat(probabilities)


def accuracy_by_length(answers: torch.Tensor, truth: torch.Tensor, lengths) -> np.ndarray:
    """Fraction of problems whose answer at each length N (column N-1) equals the truth."""
    columns = torch.as_tensor(np.asarray(lengths) - 1)
    return (answers[:, columns] == truth[:, columns]).double().mean(0).numpy()


def loss_by_length(probabilities: torch.Tensor, truth: torch.Tensor, lengths) -> np.ndarray:
    """Mean cross-entropy (nats) of the true answer at each length N."""
    columns = torch.as_tensor(np.asarray(lengths) - 1)
    p_true = probabilities[:, columns].gather(-1, truth[:, columns, None])[..., 0]
    return (-p_true.clamp_min(1e-9).log()).double().mean(0).numpy()


def evaluate(model: torch.nn.Module, kind: str, k: int = 2, lengths=EVAL_LENGTHS, n_problems: int = 500,
             seed: int = 1234) -> dict[str, np.ndarray]:
    """Accuracy and loss of the model's final answer at each length, on fresh seeded problems."""
    x = sample_inputs(n_problems, int(max(lengths)), k, torch.Generator().manual_seed(seed))
    truth = running_states(x, k)
    if kind == "cot":
        answers, probabilities = decode_cot(model, x, k)
    else:
        probabilities = direct_answers(model, x)
        answers = probabilities.argmax(-1)
    return {"lengths": np.asarray(lengths), "accuracy": accuracy_by_length(answers, truth, lengths),
            "loss": loss_by_length(probabilities, truth, lengths)}


# --- what an answer costs -------------------------------------------------------------------------------

def token_flops(spec: ModelSpec, context: int, k: int = 2) -> int:
    """FLOPs to push one token through the transformer when it attends to ``context`` tokens (itself included).

    Per layer: the q,k,v and output projections, the 4×-wide MLP, and attention (q·k and the weighted sum of
    values, 2·d FLOPs each per attended token); then the readout. Layer norms and softmax are not counted.
    """
    d = spec.d_model
    per_layer = (linear_flops(d, 3 * d) + linear_flops(d, d) + linear_flops(d, 4 * d) + linear_flops(4 * d, d)
                 + 4 * d * context)
    return spec.n_layers * per_layer + linear_flops(d, k)


def direct_query_flops(n: int, spec: ModelSpec = ModelSpec(), k: int = 2) -> int:
    """FLOPs of answering one length-n question directly: one pass over its n tokens."""
    return sum(token_flops(spec, t, k) for t in range(1, n + 1))


def cot_query_flops(n: int, spec: ModelSpec = ModelSpec(), k: int = 2, kv_cache: bool = True) -> int:
    """FLOPs of answering one length-n question by chain of thought (tokens x_1, s_1, …, x_n: 2n − 1 read).

    With a key–value cache each token is processed once; without one, step i reprocesses the whole prefix
    of 2i − 1 tokens.
    """
    if kv_cache:
        return sum(token_flops(spec, t, k) for t in range(1, 2 * n))
    return sum(token_flops(spec, t, k) for i in range(1, n + 1) for t in range(1, 2 * i))


def query_costs(n: int, spec: ModelSpec = ModelSpec(), k: int = 2) -> dict[str, dict[str, int]]:
    """Per-query cost of each way of answering: tokens written, FLOPs, and serial depth (layers in sequence)."""
    return {
        "direct": {"tokens written": 1, "FLOPs": direct_query_flops(n, spec, k), "serial depth": spec.n_layers},
        "chain of thought (KV cache)": {"tokens written": n, "FLOPs": cot_query_flops(n, spec, k, True),
                                        "serial depth": n * spec.n_layers},
        "chain of thought (no cache)": {"tokens written": n, "FLOPs": cot_query_flops(n, spec, k, False),
                                        "serial depth": n * spec.n_layers},
    }


# --- errors compound along a chain ----------------------------------------------------------------------

def _check_error_rate(eps: float | np.ndarray) -> None:
    """Refuse an error rate that is not a probability (the formula would return numbers outside [0, 1])."""
    eps = np.asarray(eps, dtype=float)
    if eps.size and not (np.all(eps >= 0) and np.all(eps <= 1)):
        raise ValueError(f"an error rate is a probability between 0 and 1; got {eps.min() if eps.min() < 0 else eps.max()}")


def compounded_accuracy(eps: float | np.ndarray, n: int | np.ndarray, k: int = 2) -> np.ndarray:
    """Accuracy after n steps when each step writes a wrong state with probability eps (uniform over the wrong ones).

    For parity (k = 2) this is ½ + ½(1 − 2ε)^n: the answer is right iff an even number of steps went wrong.
    """
    _check_error_rate(eps)
    return 1.0 / k + (1.0 - 1.0 / k) * (1.0 - k * np.asarray(eps, dtype=float) / (k - 1)) ** np.asarray(n)


def simulate_noisy_chain(n_problems: int, length: int, eps: float, k: int = 2, seed: int = 0) -> np.ndarray:
    """Final-answer accuracy at every length 1..length of a chain that errs with probability eps per step."""
    _check_error_rate(eps)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, k, (n_problems, length))
    err = (rng.random((n_problems, length)) < eps) * rng.integers(1, k, (n_problems, length))
    written = np.cumsum(x + err, axis=1) % k  # an error shifts this state and every later one
    return (written == np.cumsum(x, axis=1) % k).mean(0)


def step_errors(x: torch.Tensor, written: torch.Tensor, k: int = 2) -> torch.Tensor:
    """True where a step's update was wrong given the chain's own previous state (not the true one)."""
    previous = torch.cat([torch.zeros_like(written[:, :1]), written[:, :-1]], dim=1)
    return written != (previous + x) % k


# --- MLPs trained per length: the direct baseline, and distillation -------------------------------------

def one_hot_inputs(x: torch.Tensor, k: int = 2) -> torch.Tensor:
    """(batch, n) symbols → (batch, n·k) floats, the MLP's input."""
    return F.one_hot(x, k).flatten(1).float()


def _mlp_loss(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(model(inputs), targets)


def train_mlp(n: int, k: int = 2, steps: int = 400, seed: int = 0, hidden: int = 128,
              data: tuple[torch.Tensor, torch.Tensor] | None = None, progress: bool = False) -> tuple[MLP, History]:
    """An MLP trained on length-n questions → answers: fresh problems every step, or minibatches of ``data``."""
    torch.manual_seed(seed)
    model = MLP(mlp_sizes(n, k, hidden))

    def make_batch(batch_size: int, generator: torch.Generator):
        if data is None:
            x = sample_inputs(batch_size, n, k, generator)
            return one_hot_inputs(x, k), running_states(x, k)[:, -1]
        rows = torch.randint(0, len(data[0]), (batch_size,), generator=generator)
        return one_hot_inputs(data[0][rows], k), data[1][rows]

    config = TrainConfig(steps=steps, lr=3e-3, batch_size=MLP_BATCH, seed=seed, progress=progress,
                         description=f"MLP, N={n}")
    history = train(model, make_batch, _mlp_loss, config)
    return model, history


@torch.no_grad()
def mlp_accuracy(model: torch.nn.Module, n: int, k: int = 2, n_problems: int = 2000, seed: int = 1234) -> float:
    """Accuracy of a per-length MLP on fresh length-n problems."""
    x = sample_inputs(n_problems, n, k, torch.Generator().manual_seed(seed))
    return float((model(one_hot_inputs(x, k)).argmax(-1) == running_states(x, k)[:, -1]).double().mean())


def distill(teacher: torch.nn.Module, n: int, n_examples: int, k: int = 2, steps: int = 300,
            seed: int = 0) -> dict[str, Any]:
    """Re-amortize: label ``n_examples`` problems with the teacher's chain of thought, train a direct MLP on them.

    Returns the student, the wall time of labelling and training, the student's accuracy on fresh problems,
    the teacher's accuracy on its labels, the FLOPs the teacher spent writing them, and the student's
    training and per-query FLOPs.
    """
    start = time.perf_counter()
    x = sample_inputs(n_examples, n, k, torch.Generator().manual_seed(seed + 10_000))
    labels = decode_cot(teacher, x, k)[0][:, -1]
    student, _ = train_mlp(n, k, steps=steps, seed=seed, data=(x, labels))
    return {"student": student, "seconds": time.perf_counter() - start,
            "student accuracy": mlp_accuracy(student, n, k),
            "teacher label accuracy": float((labels == running_states(x, k)[:, -1]).double().mean()),
            "teacher FLOPs": float(n_examples * cot_query_flops(n, make_spec(teacher), k)),
            "student training FLOPs": 3.0 * steps * MLP_BATCH * mlp_flops(mlp_sizes(n, k)),
            "student query FLOPs": float(mlp_flops(mlp_sizes(n, k)))}


def make_spec(model: TinyTransformer) -> ModelSpec:
    """The ModelSpec of a trained transformer (for cost accounting)."""
    return ModelSpec(model.d_model, model.n_layers, model.n_heads)


# --- the multi-seed sweep shipped with the package ------------------------------------------------------

SWEEP_SETTINGS = {"k": 2, "steps": 150, "seeds": [0, 1, 2], "long_direct_steps": 1500,
                  "mlp_lengths": [4, 8, 12, 16, 20, 24, 32], "mlp_steps": 400, "n_problems": 500}


def run_sweep(k: int = 2, steps: int = 150, seeds=(0, 1, 2), long_direct_steps: int = 1500,
              mlp_lengths=(4, 8, 12, 16, 20, 24, 32), mlp_steps: int = 400, n_problems: int = 500,
              progress: bool = False) -> dict:
    """Train every variant for every seed (and per-length MLPs) and return accuracy/loss against length.

    ``long_direct_steps`` trains one more direct transformer per seed for that many steps (0 to skip): the
    answer to "maybe the direct model just needs more training?".
    """
    results: dict = {"settings": dict(k=k, steps=steps, seeds=list(seeds), long_direct_steps=long_direct_steps,
                                      mlp_lengths=list(mlp_lengths), mlp_steps=mlp_steps, n_problems=n_problems),
                     "lengths": EVAL_LENGTHS.tolist(), "runs": []}
    runs = [(kind, steps) for kind in KINDS] + ([("direct", long_direct_steps)] if long_direct_steps else [])
    for seed in seeds:
        for kind, n_steps in runs:
            model, _ = train_transformer(kind, k, steps=n_steps, seed=seed, progress=progress)
            curve = evaluate(model, kind, k, n_problems=n_problems)
            results["runs"].append({"kind": kind, "steps": n_steps, "seed": seed,
                                    "accuracy": np.round(curve["accuracy"], 4).tolist(),
                                    "loss": np.round(curve["loss"], 4).tolist()})
        mlp = [mlp_accuracy(train_mlp(n, k, steps=mlp_steps, seed=seed)[0], n, k) for n in mlp_lengths]
        results["runs"].append({"kind": "mlp", "steps": mlp_steps, "seed": seed, "lengths": list(mlp_lengths),
                                "accuracy": np.round(mlp, 4).tolist()})
    return results


def save_sweep(results: dict, path: Path = SWEEP_PATH) -> Path:
    """Write sweep results as JSON (a few kB)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))
    return path


def load_sweep(path: Path = SWEEP_PATH) -> dict:
    """The sweep shipped with the package (regenerate with ``save_sweep(run_sweep())``)."""
    return json.loads(Path(path).read_text())


def sweep_curves(results: dict, kind: str, steps: int | None = None) -> list[np.ndarray]:
    """The accuracy curves of one kind (and number of training steps) from a sweep, one per seed."""
    return [np.asarray(r["accuracy"]) for r in results["runs"]
            if r["kind"] == kind and (steps is None or r["steps"] == steps)]


# --- the figure that carries the lesson -----------------------------------------------------------------

KIND_COLORS = {"direct": COLORS["amortized"], "prefix": COLORS["baseline"], "cot": COLORS["unamortized"],
               "mlp": COLORS["accent"]}
KIND_MARKERS = {"direct": "o-", "prefix": "^-", "cot": "D-"}  # a second cue beside colour (the MLP's: "s--")


def plot_length_curves(curves: dict[str, list[dict]], mlp: tuple[list[int], list[np.ndarray]] | None = None,
                       k: int = 2, train_max: int = TRAIN_MAX_LEN):
    """Accuracy and loss against N, one line per seed and kind, chance lines, the training range shaded.

    ``curves[kind]`` is a list of ``evaluate`` results (one per seed); ``mlp`` is (lengths, accuracies per seed).
    """
    fig, (acc_ax, loss_ax) = new_figure(1, 2, width=10, height=4.2)
    floor = 1e-4  # losses below this are drawn on the axis (a log scale has no zero)
    for ax in (acc_ax, loss_ax):
        ax.axvspan(1, train_max, color=COLORS["baseline"], alpha=0.15, lw=0)
        ax.set_xscale("log", base=2)
        ax.set_xticks([1, 2, 4, 8, 16, 32, 64], ["1", "2", "4", "8", "16", "32", "64"])
        ax.set_xlabel("problem length N (log scale)")
    for kind, runs in curves.items():
        for i, run in enumerate(runs):
            style = dict(color=KIND_COLORS[kind], lw=1.5, ms=3, alpha=0.85, label=LABELS[kind] if i == 0 else None)
            acc_ax.plot(run["lengths"], run["accuracy"], KIND_MARKERS[kind], **style)
            loss_ax.plot(run["lengths"], np.maximum(run["loss"], floor), KIND_MARKERS[kind], **style)
    if mlp is not None:
        for i, accuracy in enumerate(mlp[1]):
            acc_ax.plot(mlp[0], accuracy, "s--", ms=3, lw=1.2, color=KIND_COLORS["mlp"],
                        label=LABELS["mlp"] if i == 0 else None)
    acc_ax.axhline(chance_accuracy(k), color=COLORS["exact"], ls=":", lw=1)
    loss_ax.axhline(chance_loss(k), color=COLORS["exact"], ls=":", lw=1)
    acc_ax.annotate("chance", (1, chance_accuracy(k)), xytext=(3, -3), textcoords="offset points", ha="left",
                    va="top", fontsize=8)
    loss_ax.annotate(f"chance (ln {k})", (1, chance_loss(k)), xytext=(3, 3), textcoords="offset points",
                     ha="left", va="bottom", fontsize=8)
    acc_ax.annotate(f"trained on N ≤ {train_max}", (4, 1.0), xytext=(0, 6), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)
    acc_ax.set(ylabel="accuracy of the final answer", ylim=(0.35, 1.07), title="accuracy")
    loss_ax.set(ylabel="loss of the final answer (nats)", yscale="log", ylim=(floor / 2, 20), title="loss")
    fig.legend(*acc_ax.get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=9)
    describe(fig, "Accuracy and loss against problem length N, one line per model and seed, chance marked and the "
                  "training lengths shaded. Read where each line leaves the shaded range: chain of thought stays "
                  "right beyond it, the direct answers fall to chance.")
    return fig


# --- the explorer ---------------------------------------------------------------------------------------

@dataclass
class ExplorerTable:
    """Precomputed answers for a few problems, so the explorer only slices arrays."""

    x: np.ndarray                   # (problems, L) inputs
    truth: np.ndarray               # (problems, L) true states
    cot: dict[float, np.ndarray]    # decoding temperature -> (problems, L) states the chain of thought wrote
    cot_p: dict[float, np.ndarray]  # temperature -> probability it gave the true state, given its own chain
    direct: np.ndarray              # (problems, L) the direct model's answer for every prefix length
    direct_p: np.ndarray            # (problems, L) probability the direct model gave the true answer


def explorer_table(cot_model: torch.nn.Module, direct_model: torch.nn.Module, n_problems: int = 12,
                   length: int = 64, k: int = 2, seed: int = 7, temperatures=(0.0, 2.0)) -> ExplorerTable:
    """Run both models once on a few problems of the longest length; every shorter N is a prefix of these.

    The chain of thought is decoded once per temperature (0: most likely state; above 1: sampled, so it errs).
    """
    x = sample_inputs(n_problems, length, k, torch.Generator().manual_seed(seed))
    truth = running_states(x, k)
    true_p = lambda probs: probs.gather(-1, truth[..., None])[..., 0].numpy()  # noqa: E731
    cot, cot_p = {}, {}
    for temperature in temperatures:
        written, probs = decode_cot(cot_model, x, k, temperature=temperature,
                                    generator=torch.Generator().manual_seed(seed))
        cot[temperature], cot_p[temperature] = written.numpy(), true_p(probs)
    direct_probs = direct_answers(direct_model, x)
    return ExplorerTable(x.numpy(), truth.numpy(), cot, cot_p, direct_probs.argmax(-1).numpy(), true_p(direct_probs))


def explorer_view(table: ExplorerTable, n: int, problem: int, temperature: float = 0.0) -> dict:
    """What the explorer shows for a length-n prefix of one problem: the rows, and where each answer goes wrong."""
    rows = np.stack([table.x[problem, :n], table.truth[problem, :n], table.cot[temperature][problem, :n],
                     table.direct[problem, :n]])
    wrong = rows[2:] != rows[1]
    first = [int(np.argmax(w)) + 1 if w.any() else None for w in wrong]
    return {"n": n, "rows": rows, "wrong": wrong, "truth": int(rows[1, -1]), "cot": int(rows[2, -1]),
            "direct": int(rows[3, -1]), "first_cot_error": first[0], "first_direct_error": first[1],
            "p_cot": float(table.cot_p[temperature][problem, n - 1]),
            "p_direct": float(table.direct_p[problem, n - 1])}


def draw_explorer(fig, view: dict) -> None:
    """Draw the four rows (inputs, true states, chain of thought, direct) with wrong answers crossed out.

    The axes are built on the first call and only updated afterwards (with a fixed layout): fast enough to
    redraw on every slider move.
    """
    if getattr(fig, "_cot_artists", None) is None:
        fig.clear()
        fig.set_layout_engine(None)  # the axes below are placed by hand; constrained layout would warn about them
        ax = fig.add_axes((0.2, 0.2, 0.78, 0.65))
        image = ax.imshow(np.zeros((4, 1)), cmap="Greys", vmin=-0.6, vmax=1.6, aspect="auto",
                          interpolation="nearest")
        crosses, = ax.plot([], [], "x", color=COLORS["unamortized"], ms=8, mew=2)
        ax.set_yticks(range(4), ["input x_i", "true state s_i", "chain of thought", "direct (each prefix)"])
        ax.grid(False)
        fig._cot_artists = (ax, image, crosses)
    ax, image, crosses = fig._cot_artists
    first = lambda step: "never" if step is None else f"at step {step}"  # noqa: E731
    ax.set_xlabel(f"step i   (dark = 1, light = 0; × = wrong)   first wrong: chain of thought "
                  f"{first(view['first_cot_error'])}, direct {first(view['first_direct_error'])}")
    n, wrong = view["n"], view["wrong"]
    image.set_data(view["rows"])
    image.set_extent((0.5, n + 0.5, 3.5, -0.5))
    ax.set_xlim(0.5, n + 0.5)
    rows, steps = np.nonzero(wrong)
    crosses.set_data(steps + 1, rows + 2)
    mark = lambda ok: "right" if ok else "WRONG"  # noqa: E731
    ax.set_title(f"N = {n}: answer {view['truth']} · chain of thought says {view['cot']} "
                 f"({mark(view['cot'] == view['truth'])}, p = {view['p_cot']:.2f}) · direct says "
                 f"{view['direct']} ({mark(view['direct'] == view['truth'])}, p = {view['p_direct']:.2f})",
                 fontsize=9)
    describe(fig, f"Four rows of {n} steps: the input bits, the true running states, the states the chain of "
                  f"thought wrote and the direct model's answer for each prefix, wrong ones crossed in red. The chain "
                  f"of thought first errs {first(view['first_cot_error'])}, the direct model "
                  f"{first(view['first_direct_error'])}; final answers: chain {mark(view['cot'] == view['truth'])}, "
                  f"direct {mark(view['direct'] == view['truth'])}.")


def mlp_sizes(n: int, k: int = 2, hidden: int = 128) -> list[int]:
    """Layer sizes of the per-length MLP."""
    return [n * k, hidden, hidden, k]
