"""Checks for lesson 02 (amortized inference): each compares the learner's function with ``simplex_edu.amortized``."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from simplex_edu import amortized as ref
from simplex_edu.checks.core import Case, CheckFailed, CheckResult, check_function, not_attempted


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
    ]
    return check_function(
        fn, ref.gaussian_posterior, cases, exercise="Exercise 1.1 (exact posterior)", rtol=1e-6, atol=1e-9,
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
        fn, ref.metropolis, cases, exercise="Exercise 2.1 (Metropolis sampler)", rtol=1e-12, atol=1e-12,
        hint="at step t propose θ + noise[t]; accept when log(uniforms[t]) < log p(proposal) − log p(θ). "
             "Record the current state at EVERY step, accepted or not (a rejection repeats the old value), so "
             "the result has one entry per step. Compare log densities by subtracting, not dividing.")


def check_gaussian_nll(fn: Callable) -> CheckResult:
    """Exercise 3.2: the Gaussian negative log-likelihood loss, averaged over a batch, differentiable."""
    exercise = "Exercise 3.2 (training loss)"
    try:
        loss = fn(torch.zeros(3, requires_grad=True), torch.zeros(3), torch.ones(3))
    except NotImplementedError:
        return not_attempted(exercise)
    except Exception:  # check_function below reports the error together with the input that caused it
        loss = None
    if loss is not None and not (isinstance(loss, torch.Tensor) and loss.grad_fn is not None):
        raise CheckFailed(f"{exercise}: your loss is not a torch tensor that remembers how it was computed, so "
                          "training cannot take its gradient.\nHint: use torch operations (torch.exp, tensor "
                          "arithmetic, .mean()), not math or numpy functions on the tensors, and do not call .item().")
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
        fn, ref.gaussian_nll, cases, exercise=exercise, rtol=1e-5, atol=1e-6,
        hint="−log N(θ; m, s²) = ½((θ − m)/s)² + log s + ½ log 2π with s = exp(log_std); average it over the "
             "batch (.mean(), not .sum()). Keep the constant ½ log 2π so the loss is a true negative log-density.")


def _seeded(fn: Callable) -> Callable:
    """Call ``fn`` with a fresh generator made from a seed, so learner and reference draw the same numbers."""

    def call(n_pairs: int, max_points: int, seed: int, **model: float):
        return fn(n_pairs, max_points, torch.Generator().manual_seed(seed), **model)

    return call


def check_simulate_pairs(fn: Callable) -> CheckResult:
    """Exercise 3.1: simulated (x, mask, θ) training pairs, random numbers drawn in the order the docstring gives."""
    cases = [
        Case((5, 4, 0), label="5 pairs of up to 4 points, generator seeded with 0"),
        Case((1, 1, 1), label="a single pair with max_points = 1 (every data set has exactly one point)"),
        Case((64, 20, 2), label="a batch of 64, up to 20 points (the lesson's training batches)"),
        Case((8, 6, 3), {"prior_mean": 5.0, "prior_std": 0.1, "noise_std": 2.0},
             label="8 pairs, prior N(5, 0.1²), noise std 2"),
    ]
    return check_function(
        _seeded(fn), _seeded(ref.simulate_pairs), cases, exercise="Exercise 3.1 (simulate_pairs)",
        rtol=1e-6, atol=1e-6,
        hint="draw in this order, all with generator=generator: θ (torch.randn(n_pairs)), then the noise "
             "(torch.randn(n_pairs, max_points)), then the sizes (torch.randint(1, max_points + 1, (n_pairs, 1))). "
             "The mask is (torch.arange(max_points) < n).float(); multiply x by it so padding is exactly 0.")
