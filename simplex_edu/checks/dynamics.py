"""Checks for lesson 04 (dynamical systems): each compares the learner's function with simplex_edu.dynamics."""

from __future__ import annotations

from typing import Callable

import numpy as np

from simplex_edu import dynamics as D
from simplex_edu.checks.core import Case, CheckResult, check_function


def _linear(x: np.ndarray) -> np.ndarray:
    """dx/dt = A x with A = diag(0.5, -1): the largest Lyapunov exponent is 0.5 (approached as t grows)."""
    return x * np.array([0.5, -1.0])


def _decay(x: np.ndarray) -> np.ndarray:
    """dx/dt = −x, whose exact solution x0·e^(−t) the RK4 step approximates to fifth order per step."""
    return -x


def check_rk4_step(rk4_step: Callable) -> CheckResult:
    """Exercise 1.1: one classical RK4 step, on batches of pendulum and Lorenz states."""
    rng = np.random.default_rng(0)
    cases = [
        Case((_decay, np.array([1.0]), 0.1), label="f(x) = -x, x = [1.0], dt = 0.1"),
        Case((D.pendulum, np.array([1.0, 0.0]), 0.1), label="pendulum, one state (θ=1, ω=0), dt = 0.1"),
        Case((D.pendulum, rng.normal(size=(5, 2)), 0.05), label="pendulum, a batch of 5 states, dt = 0.05"),
        Case((D.lorenz, np.array([[1.0, 1.0, 20.0], [-5.0, 3.0, 30.0]]), 0.01), label="Lorenz, 2 states, dt = 0.01"),
        Case((D.pendulum, np.array([0.5, 0.2]), 0.0), label="dt = 0 (the state must not move)"),
        Case((D.pendulum, np.array([0.5, 0.2]), -0.1), label="dt = -0.1 (a step backwards in time)"),
    ]
    return check_function(rk4_step, D.rk4_step, cases, exercise="Exercise 1.1 (rk4_step)", rtol=1e-10, atol=1e-12,
                          hint="k1 = f(x); k2 = f(x + dt/2·k1); k3 = f(x + dt/2·k2); k4 = f(x + dt·k3); "
                               "return x + dt/6·(k1 + 2·k2 + 2·k3 + k4). Work on whole arrays: no loop over states.")


def check_estimate_order(estimate_order: Callable) -> CheckResult:
    """Exercise 1.2: the slope of log(error) against log(dt)."""
    dts = np.array([0.2, 0.1, 0.05, 0.025])
    noisy = 3.0 * dts**2 * np.array([1.1, 0.9, 1.05, 1.0])
    cases = [
        Case((dts, 0.5 * dts**4), label="errors exactly 0.5·dt⁴ (order 4)"),
        Case((dts, 2.0 * dts), label="errors exactly 2·dt (order 1)"),
        Case((dts, noisy), label="errors ≈ 3·dt² with ±10% scatter (least-squares slope)"),
        Case((np.array([0.1, 0.05]), np.array([1.6e-5, 1.0e-6])), label="two step sizes, error ratio 16"),
    ]
    return check_function(estimate_order, D.estimate_order, cases, exercise="Exercise 1.2 (estimate_order)",
                          rtol=1e-6, hint="Fit a straight line to (log dt, log error), e.g. np.polyfit(np.log(dts), "
                                          "np.log(errors), 1), and return its slope as a float.")


def _sparse_problem(seed: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = D.polynomial_library(rng.normal(size=(200, 2)), 3)
    xi = np.zeros((theta.shape[1], 2))
    xi[[1, 2, 6], 0] = [1.0, -2.0, 0.5]
    xi[[2, 9], 1] = [-1.0, 0.3]
    return theta, theta @ xi + noise * rng.normal(size=(200, 2))


def check_stlsq(stlsq: Callable) -> CheckResult:
    """Exercise 3.1: sequentially thresholded least squares."""
    clean, clean_y = _sparse_problem(0, 0.0)
    noisy, noisy_y = _sparse_problem(1, 0.05)
    cases = [
        Case((clean, clean_y, 0.1), label="a clean sparse polynomial, threshold 0.1"),
        Case((noisy, noisy_y, 0.1), label="the same with noise, threshold 0.1 (small spurious terms must go)"),
        Case((noisy, noisy_y, 0.0), label="threshold 0 (plain least squares)"),
        Case((noisy, noisy_y, 100.0), label="a threshold above every coefficient (all zero)"),
        Case((noisy, noisy_y, 0.4, 1), label="n_iter = 1 (one threshold-and-refit pass)"),
    ]
    return check_function(stlsq, D.stlsq, cases, exercise="Exercise 3.1 (stlsq)", rtol=1e-6, atol=1e-8,
                          hint="Start from np.linalg.lstsq(theta, dxdt, rcond=None)[0]. Then n_iter times: mark "
                               "|Ξ| < threshold, set those to 0, and for each column j refit least squares on the "
                               "columns of theta that are still kept for j. Never refit the zeroed terms.")


def check_coupled_field(coupled_field: Callable) -> CheckResult:
    """Exercise 4.1: two pendulums joined by a spring, composed from the single pendulum's field."""
    rng = np.random.default_rng(2)
    batch = rng.normal(size=(6, 4))
    cases = [
        Case((np.array([1.0, 0.0, 0.0, 0.0]), 0.3, 0.1), label="θ1 = 1, everything else 0, k = 0.3, damping 0.1"),
        Case((batch, 0.3, 0.1), label="a batch of 6 states, k = 0.3"),
        Case((batch, 0.0, 0.1), label="k = 0 (two independent pendulums)"),
        Case((batch, 0.5, 0.0), label="no damping, k = 0.5"),
        Case((np.array([0.7, -0.2, 0.7, 0.4]), 0.4, 0.1), label="equal angles: the spring is not stretched"),
    ]
    return check_function(coupled_field, D.coupled_pendulums, cases, exercise="Exercise 4.1 (coupled_field)",
                          rtol=1e-10, atol=1e-12,
                          hint="Apply pendulum(…, damping) to x[..., :2] and to x[..., 2:], then add the spring: "
                               "dω1/dt gets −k(θ1 − θ2) and dω2/dt gets +k(θ1 − θ2). "
                               "Keep the order (θ1, ω1, θ2, ω2).")


def check_lyapunov_exponent(lyapunov_exponent: Callable) -> CheckResult:
    """Exercise 5.1: the two-trajectory renormalization estimate of the largest Lyapunov exponent."""
    lorenz_states = np.array([[-5.9, -8.6, 19.6], [8.0, 4.0, 30.0]])
    cases = [
        Case((_linear, np.array([1.0, 1.0]), 0.01, 50, 10), label="dx/dt = diag(0.5, -1)·x (exponent → 0.5)"),
        Case((D.lorenz, lorenz_states, 0.01, 40, 10), label="Lorenz, a batch of 2 states, 40 renormalizations"),
        Case((D.pendulum, np.array([1.0, 0.0]), 0.05, 30, 5, 1e-6), label="damped pendulum, d0 = 1e-6"),
        Case((D.van_der_pol, np.array([[2.0, 0.0]]), 0.02, 20, 1), label="Van der Pol, steps_per_renorm = 1"),
    ]
    return check_function(lyapunov_exponent, D.lyapunov_exponent, cases, rtol=1e-5, atol=1e-8,
                          exercise="Exercise 5.1 (lyapunov_exponent)",
                          hint="Start b at x0 + d0/√d in every coordinate. Each round: steps_per_renorm rk4_steps "
                               "for both, d = np.linalg.norm(b − a, axis=-1), add log(d/d0), then pull b back to "
                               "a + (b − a)·d0/d. Divide the sum by the total time n_renorm·steps_per_renorm·dt.")
