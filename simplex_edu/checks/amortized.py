"""Checks for lesson 02 (amortized inference): each compares the learner's function with ``simplex_edu.amortized``.

Each check also knows the mistakes learners usually make (``Diagnosis``es) and names the one it recognises.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np
import torch

from simplex_edu import amortized as ref
from simplex_edu.checks.core import Case, CheckResult, Diagnosis, check_function, compare


def _posterior_ignoring(**fixed: float) -> Callable:
    """The exact posterior with some of the model's settings stuck at a wrong value (a parameter ignored)."""
    def posterior(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
        settings = {"prior_mean": prior_mean, "prior_std": prior_std, "noise_std": noise_std, **fixed}
        return ref.gaussian_posterior(x, **settings)
    return posterior


def _posterior_from_mean(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    precision = 1 / prior_std ** 2 + len(x) / noise_std ** 2
    return float((prior_mean / prior_std ** 2 + np.mean(x) / noise_std ** 2) / precision), 1 / math.sqrt(precision)


def _posterior_variance(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    mean, std = ref.gaussian_posterior(x, prior_mean, prior_std, noise_std)
    return mean, std ** 2


def _posterior_prior_std_not_squared(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    return ref.gaussian_posterior(x, prior_mean, math.sqrt(prior_std), noise_std)


def _posterior_without_prior(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    return float(np.mean(x)), noise_std / math.sqrt(len(x))


POSTERIOR_DIAGNOSES = [
    Diagnosis(_posterior_variance,
              "you returned the variance s² where the standard deviation s belongs"),
    Diagnosis(_posterior_without_prior,
              "the prior is left out (the data's mean and σ/√n alone)"),
    Diagnosis(_posterior_from_mean,
              "you used the mean of x where its sum belongs"),
    Diagnosis(_posterior_ignoring(noise_std=1.0),
              "noise_std is ignored (only matters when it is not 1)"),
    Diagnosis(_posterior_ignoring(prior_mean=0.0),
              "prior_mean is ignored (only matters when it is not 0)"),
    Diagnosis(_posterior_ignoring(prior_std=1.0),
              "prior_std is ignored (only matters when it is not 1)"),
    Diagnosis(_posterior_prior_std_not_squared,
              "prior_std is not squared: the prior's precision is 1/prior_std²"),
    Diagnosis(lambda *a, **kw: ref.gaussian_posterior(*a, **kw)[::-1],
              "mean and std are swapped: return (mean, std)"),
]


def _fresh_posterior_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded data sets of random size under random priors and noise, for a grader."""
    return [Case((rng.normal(rng.normal(), 1.0, int(rng.integers(0, 30))),),
                 {"prior_mean": float(rng.normal()), "prior_std": float(rng.uniform(0.3, 3.0)),
                  "noise_std": float(rng.uniform(0.3, 3.0))}, label=f"fresh case {i + 1} (grading)") for i in range(3)]


def check_gaussian_posterior(fn: Callable) -> CheckResult:
    """Exercise 1.1: the exact posterior (mean, std) of a Gaussian mean, on ordinary and edge-case data sets."""
    rng = np.random.default_rng(1)
    cases = [
        Case((rng.normal(0.8, 1.0, 5),), label="5 points near θ = 0.8, standard prior and noise"),
        Case((np.array([2.0]),), label="a single point x = [2.0] (n = 1)"),
        Case((np.array([]),), label="no data at all (n = 0): the posterior is the prior"),
        Case((rng.normal(-1.5, 1.0, 10_000),), label="10,000 points (large n)"),
        Case((np.array([1000.0, 1001.0]),), label="extreme data x = [1000, 1001]"),
        Case((np.array([1.0, 3.0, 2.0]),), {"prior_mean": 2.0, "prior_std": 0.5, "noise_std": 3.0},
             label="x = [1, 3, 2], prior N(2, 0.5²), noise std 3"),
        Case((np.array([1.0, 3.0, 2.0]),), {"prior_mean": -1.0}, label="x = [1, 3, 2], prior N(−1, 1)"),
        Case((np.array([1.0, 3.0, 2.0]),), {"prior_std": 2.0}, label="x = [1, 3, 2], prior N(0, 2²)"),
    ]
    return check_function(
        fn, ref.gaussian_posterior, cases, diagnoses=POSTERIOR_DIAGNOSES, exercise="Exercise 1.1 (exact posterior)",
        rtol=1e-6, atol=1e-9, fresh_cases=_fresh_posterior_cases,
        hint="precisions add: 1/std² = 1/prior_std² + n/noise_std². The mean weights the prior mean by "
             "1/prior_std² and the data sum by 1/noise_std², divided by the total precision. Return the "
             "standard deviation, not the variance, and use the sum (not the mean) of x so that n = 0 works.")


def _standard_normal(theta: float) -> float:
    return -0.5 * theta ** 2


def _narrow_normal_at_3(theta: float) -> float:
    return -0.5 * ((theta - 3.0) / 0.5) ** 2


def _half_normal(theta: float) -> float:
    return -0.5 * theta ** 2 if theta >= 0 else -math.inf


def _draws(steps: int, step_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return step_size * rng.standard_normal(steps), rng.uniform(size=steps)


def _metropolis_with(accept: Callable[[float, float, float], bool], record_proposal: bool = False) -> Callable:
    """Metropolis with another acceptance rule ``accept(u, log p(proposal), log p(θ))``, or recording proposals."""
    def sampler(log_density, start, noise, uniforms):
        samples, theta = np.empty(len(noise)), float(start)
        for t in range(len(noise)):
            proposal = theta + noise[t]
            if accept(uniforms[t], log_density(proposal), log_density(theta)):
                theta = proposal
            samples[t] = proposal if record_proposal else theta
        return samples
    return sampler


def _metropolis_from_start(log_density, start, noise, uniforms):
    return np.concatenate([[start], ref.metropolis(log_density, start, noise, uniforms)[:-1]])


METROPOLIS_DIAGNOSES = [
    Diagnosis(_metropolis_with(lambda u, new, old: True),
              "every proposal is accepted (the chain never stays put)"),
    Diagnosis(_metropolis_with(lambda u, new, old: math.log(u) > new - old),
              "the acceptance test is reversed: accept when log(uniforms[t]) < log p(proposal) − log p(θ)"),
    Diagnosis(_metropolis_with(lambda u, new, old: u < new - old),
              "uniforms[t] is compared with a difference of log densities: take log(uniforms[t]) first"),
    Diagnosis(_metropolis_with(lambda u, new, old: math.log(u) < new - old, record_proposal=True),
              "the proposal is recorded even when it is rejected: a rejected step repeats the current state"),
    Diagnosis(_metropolis_from_start,
              "`start` is recorded as the first sample (and the last step dropped): record θ after each step"),
]


def _compare_chain(expected: Any, got: Any) -> str | None:
    """Like ``compare``, but a chain of the wrong length is explained in Metropolis terms."""
    if isinstance(got, np.ndarray) and got.ndim == 1 and len(got) != len(expected):
        if len(got) < len(expected):
            return (f"your chain has {len(got)} entries for {len(expected)} steps: a rejected proposal must still be "
                    "recorded — the chain stays where it is, and that repeated value is a sample too.")
        if len(got) == len(expected) + 1:
            return f"your chain has {len(got)} entries for {len(expected)} steps: do not include `start` itself."
    return compare(expected, got, rtol=1e-12, atol=1e-12)


def _fresh_metropolis_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded starts, step sizes and chains, for a grader."""
    return [Case((_standard_normal, float(rng.normal(0, 3)), float(rng.uniform(0.2, 3.0)) * rng.standard_normal(100),
                  rng.uniform(size=100)), label=f"fresh chain {i + 1} (grading)") for i in range(2)]


def check_metropolis(fn: Callable) -> CheckResult:
    """Exercise 2.1: a random-walk Metropolis sampler driven by given proposal noise and uniforms."""
    cases = [
        Case((_standard_normal, 0.0, *_draws(200, 1.0, 0)), label="standard normal target, start 0, 200 steps"),
        Case((_narrow_normal_at_3, -2.0, *_draws(300, 0.3, 1)),
             label="target N(3, 0.5²), start −2 (far away), 300 small steps"),
        Case((_half_normal, 1.0, *_draws(200, 1.5, 2)),
             label="half-normal target (log density −inf below 0), start 1"),
        Case((_standard_normal, 0.5, np.zeros(5), np.full(5, 0.5)),
             label="zero noise: every proposal equals the current state and is accepted"),
    ]
    return check_function(
        fn, ref.metropolis, cases, diagnoses=METROPOLIS_DIAGNOSES, exercise="Exercise 2.1 (Metropolis sampler)",
        compare_fn=_compare_chain, fresh_cases=_fresh_metropolis_cases,
        hint="at step t propose θ + noise[t]; accept when log(uniforms[t]) < log p(proposal) − log p(θ). "
             "Record the current state at EVERY step, accepted or not (a rejection repeats the old value), so "
             "the result has one entry per step. Compare log densities by subtracting, not dividing.")


def _loss_and_gradients(fn: Callable) -> Callable:
    """Run a loss on fresh leaf tensors and return (loss, d loss/d mean, d loss/d log_std), None for no gradient.

    ``functools.wraps`` keeps ``fn`` reachable (``__wrapped__``), so the core still sees whose code this is.
    """
    @functools.wraps(fn)
    def call(mean: torch.Tensor, log_std: torch.Tensor, theta: torch.Tensor):
        mean, log_std = mean.clone().requires_grad_(True), log_std.clone().requires_grad_(True)
        loss = fn(mean, log_std, theta)
        if not (isinstance(loss, torch.Tensor) and loss.ndim == 0 and loss.grad_fn is not None):
            return _NoGraph(loss), None, None
        grad_mean, grad_log_std = torch.autograd.grad(loss, (mean, log_std), allow_unused=True)
        return loss.detach(), grad_mean, grad_log_std
    return call


class _NoGraph:
    """A loss that training could not differentiate: not a torch scalar that remembers how it was computed."""

    def __init__(self, value: Any):
        self.value = value


def _compare_loss(expected: tuple, got: tuple) -> str | None:
    """Compare the loss, then both gradients: the width must train as well as the mean."""
    if isinstance(got[0], _NoGraph):
        value = got[0].value
        if isinstance(value, torch.Tensor) and value.ndim > 0:
            return f"the loss has shape {tuple(value.shape)}: average it over the batch to one number (.mean())."
        return ("your loss is not a torch tensor that remembers how it was computed, so training cannot take its "
                "gradient: use torch operations (torch.exp, tensor arithmetic, .mean()), not math or numpy "
                "functions on the tensors, and do not call .item().")
    problem = compare(expected[0], got[0], rtol=1e-5, atol=1e-6, where="the loss")
    if problem:
        return problem
    if got[1] is None:
        return ("the mean gets no gradient from your loss (is `mean` detached, or used through .item() or numpy?), "
                "so training could never move the network's posterior mean.")
    if got[2] is None:
        return ("log_std is detached: the width gets no gradient from your loss, so training could never change "
                "the network's posterior width.")
    return (compare(expected[1], got[1], rtol=1e-5, atol=1e-7, where="the gradient with respect to mean")
            or compare(expected[2], got[2], rtol=1e-5, atol=1e-7, where="the gradient with respect to log_std"))


def _nll_std_detached(mean, log_std, theta):
    return (0.5 * ((theta - mean) / torch.exp(log_std).detach()) ** 2 + log_std + 0.5 * ref.LOG_2PI).mean()


NLL_DIAGNOSES = [
    Diagnosis(_loss_and_gradients(
              lambda m, s, t: ref.gaussian_nll(m, s, t) - 0.5 * ref.LOG_2PI),
              "the constant ½ log 2π is missing"),
    Diagnosis(_loss_and_gradients(
              lambda m, s, t: ref.gaussian_nll(m, s, t) * len(t)),
              "you summed over the batch where the mean belongs"),
    Diagnosis(_loss_and_gradients(
              lambda m, s, t: ref.gaussian_nll(m, s, t) - s.mean()),
              "the log s term (+ log_std) is missing"),
    Diagnosis(_loss_and_gradients(
              lambda m, s, t: (0.5 * ((t - m) / s) ** 2 + s + 0.5 * ref.LOG_2PI).mean()),
              "log_std is used as the standard deviation itself: the width is s = exp(log_std)"),
    Diagnosis(_loss_and_gradients(_nll_std_detached),
              "std = exp(log_std) is detached (or taken from .item()): the width then learns only from the "
              "+ log_std term, with the wrong gradient"),
    Diagnosis(_loss_and_gradients(
              lambda m, s, t: -ref.gaussian_nll(m, s, t)),
              "the sign is flipped: that is the log-likelihood, the loss is its negative"),
]


def _fresh_nll_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded batches of random size and width, for a grader."""
    def batch(n: int) -> tuple:
        return tuple(torch.tensor(rng.normal(0.0, scale, n), dtype=torch.float32) for scale in (2.0, 1.0, 2.0))
    return [Case(batch(int(rng.integers(1, 50))), label=f"fresh batch {i + 1} (grading)") for i in range(2)]


def check_gaussian_nll(fn: Callable) -> CheckResult:
    """Exercise 3.2: the Gaussian negative log-likelihood, averaged over a batch, with gradients to both outputs."""
    gen = torch.Generator().manual_seed(3)
    batch = (torch.randn(64, generator=gen), 0.3 * torch.randn(64, generator=gen), torch.randn(64, generator=gen))
    cases = [
        Case(batch, label="a batch of 64 (mean, log_std, θ)"),
        Case((torch.tensor([0.0]), torch.tensor([0.0]), torch.tensor([0.0])),
             label="one item: θ = mean, std = 1 (the loss is ½ log 2π ≈ 0.919)"),
        Case((torch.tensor([1.0, -2.0]), torch.tensor([-3.0, 2.0]), torch.tensor([1.5, 10.0])),
             label="narrow and wide posteriors, θ far from the mean"),
    ]
    return check_function(
        _loss_and_gradients(fn), _loss_and_gradients(ref.gaussian_nll), cases, diagnoses=NLL_DIAGNOSES,
        exercise="Exercise 3.2 (training loss)", compare_fn=_compare_loss, fresh_cases=_fresh_nll_cases,
        hint="−log N(θ; m, s²) = ½((θ − m)/s)² + log s + ½ log 2π with s = exp(log_std); average it over the "
             "batch (.mean(), not .sum()). Keep the constant ½ log 2π so the loss is a true negative log-density, "
             "and keep every step in torch so that both mean and log_std get a gradient.")


def _seeded(fn: Callable) -> Callable:
    """Call ``fn`` with a fresh generator made from a seed, so learner and reference draw the same numbers."""

    @functools.wraps(fn)  # keeps ``fn`` reachable (``__wrapped__``), so the core still sees whose code this is
    def call(n_pairs: int, max_points: int, seed: int, **model: float):
        return fn(n_pairs, max_points, torch.Generator().manual_seed(seed), **model)

    return call


def _simulate_with(order: str = "theta noise sizes", low: int = 1, masked: bool = True,
                   inclusive: bool = False, **fixed: float) -> Callable:
    """simulate_pairs with one thing changed: the draw order, the sizes' range, the mask, or a setting ignored."""
    def simulate(n_pairs, max_points, generator, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
        settings = {"prior_mean": prior_mean, "prior_std": prior_std, "noise_std": noise_std, **fixed}
        draws = {
            "theta": lambda: torch.randn(n_pairs, generator=generator),
            "noise": lambda: torch.randn(n_pairs, max_points, generator=generator),
            "sizes": lambda: torch.randint(low, max_points + low, (n_pairs, 1), generator=generator),
        }
        drawn = {name: draws[name]() for name in order.split()}
        theta = settings["prior_mean"] + settings["prior_std"] * drawn["theta"]
        x = theta[:, None] + settings["noise_std"] * drawn["noise"]
        positions = torch.arange(max_points)[None, :]
        mask = (positions <= drawn["sizes"] if inclusive else positions < drawn["sizes"]).float()
        return (x * mask if masked else x), mask, theta
    return simulate


SIMULATE_DIAGNOSES = [
    Diagnosis(_seeded(_simulate_with(masked=False)),
              "the padding is not zeroed: return x * mask"),
    Diagnosis(_seeded(_simulate_with(inclusive=True)),
              "the mask marks one point too many (j <= n instead of j < n)"),
    Diagnosis(_seeded(_simulate_with(low=0)),
              "the sizes are drawn from 0 … max_points − 1: use torch.randint(1, max_points + 1, …)"),
    *[Diagnosis(_seeded(_simulate_with(order=order)),
                "the random draws come in another order: θ, then the noise, then the sizes")
      for order in ("sizes theta noise", "theta sizes noise", "noise theta sizes")],
    Diagnosis(_seeded(_simulate_with(noise_std=1.0)),
              "noise_std is ignored (only matters when it is not 1)"),
    Diagnosis(_seeded(_simulate_with(prior_mean=0.0)),
              "prior_mean is ignored (only matters when it is not 0)"),
    Diagnosis(_seeded(_simulate_with(prior_std=1.0)),
              "prior_std is ignored (only matters when it is not 1)"),
]


def _fresh_simulate_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded batch sizes, seeds and model settings, for a grader."""
    return [Case((int(rng.integers(1, 40)), int(rng.integers(1, 25)), int(rng.integers(1000))),
                 {"prior_mean": float(rng.normal()), "prior_std": float(rng.uniform(0.2, 3.0)),
                  "noise_std": float(rng.uniform(0.2, 3.0))}, label=f"fresh case {i + 1} (grading)") for i in range(2)]


def check_simulate_pairs(fn: Callable) -> CheckResult:
    """Exercise 3.1: simulated (x, mask, θ) training pairs, random numbers drawn in the order the docstring gives."""
    cases = [
        Case((5, 4, 0), label="5 pairs of up to 4 points, generator seeded with 0"),
        Case((1, 1, 1), label="a single pair with max_points = 1 (every data set has exactly one point)"),
        Case((64, 20, 2), label="a batch of 64, up to 20 points (the lesson's training batches)"),
        Case((8, 6, 3), {"prior_mean": 5.0, "prior_std": 0.1, "noise_std": 2.0},
             label="8 pairs, prior N(5, 0.1²), noise std 2"),
        Case((8, 6, 4), {"prior_std": 3.0}, label="8 pairs, prior N(0, 3²)"),
    ]
    return check_function(
        _seeded(fn), _seeded(ref.simulate_pairs), cases, diagnoses=SIMULATE_DIAGNOSES,
        exercise="Exercise 3.1 (simulate_pairs)", rtol=1e-6, atol=1e-6, fresh_cases=_fresh_simulate_cases,
        hint="draw in this order, all with generator=generator: θ (torch.randn(n_pairs)), then the noise "
             "(torch.randn(n_pairs, max_points)), then the sizes (torch.randint(1, max_points + 1, (n_pairs, 1))). "
             "The mask is (torch.arange(max_points) < n).float(); multiply x by it so padding is exactly 0.")
