"""Lesson 02 · Amortized inference: pay once in training, answer every later query with one forward pass.

The model is a Gaussian mean: θ ~ N(μ₀, τ₀²), then n points xᵢ ~ N(θ, σ²). Its posterior is known in closed
form, so every method here — a grid, a Metropolis sampler, an inference network — is checked against the truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from matplotlib.ticker import FuncFormatter
from torch import nn

from simplex_edu.compute import break_even, cumulative_cost, mlp_flops, time_call
from simplex_edu.nn import MLP
from simplex_edu.plots import COLORS, describe, plot_cumulative_costs
from simplex_edu.training import History, TrainConfig, train

LOG_2PI = math.log(2 * math.pi)
GRID_COLOR = COLORS["accent"]  # the grid is a per-query method too, but must not be mistaken for MCMC's vermilion


# ---------------------------------------------------------------- the model and its exact posterior
@dataclass(frozen=True)
class GaussianMean:
    """θ ~ N(prior_mean, prior_std²), then each data point x ~ N(θ, noise_std²) independently."""

    prior_mean: float = 0.0
    prior_std: float = 1.0
    noise_std: float = 1.0

    def __post_init__(self) -> None:
        _check_stds(self.prior_std, self.noise_std)

    def log_joint(self, theta: float, x: np.ndarray) -> float:
        """log p(θ) + log p(x | θ) up to a constant: what a per-query sampler evaluates at every step."""
        return (-0.5 * ((theta - self.prior_mean) / self.prior_std) ** 2
                - 0.5 * float(np.sum((x - theta) ** 2)) / self.noise_std ** 2)


def _check_stds(prior_std: float, noise_std: float) -> None:
    """Refuse widths the model cannot have: a standard deviation is a positive, finite number."""
    for name, value in (("prior_std", prior_std), ("noise_std", noise_std)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive standard deviation, got {value}")


MODEL = GaussianMean()


def gaussian_posterior(x: np.ndarray, prior_mean: float = 0.0, prior_std: float = 1.0,
                       noise_std: float = 1.0) -> tuple[float, float]:
    """Exact posterior (mean, std) of θ given data ``x``: precisions add, the mean is precision-weighted."""
    _check_stds(prior_std, noise_std)
    x = np.asarray(x, dtype=float)
    precision = 1 / prior_std ** 2 + x.size / noise_std ** 2
    mean = (prior_mean / prior_std ** 2 + x.sum() / noise_std ** 2) / precision
    return float(mean), float(1 / math.sqrt(precision))


def exact_posterior_batch(x: np.ndarray, mask: np.ndarray,
                          model: GaussianMean = MODEL) -> tuple[np.ndarray, np.ndarray]:
    """Exact posterior means and stds for a padded batch of data sets (``mask`` marks the real points)."""
    n = mask.sum(axis=1)
    precision = 1 / model.prior_std ** 2 + n / model.noise_std ** 2
    mean = (model.prior_mean / model.prior_std ** 2 + (x * mask).sum(axis=1) / model.noise_std ** 2) / precision
    return mean, 1 / np.sqrt(precision)


def make_queries(n_queries: int, n_points: int | tuple[int, int], seed: int = 0, theta: float | None = None,
                 model: GaussianMean = MODEL) -> dict[str, np.ndarray]:
    """A padded batch of test data sets: θ from the prior (or fixed at ``theta``), sizes fixed or from a range."""
    rng = np.random.default_rng(seed)
    low, high = (n_points, n_points) if isinstance(n_points, int) else n_points
    n = rng.integers(low, high + 1, size=n_queries)
    thetas = (model.prior_mean + model.prior_std * rng.standard_normal(n_queries) if theta is None
              else np.full(n_queries, float(theta)))
    mask = (np.arange(high)[None, :] < n[:, None]).astype(float)
    x = (thetas[:, None] + model.noise_std * rng.standard_normal((n_queries, high))) * mask
    return {"x": x, "mask": mask, "theta": thetas, "n": n}


# ---------------------------------------------------------------- per-query inference: a grid and a sampler
def grid_posterior(x: np.ndarray, model: GaussianMean = MODEL, points: int = 1000,
                   half_width: float = 12.0) -> tuple[float, float]:
    """Posterior (mean, std) by evaluating the log joint on a grid of θ values.

    The grid spans ``half_width`` prior stds around the prior mean, widened to reach the data when they lie
    further out. It refuses (ValueError) when the posterior would be cut off by the grid's edge or narrower than
    its spacing — a grid cannot answer those queries, and returning its edge would look like an answer.
    """
    x = np.asarray(x, dtype=float)
    low, high = model.prior_mean - half_width * model.prior_std, model.prior_mean + half_width * model.prior_std
    if x.size:  # the posterior lies between the prior mean and the data: make the grid reach both
        low = min(low, float(x.min()) - half_width * model.noise_std / math.sqrt(x.size))
        high = max(high, float(x.max()) + half_width * model.noise_std / math.sqrt(x.size))
    grid = np.linspace(low, high, points)
    log_p = (-0.5 * ((grid - model.prior_mean) / model.prior_std) ** 2
             - 0.5 * ((x[None, :] - grid[:, None]) ** 2).sum(axis=1) / model.noise_std ** 2)
    weights = np.exp(log_p - log_p.max())
    weights /= weights.sum()
    mean = float(weights @ grid)
    std = float(np.sqrt(weights @ (grid - mean) ** 2))
    spacing = grid[1] - grid[0]
    if std < spacing or max(weights[0], weights[-1]) > 1e-9:
        raise ValueError(f"a {points}-point grid on [{low:.3g}, {high:.3g}] cannot resolve this posterior "
                         f"(width ≈ {std:.2g}, grid spacing {spacing:.2g}): use more points or a narrower range")
    return mean, std


def metropolis(log_density: Callable[[float], float], start: float, noise: np.ndarray,
               uniforms: np.ndarray) -> np.ndarray:
    """Random-walk Metropolis: propose θ + noise[t], accept if log uniforms[t] < log p(proposal) − log p(θ)."""
    samples = np.empty(len(noise))
    theta, log_p = float(start), log_density(start)
    for t in range(len(noise)):
        proposal = theta + noise[t]
        log_p_proposal = log_density(proposal)
        if math.log(uniforms[t]) < log_p_proposal - log_p:
            theta, log_p = proposal, log_p_proposal
        samples[t] = theta
    return samples


def mcmc_posterior(x: np.ndarray, model: GaussianMean = MODEL, steps: int = 2000, step_size: float = 0.5,
                   start: float | None = None, seed: int = 0) -> tuple[float, float]:
    """Posterior (mean, std) of one data set from a Metropolis chain, dropping its first tenth as burn-in."""
    rng = np.random.default_rng(seed)
    start = model.prior_mean if start is None else start
    samples = metropolis(lambda theta: model.log_joint(theta, x), start,
                         step_size * rng.standard_normal(steps), rng.uniform(size=steps))
    kept = samples[steps // 10:]
    return float(kept.mean()), float(kept.std())


def metropolis_batch(x: np.ndarray, mask: np.ndarray, start: np.ndarray, step_size: np.ndarray | float,
                     steps: int, seed: int = 0, model: GaussianMean = MODEL) -> np.ndarray:
    """Many independent Metropolis chains at once, one per data set: samples of shape (steps, queries)."""
    rng = np.random.default_rng(seed)
    # The Gaussian likelihood depends on the data only through n and Σx, so each step is O(1) per chain.
    n, total = mask.sum(axis=1), (x * mask).sum(axis=1)

    def log_joint(theta: np.ndarray) -> np.ndarray:
        return (-0.5 * ((theta - model.prior_mean) / model.prior_std) ** 2
                - 0.5 * (n * theta ** 2 - 2 * theta * total) / model.noise_std ** 2)

    theta = np.array(start, dtype=float)
    log_p = log_joint(theta)
    samples = np.empty((steps, len(theta)))
    for t in range(steps):
        proposal = theta + step_size * rng.standard_normal(len(theta))
        log_p_proposal = log_joint(proposal)
        accept = np.log(rng.uniform(size=len(theta))) < log_p_proposal - log_p
        theta = np.where(accept, proposal, theta)
        log_p = np.where(accept, log_p_proposal, log_p)
        samples[t] = theta
    return samples


# ---------------------------------------------------------------- the amortized answer: an inference network
class DeepSetPosterior(nn.Module):
    """Neural posterior estimator for a data *set*: embed each point, average, read out (mean, log std).

    Averaging makes the answer independent of the order of the points and lets one network take data sets
    of any size; log n goes in beside the average, because the posterior narrows as n grows.
    """

    def __init__(self, hidden: int = 32):
        super().__init__()
        self.embed = MLP([1, hidden, hidden])
        self.readout = MLP([hidden + 1, hidden, 2])

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log std for a padded batch ``x`` (batch, points); ``mask`` is 1 on real points."""
        n = mask.sum(dim=1, keepdim=True).clamp(min=1)
        pooled = (self.embed(x.unsqueeze(-1)) * mask.unsqueeze(-1)).sum(dim=1) / n
        out = self.readout(torch.cat([pooled, torch.log(n)], dim=-1))
        return out[:, 0], out[:, 1]


def gaussian_nll(mean: torch.Tensor, log_std: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of −log N(θ; mean, exp(log_std)²): the loss of neural posterior estimation."""
    return (0.5 * ((theta - mean) / torch.exp(log_std)) ** 2 + log_std + 0.5 * LOG_2PI).mean()


def simulate_pairs(n_pairs: int, max_points: int, generator: torch.Generator, prior_mean: float = 0.0,
                   prior_std: float = 1.0, noise_std: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training pairs by running the model forward: padded data sets x, their masks, and the θ behind each."""
    theta = prior_mean + prior_std * torch.randn(n_pairs, generator=generator)
    x = theta[:, None] + noise_std * torch.randn(n_pairs, max_points, generator=generator)
    n = torch.randint(1, max_points + 1, (n_pairs, 1), generator=generator)
    mask = (torch.arange(max_points)[None, :] < n).float()
    return x * mask, mask, theta


def training_batches(model: GaussianMean = MODEL, max_points: int = 20) -> Callable:
    """A ``make_batch(batch_size, generator)`` for ``train``: simulated pairs with 1..max_points points each."""

    def make_batch(batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        return simulate_pairs(batch_size, max_points, generator, model.prior_mean, model.prior_std, model.noise_std)

    return make_batch


def npe_loss(net: DeepSetPosterior, x: torch.Tensor, mask: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Training loss: how surprised the network's posterior is by the θ that really generated each data set."""
    return gaussian_nll(*net(x, mask), theta)


def train_posterior_net(steps: int = 1000, hidden: int = 32, max_points: int = 20, seed: int = 0,
                        model: GaussianMean = MODEL, snapshot_steps: list[int] | None = None,
                        progress: bool = True) -> tuple[DeepSetPosterior, History, dict[int, float]]:
    """Train the inference network on simulated pairs; return it, its history and its error at ``snapshot_steps``.

    The last fifth of the steps runs at a tenth of the learning rate: with a fixed rate the answers keep
    jittering by a few hundredths of a posterior width from step to step.
    """
    torch.manual_seed(seed)
    net = DeepSetPosterior(hidden)
    validation = make_queries(500, (1, max_points), seed=seed + 1000, model=model)
    wanted, snapshots = set(snapshot_steps or []), {}

    def record(step: int, current: DeepSetPosterior) -> None:
        if step in wanted:
            snapshots[step] = posterior_errors(current, validation, model)["mean_error"]

    config = TrainConfig(steps=steps, lr=3e-3, lr_drop_at=0.8, seed=seed, progress=progress,
                         description="inference network")
    history = train(net, training_batches(model, max_points), npe_loss, config, on_step=record)
    if steps in wanted:
        snapshots[steps] = posterior_errors(net, validation, model)["mean_error"]
    return net, history, snapshots


@torch.inference_mode()
def net_posterior_batch(net: DeepSetPosterior, x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The network's posterior means and stds for a padded batch of data sets (one forward pass)."""
    mean, log_std = net(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(mask, dtype=torch.float32))
    return mean.double().numpy(), torch.exp(log_std).double().numpy()


@torch.inference_mode()
def net_posterior(net: DeepSetPosterior, x: np.ndarray) -> tuple[float, float]:
    """The network's posterior (mean, std) for one data set: a single forward pass."""
    xt = torch.from_numpy(np.array(x, dtype=np.float32))[None, :]
    mean, log_std = net(xt, torch.ones_like(xt))
    return float(mean), float(torch.exp(log_std))


def posterior_errors(net: DeepSetPosterior, queries: dict[str, np.ndarray],
                     model: GaussianMean = MODEL) -> dict[str, float]:
    """How far the network's posteriors are from the exact ones over a batch, in units of the exact width.

    ``mean_error``: mean |network mean − exact mean| / exact std; ``std_error``: mean |network std / exact std − 1|.
    """
    mean, std = net_posterior_batch(net, queries["x"], queries["mask"])
    true_mean, true_std = exact_posterior_batch(queries["x"], queries["mask"], model)
    return {"mean_error": float(np.mean(np.abs(mean - true_mean) / true_std)),
            "std_error": float(np.mean(np.abs(std / true_std - 1)))}


# ---------------------------------------------------------------- the amortization gap
def gap_vs_distance(net: DeepSetPosterior, distances: np.ndarray, n_points: int = 10, n_queries: int = 200,
                    seed: int = 0, model: GaussianMean = MODEL) -> np.ndarray:
    """Error of the network's posterior mean (in exact posterior stds) with θ ``d`` prior stds from the prior mean."""
    return np.array([posterior_errors(net, make_queries(n_queries, n_points, seed, model.prior_mean
                                                        + d * model.prior_std, model), model)["mean_error"]
                     for d in distances])


def gap_vs_size(net: DeepSetPosterior, sizes: np.ndarray, n_queries: int = 200, seed: int = 0,
                model: GaussianMean = MODEL) -> np.ndarray:
    """Error of the network's posterior mean (in exact posterior stds) on data sets of each size, θ from the prior."""
    return np.array([posterior_errors(net, make_queries(n_queries, int(n), seed, model=model), model)["mean_error"]
                     for n in sizes])


# ---------------------------------------------------------------- semi-amortization
def chain_errors(samples: np.ndarray, true_mean: np.ndarray, true_std: np.ndarray,
                 lengths: np.ndarray) -> np.ndarray:
    """For chains cut at each length (first tenth dropped), mean |estimated − exact posterior mean| in exact stds."""
    errors = []
    for length in lengths:
        kept = samples[int(length) // 10:int(length)]
        errors.append(np.mean(np.abs(kept.mean(axis=0) - true_mean) / true_std))
    return np.array(errors)


def mcmc_error(queries: dict[str, np.ndarray], steps: int = 2000, step_size: float = 0.5, seed: int = 0,
               model: GaussianMean = MODEL) -> float:
    """Error (in exact posterior stds) of the lesson's sampler — prior-mean start, fixed step — over a batch."""
    x, mask = queries["x"], queries["mask"]
    samples = metropolis_batch(x, mask, np.full(len(x), model.prior_mean), step_size, steps, seed, model)
    return float(chain_errors(samples, *exact_posterior_batch(x, mask, model), np.array([steps]))[0])


def semi_amortized_chains(net: DeepSetPosterior, queries: dict[str, np.ndarray], lengths: np.ndarray,
                          cold_step: float = 0.5, seed: int = 0, model: GaussianMean = MODEL) -> dict[str, np.ndarray]:
    """Error against chain length for a cold sampler (prior mean, fixed step) and one warm-started by the network.

    The warm chain starts at the network's posterior mean and proposes steps of 2.4 × its posterior std (the
    classic best scale for a one-dimensional random walk).
    """
    x, mask = queries["x"], queries["mask"]
    true_mean, true_std = exact_posterior_batch(x, mask, model)
    net_mean, net_std = net_posterior_batch(net, x, mask)
    steps = int(max(lengths))
    # Same seed for both: the chains see the same random numbers, so any difference comes from the start alone.
    cold = metropolis_batch(x, mask, np.full(len(x), model.prior_mean), cold_step, steps, seed, model)
    warm = metropolis_batch(x, mask, net_mean, 2.4 * net_std, steps, seed, model)
    return {"lengths": np.asarray(lengths), "cold": chain_errors(cold, true_mean, true_std, lengths),
            "warm": chain_errors(warm, true_mean, true_std, lengths)}


def steps_to_reach(lengths: np.ndarray, errors: np.ndarray, tolerance: float) -> int | None:
    """Shortest chain length from which the error stays at or below ``tolerance`` (None if it never does)."""
    above = np.nonzero(np.asarray(errors) > tolerance)[0]
    if len(above) == 0:
        return int(lengths[0])
    return int(lengths[above[-1] + 1]) if above[-1] + 1 < len(lengths) else None


# ---------------------------------------------------------------- the cost ledger
def break_even_queries(train_cost: float, net_cost: float, other_cost: float) -> float:
    """Queries after which training plus forward passes cost no more than the other method; inf if never."""
    return break_even(train_cost, net_cost, 0.0, other_cost)


def measure_query_costs(net: DeepSetPosterior, x: np.ndarray, model: GaussianMean = MODEL,
                        mcmc_steps: int = 2000) -> dict[str, float]:
    """Measured seconds to answer one query (data set ``x``) with each method."""
    return {
        "exact formula": time_call(lambda: gaussian_posterior(x, model.prior_mean, model.prior_std, model.noise_std)),
        "grid": time_call(lambda: grid_posterior(x, model)),
        "MCMC": time_call(lambda: mcmc_posterior(x, model, steps=mcmc_steps), repeat=3),
        "network": time_call(lambda: net_posterior(net, x)),
    }


def query_flops(n_points: int, hidden: int = 32, grid_points: int = 1000, mcmc_steps: int = 2000) -> dict[str, int]:
    """Arithmetic per query for a data set of ``n_points`` points (about 3 FLOPs per point per likelihood)."""
    likelihood = 3 * n_points + 6  # Σ(x − θ)², scaled, plus the prior term
    return {
        "exact formula": n_points + 8,
        "grid": grid_points * (likelihood + 4),
        "MCMC": mcmc_steps * (likelihood + 6),
        "network": n_points * mlp_flops([1, hidden, hidden]) + n_points * hidden + mlp_flops([hidden + 1, hidden, 2]),
    }


@dataclass
class BudgetCurve:
    """What the ledger explorer needs, precomputed: training seconds and error at each training budget."""

    steps: list[int]
    seconds: list[float]
    errors: list[float]
    query_costs: dict[str, float]
    mcmc_error: float


def budget_curve(history: History, snapshots: dict[int, float], query_costs: dict[str, float],
                 mcmc_error: float) -> BudgetCurve:
    """Training seconds and error at every snapshot step of one run (each step costs about the same)."""
    steps = sorted(snapshots)
    per_step = history.seconds / len(history.losses)
    return BudgetCurve(steps, [s * per_step for s in steps], [snapshots[s] for s in steps], query_costs, mcmc_error)


def ledger_view(curve: BudgetCurve, train_steps: int, n_queries: int) -> dict:
    """Cumulative cost of each strategy up to ``n_queries`` queries, for a network trained ``train_steps`` steps."""
    i = curve.steps.index(train_steps)
    train_cost = curve.seconds[i]
    queries = np.unique(np.geomspace(1, n_queries, 200).astype(int))
    costs = {"network (trained first)": cumulative_cost(train_cost, curve.query_costs["network"], queries),
             "MCMC, 2000 steps": cumulative_cost(0.0, curve.query_costs["MCMC"], queries),
             "grid, 1000 points": cumulative_cost(0.0, curve.query_costs["grid"], queries)}
    return {"queries": queries, "costs": costs, "train_steps": train_steps, "train_cost": train_cost,
            "error": curve.errors[i],
            "break_even_mcmc": break_even_queries(train_cost, curve.query_costs["network"], curve.query_costs["MCMC"]),
            "break_even_grid": break_even_queries(train_cost, curve.query_costs["network"], curve.query_costs["grid"]),
            "curve": curve}


def posterior_view(net: DeepSetPosterior, theta: float, n_points: int, seed: int = 0,
                   model: GaussianMean = MODEL) -> dict:
    """Exact and amortized posterior densities for one data set of ``n_points`` points drawn with true ``theta``."""
    rng = np.random.default_rng(seed)
    x = theta + model.noise_std * rng.standard_normal(n_points)
    exact = gaussian_posterior(x, model.prior_mean, model.prior_std, model.noise_std)
    amortized = net_posterior(net, x)
    centre, width = exact[0], max(exact[1], amortized[1])
    grid = np.linspace(centre - 5 * width, centre + 5 * width, 300)

    def density(mean: float, std: float) -> np.ndarray:
        return np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))

    return {"x": x, "theta": theta, "grid": grid, "exact": exact, "amortized": amortized,
            "exact_density": density(*exact), "amortized_density": density(*amortized)}


# ---------------------------------------------------------------- figures and explorer drawings
def plot_posterior_comparison(axes, net: DeepSetPosterior, queries: dict[str, np.ndarray],
                              model: GaussianMean = MODEL) -> None:
    """Two panels: network against exact posterior means, and against exact posterior widths."""
    mean, std = net_posterior_batch(net, queries["x"], queries["mask"])
    true_mean, true_std = exact_posterior_batch(queries["x"], queries["mask"], model)
    for ax, truth, guess, what in ((axes[0], true_mean, mean, "mean"), (axes[1], true_std, std, "std")):
        ax.scatter(truth, guess, s=8, color=COLORS["amortized"], alpha=0.6, label="network")
        lims = [min(truth.min(), guess.min()), max(truth.max(), guess.max())]
        ax.plot(lims, lims, color=COLORS["exact"], lw=1, label="exact = network")
        ax.set_xlabel(f"exact posterior {what}")
        ax.set_ylabel(f"network's posterior {what}")
    axes[0].legend(loc="upper left")


def plot_gap(axes, distances: np.ndarray, distance_errors: np.ndarray, sizes: np.ndarray,
             size_errors: np.ndarray, trained_sizes: tuple[int, int] = (1, 20)) -> None:
    """The amortization gap against distance of θ from the prior, and against data-set size (trained range shaded)."""
    axes[0].plot(distances, distance_errors, "o-", color=COLORS["amortized"])
    axes[0].axvspan(0, 2, color=COLORS["baseline"], alpha=0.2, label="95% of training θ")
    axes[0].set_xlabel("true θ, in prior stds from the prior mean")
    axes[1].plot(sizes, size_errors, "o-", color=COLORS["amortized"])
    axes[1].axvspan(*trained_sizes, color=COLORS["baseline"], alpha=0.2, label="sizes seen in training")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("data-set size n")
    for ax in axes:
        ax.set_ylabel("|mean error| / exact posterior std")
        ax.legend(loc="upper left")


def plot_semi_amortized(ax, result: dict[str, np.ndarray], network_error: float, title: str) -> None:
    """Error of a Metropolis estimate against chain length, started cold and started from the network's guess."""
    ax.plot(result["lengths"], result["cold"], color=COLORS["unamortized"], lw=2, label="cold start (prior mean)")
    ax.plot(result["lengths"], result["warm"], color=COLORS["accent"], lw=2, label="started from the network")
    ax.axhline(network_error, color=COLORS["amortized"], ls="--", lw=1, label="network alone")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Metropolis steps per query")
    ax.set_ylabel("|mean error| / exact std")
    ax.set_title(title, fontsize=10)


def plot_ledger(ax, data: dict, mark_break_even: bool = True) -> None:
    """Cumulative cost of the network (paid up front) against MCMC and the grid (paid per query; the grid dotted).

    Draws on the first call and moves the same artists on later ones, so the explorer reuses it.
    """
    if not ax.lines:  # log-log, so the grid's small per-query cost is a line of its own, not the x-axis
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.minorticks_off()  # minor log ticks would dominate an explorer's redraw time
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    plot_cumulative_costs(ax, data["queries"], data["costs"], data["break_even_mcmc"] if mark_break_even else None,
                          colors=["amortized", "unamortized", GRID_COLOR], styles=["-", "-.", "--"],
                          legend_loc="lower right")


def draw_ledger(fig, data: dict) -> None:
    """Explorer drawing: cumulative costs up to the chosen query count; the title gives the network's error."""
    ax = fig.axes[0]
    plot_ledger(ax, data)
    ax.set_title(f"network: {data['train_steps']} steps, {data['train_cost']:.1f} s, error {data['error']:.2f} std "
                 f"(MCMC: {data['curve'].mcmc_error:.2f})", fontsize=10)
    describe(fig, f"Total cost against number of queries for the network trained {data['train_steps']} steps (it "
                  f"starts at its {data['train_cost']:.1f} s of training), MCMC and the grid (both start at zero). "
                  f"Where the network's line crosses another is the break-even: against MCMC after "
                  f"{data['break_even_mcmc']:,.0f} queries, against the grid after {data['break_even_grid']:,.0f}.")


def draw_posteriors(fig, data: dict) -> None:
    """Explorer drawing: the exact and the network's posterior densities for one data set, the true θ marked."""
    ax = fig.axes[0]
    if not ax.lines:
        ax.plot([], [], color=COLORS["exact"], lw=2, label="exact posterior")
        ax.plot([], [], color=COLORS["amortized"], lw=2, ls="--", label="network's posterior")
        ax.axvline(0, color=COLORS["baseline"], lw=1, label="true θ")
        ax.set_xlabel("θ")
        ax.set_ylabel("posterior density")
        ax.legend(loc="upper right")
    ax.lines[0].set_data(data["grid"], data["exact_density"])
    ax.lines[1].set_data(data["grid"], data["amortized_density"])
    ax.lines[2].set_xdata([data["theta"], data["theta"]])
    ax.set_xlim(data["grid"][0], data["grid"][-1])
    ax.set_ylim(0, 1.15 * max(data["exact_density"].max(), data["amortized_density"].max()))
    (exact_mean, exact_std), (net_mean, net_std) = data["exact"], data["amortized"]
    ax.set_title(f"n = {len(data['x'])}:  exact {exact_mean:.2f} ± {exact_std:.2f},  "
                 f"network {net_mean:.2f} ± {net_std:.2f}  (off by {abs(net_mean - exact_mean) / exact_std:.1f} std)",
                 fontsize=10)
    describe(fig, f"The exact posterior (solid) and the network's (dashed) for {len(data['x'])} points drawn at true "
                  f"θ = {data['theta']:g}: exact {exact_mean:.2f} ± {exact_std:.2f}, network {net_mean:.2f} ± "
                  f"{net_std:.2f}. Read how far apart the two peaks are, in posterior widths "
                  f"({abs(net_mean - exact_mean) / exact_std:.1f}).")
