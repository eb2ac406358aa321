"""Checks for lesson 04 (dynamical systems): each compares the learner's function with simplex_edu.dynamics.

Each check also knows the mistakes learners usually make (``Diagnosis``es) and names the one it recognises.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from simplex_edu import dynamics as D
from simplex_edu.checks.core import Case, CheckResult, Diagnosis, check_function


def _linear(x: np.ndarray) -> np.ndarray:
    """dx/dt = A x with A = diag(0.5, -1): the largest Lyapunov exponent is 0.5 (approached as t grows)."""
    return x * np.array([0.5, -1.0])


def _decay(x: np.ndarray) -> np.ndarray:
    """dx/dt = −x, whose exact solution x0·e^(−t) the RK4 step approximates to fifth order per step."""
    return -x


def _runge_kutta(offsets: tuple = (0.5, 0.5, 1.0), weights: tuple = (1, 2, 2, 1), k3_from_k1: bool = False,
                 with_dt: bool = True, k4_from_k2: bool = False) -> Callable:
    """The RK4 step with one thing changed: a stage's offset, the weights, k3's or k4's slope, or dt at the end."""
    def step(f, x, dt):
        k1 = f(x)
        k2 = f(x + offsets[0] * dt * k1)
        k3 = f(x + offsets[1] * dt * (k1 if k3_from_k1 else k2))
        k4 = f(x + offsets[2] * dt * (k2 if k4_from_k2 else k3))
        combined = sum(w * k for w, k in zip(weights, (k1, k2, k3, k4))) / sum(weights)
        return x + (dt if with_dt else 1.0) * combined
    return step


RK4_DIAGNOSES = [
    Diagnosis(D.euler_step,
              "this is Euler's step x + dt·f(x), not RK4"),
    Diagnosis(_runge_kutta(offsets=(1.0, 1.0, 1.0)),
              "k2 and k3 take a full step: k2 = f(x + dt/2·k1) and k3 = f(x + dt/2·k2) take half a step"),
    Diagnosis(_runge_kutta(offsets=(1.0, 0.5, 1.0)),
              "k2 takes a full step: k2 = f(x + dt/2·k1)"),
    Diagnosis(_runge_kutta(offsets=(0.5, 1.0, 1.0)),
              "k3 takes a full step: k3 = f(x + dt/2·k2)"),
    Diagnosis(_runge_kutta(offsets=(0.5, 0.5, 0.5)),
              "k4 takes half a step: k4 = f(x + dt·k3) takes the full step"),
    Diagnosis(_runge_kutta(weights=(1, 1, 1, 1)),
              "the slopes are averaged with equal weights: RK4 weights them 1, 2, 2, 1 (over 6)"),
    Diagnosis(_runge_kutta(k3_from_k1=True),
              "k3 is computed from k1: k3 = f(x + dt/2·k2) uses the previous slope, k2"),
    Diagnosis(_runge_kutta(k4_from_k2=True),
              "k4 is computed from k2: k4 = f(x + dt·k3) uses the latest slope, k3"),
    Diagnosis(_runge_kutta(with_dt=False),
              "dt is missing from the final combination: x + dt/6·(k1 + 2·k2 + 2·k3 + k4)"),
]


def _fresh_rk4_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded pendulum and Lorenz batches with random step sizes, for a grader."""
    return [Case((D.pendulum, rng.normal(size=(int(rng.integers(1, 6)), 2)), float(rng.uniform(-0.2, 0.2))),
                 label="fresh pendulum batch (grading)"),
            Case((D.lorenz, rng.normal(0, 10, size=(3, 3)), float(rng.uniform(0.001, 0.02))),
                 label="fresh Lorenz batch (grading)")]


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
    # inputs_read_only: `x += …` would also move the caller's state, which integrate() and Exercise 5.1 still need.
    return check_function(rk4_step, D.rk4_step, cases, diagnoses=RK4_DIAGNOSES, fresh_cases=_fresh_rk4_cases,
                          exercise="Exercise 1.1 (rk4_step)", rtol=1e-10, atol=1e-12, inputs_read_only=True,
                          hint="k1 = f(x); k2 = f(x + dt/2·k1); k3 = f(x + dt/2·k2); k4 = f(x + dt·k3); "
                               "return x + dt/6·(k1 + 2·k2 + 2·k3 + k4). Work on whole arrays: no loop over "
                               "states.")


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(x, y, 1)[0])


ORDER_DIAGNOSES = [
    Diagnosis(lambda dts, errors: _slope(np.log(errors), np.log(dts)),
              "the axes are swapped: fit log(error) (y) against log(dt) (x), "
              "np.polyfit(np.log(dts), np.log(errors), 1)"),
    Diagnosis(lambda dts, errors: float(np.polyfit(np.log(dts), np.log(errors), 1)[1]),
              "this is the intercept: np.polyfit returns [slope, intercept], take [0]"),
    Diagnosis(lambda dts, errors: float(np.log(errors[0] / errors[1]) / np.log(dts[0] / dts[1])),
              "only the first two step sizes are used: fit a least-squares line through all the points"),
    Diagnosis(lambda dts, errors: float(np.log(errors[0] / errors[-1]) / np.log(dts[0] / dts[-1])),
              "only the first and last step sizes are used: fit a least-squares line through all the points"),
    Diagnosis(lambda dts, errors: _slope(np.log(dts), np.log10(errors)),
              "two different logarithms are mixed (log10 of one, natural log of the other): use the same for both"),
    Diagnosis(lambda dts, errors: _slope(np.log10(dts), np.log(errors)),
              "two different logarithms are mixed (log10 of one, natural log of the other): use the same for both"),
    Diagnosis(lambda dts, errors: -D.estimate_order(dts, errors),
              "the sign is flipped: the error falls as dt falls, so the slope against log(dt) is positive"),
]


def _fresh_order_cases(rng: np.random.Generator) -> list[Case]:
    """Seeded step sizes and scattered power-law errors of a random order, for a grader."""
    dts = 0.3 * 0.5 ** np.arange(int(rng.integers(2, 7)))
    errors = rng.uniform(0.1, 5.0) * dts ** rng.uniform(0.5, 5.0) * rng.uniform(0.8, 1.2, len(dts))
    return [Case((dts, errors), label=f"fresh: {len(dts)} step sizes, scattered errors (grading)")]


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
    return check_function(estimate_order, D.estimate_order, cases, diagnoses=ORDER_DIAGNOSES,
                          fresh_cases=_fresh_order_cases,
                          exercise="Exercise 1.2 (estimate_order)", rtol=1e-6,
                          hint="Fit a straight line to (log dt, log error), e.g. np.polyfit(np.log(dts), "
                               "np.log(errors), 1), and return its slope as a float.")


def _sparse_problem(seed: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = D.polynomial_library(rng.normal(size=(200, 2)), 3)
    xi = np.zeros((theta.shape[1], 2))
    xi[[1, 2, 6], 0] = [1.0, -2.0, 0.5]
    xi[[2, 9], 1] = [-1.0, 0.3]
    return theta, theta @ xi + noise * rng.normal(size=(200, 2))


def _cascading_problem() -> tuple[np.ndarray, np.ndarray]:
    """A noisy fit in six correlated terms where each refit pushes another term under 0.6: 5 passes to settle."""
    rng = np.random.default_rng(223)
    theta = rng.normal(size=(40, 6)) @ (np.eye(6) + 0.8 * np.tril(rng.normal(size=(6, 6)), -1))
    return theta, theta @ rng.normal(size=(6, 2)) + 0.5 * rng.normal(size=(40, 2))


def _stlsq_with(passes: Callable[[int], int] = lambda n: n, refit: str = "kept", magnitude: bool = True) -> Callable:
    """STLSQ with one thing changed: how many passes, what is refit ('kept', 'all', 'none', 'shared'), or |Ξ|."""
    def stlsq(theta, dxdt, threshold, n_iter=10):
        xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
        for _ in range(passes(n_iter)):
            small = (np.abs(xi) if magnitude else xi) < threshold
            xi[small] = 0.0
            if refit == "all":
                xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
            for j in range(dxdt.shape[1] if refit in ("kept", "shared") else 0):
                keep = ~small.any(axis=1) if refit == "shared" else ~small[:, j]
                if keep.any():
                    xi[:, j] = 0.0
                    xi[keep, j] = np.linalg.lstsq(theta[:, keep], dxdt[:, j], rcond=None)[0]
        return xi
    return stlsq


STLSQ_DIAGNOSES = [
    Diagnosis(_stlsq_with(passes=lambda n: min(n, 1)),
              "the loop stops after one pass (a `return` inside the loop?): threshold and refit n_iter times"),
    Diagnosis(_stlsq_with(passes=lambda n: 10),
              "n_iter is ignored (it only matters when it is not 10): loop `for _ in range(n_iter)`"),
    Diagnosis(_stlsq_with(passes=lambda n: max(n - 1, 0)),
              "the loop runs one pass too few: `for _ in range(n_iter)` makes n_iter passes"),
    Diagnosis(_stlsq_with(passes=lambda n: n + 1),
              "the loop runs one pass too many: `for _ in range(n_iter)` makes n_iter passes"),
    Diagnosis(_stlsq_with(refit="none"),
              "the kept terms are never refit: after zeroing, refit each column on its surviving terms"),
    Diagnosis(_stlsq_with(refit="all"),
              "the refit uses every library term, so the zeroed terms come back: refit only the kept columns"),
    Diagnosis(_stlsq_with(magnitude=False),
              "Ξ itself is compared with the threshold, so every negative coefficient is dropped: compare |Ξ|"),
    Diagnosis(_stlsq_with(refit="shared"),
              "one set of kept terms is shared by every column: keep = ~small[:, j] differs per column j"),
]


def _fresh_stlsq_cases(rng: np.random.Generator) -> list[Case]:
    """A seeded noisy sparse polynomial with a random threshold and number of passes, for a grader."""
    theta, dxdt = _sparse_problem(int(rng.integers(1000)), float(rng.uniform(0.0, 0.1)))
    return [Case((theta, dxdt, float(rng.uniform(0.05, 0.6)), int(rng.integers(1, 6))),
                 label="fresh sparse problem (grading)")]


def check_stlsq(stlsq: Callable) -> CheckResult:
    """Exercise 3.1: sequentially thresholded least squares, on problems that need one pass and several."""
    clean, clean_y = _sparse_problem(0, 0.0)
    noisy, noisy_y = _sparse_problem(1, 0.05)
    cascade, cascade_y = _cascading_problem()
    cases = [
        Case((clean, clean_y, 0.1), label="a clean sparse polynomial, threshold 0.1"),
        Case((noisy, noisy_y, 0.1), label="the same with noise, threshold 0.1 (small spurious terms must go)"),
        Case((cascade, cascade_y, 0.6),
             label="6 correlated terms, threshold 0.6: each refit pushes another term under it (5 passes)"),
        Case((cascade, cascade_y, 0.6, 3), label="the same with n_iter = 3 (three threshold-and-refit passes)"),
        Case((noisy, noisy_y, 0.0), label="threshold 0 (plain least squares)"),
        Case((noisy, noisy_y, 100.0), label="a threshold above every coefficient (all zero)"),
        Case((noisy, noisy_y, 0.4, 1), label="n_iter = 1 (one threshold-and-refit pass)"),
    ]
    return check_function(stlsq, D.stlsq, cases, diagnoses=STLSQ_DIAGNOSES, fresh_cases=_fresh_stlsq_cases,
                          exercise="Exercise 3.1 (stlsq)",
                          rtol=1e-6, atol=1e-8,
                          hint="Start from np.linalg.lstsq(theta, dxdt, rcond=None)[0]. Then n_iter times: mark "
                               "|Ξ| < threshold, set those to 0, and for each column j refit least squares on the "
                               "columns of theta that are still kept for j. Never refit the zeroed terms.")


def _coupled_with(sign: float = 1.0, second_sign: float = 1.0, on: int = 1, use_damping: bool = True,
                  by: int = 0, order: tuple = (0, 1, 2, 3)) -> Callable:
    """The coupled field with one thing changed: the spring's sign(s), the derivative it enters, damping, ..."""
    def field(x, k, damping=0.1):
        first = D.pendulum(x[..., :2], damping) if use_damping else D.pendulum(x[..., :2])
        second = D.pendulum(x[..., 2:], damping) if use_damping else D.pendulum(x[..., 2:])
        stretch = k * (x[..., by] - x[..., 2 + by])
        first[..., on] -= sign * stretch
        second[..., on] += sign * second_sign * stretch
        return np.concatenate([first, second], axis=-1)[..., list(order)]
    return field


COUPLED_DIAGNOSES = [
    Diagnosis(_coupled_with(sign=-1.0),
              "the spring's sign is flipped: dω1/dt gets −k(θ1 − θ2), pulling θ1 towards θ2"),
    Diagnosis(_coupled_with(second_sign=-1.0),
              "both pendulums get the same spring term: dω2/dt gets +k(θ1 − θ2), the opposite of dω1/dt's"),
    Diagnosis(_coupled_with(on=0),
              "the spring is added to the angles' derivatives: it changes dω/dt (index 1 of each half), not dθ/dt"),
    Diagnosis(_coupled_with(use_damping=False),
              "damping is not passed on to D.pendulum (it only matters when it is not 0.1)"),
    Diagnosis(_coupled_with(by=1),
              "the spring stretches with the angular velocities: it is k(θ1 − θ2), x[..., 0] − x[..., 2]"),
    Diagnosis(_coupled_with(order=(0, 2, 1, 3)),
              "the output order is (θ1, θ2, ω1, ω2): keep the input's order (θ1, ω1, θ2, ω2)"),
]


def _fresh_coupled_cases(rng: np.random.Generator) -> list[Case]:
    """A seeded batch of states with a random spring and damping, for a grader."""
    return [Case((rng.normal(size=(int(rng.integers(1, 8)), 4)), float(rng.uniform(0, 1)), float(rng.uniform(0, 0.5))),
                 label="fresh batch, random k and damping (grading)")]


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
    return check_function(coupled_field, D.coupled_pendulums, cases, diagnoses=COUPLED_DIAGNOSES,
                          fresh_cases=_fresh_coupled_cases,
                          exercise="Exercise 4.1 (coupled_field)", rtol=1e-10, atol=1e-12,
                          hint="Apply pendulum(…, damping) to x[..., :2] and to x[..., 2:], then add the spring: "
                               "dω1/dt gets −k(θ1 − θ2) and dω2/dt gets +k(θ1 − θ2). "
                               "Keep the order (θ1, ω1, θ2, ω2).")


def _lyapunov_with(offset: Callable[[float, int], float] = lambda d0, dim: d0 / math.sqrt(dim),
                   pull_back: bool = True, back_to: str = "d0", time: str = "total",
                   log: Callable = np.log) -> Callable:
    """The renormalization estimate with one thing changed: b's start, the pull-back, the time divided by, the log."""
    def estimate(f, x0, dt, n_renorm, steps_per_renorm, d0=1e-8):
        a = np.asarray(x0, dtype=float)
        b = a + offset(d0, a.shape[-1])
        total = np.zeros(a.shape[:-1])
        for _ in range(n_renorm):
            for _ in range(steps_per_renorm):
                a, b = D.rk4_step(f, a, dt), D.rk4_step(f, b, dt)
            d = np.linalg.norm(b - a, axis=-1)
            total = total + log(d / d0)
            if pull_back:
                b = a + (b - a) * ((d0 if back_to == "d0" else 1.0) / d)[..., None]
        elapsed = {"total": n_renorm * steps_per_renorm * dt, "rounds": n_renorm, "no steps": n_renorm * dt}[time]
        return total / elapsed
    return estimate


LYAPUNOV_DIAGNOSES = [
    Diagnosis(_lyapunov_with(offset=lambda d0, dim: d0),
              "b starts d0·√d away (x0 + d0 in every coordinate): start it at x0 + d0/√d, so the first distance is d0. "
              "Your value is close to the exponent's limit 0.5, but the procedure over this finite run gives less: the "
              "separation starts along (1, 1) and needs time to turn into the growing direction, so the expected value "
              "is what the steps above compute, not the limit"),
    Diagnosis(_lyapunov_with(pull_back=False),
              "b is never pulled back to distance d0: without it the separation saturates and the estimate drifts"),
    Diagnosis(_lyapunov_with(back_to="1"),
              "b is pulled back to distance 1, not d0: b = a + (b − a)·d0/d"),
    Diagnosis(_lyapunov_with(time="rounds"),
              "the total is divided by the number of renormalizations: divide by the time, "
              "n_renorm·steps_per_renorm·dt"),
    Diagnosis(_lyapunov_with(time="no steps"),
              "steps_per_renorm is missing from the elapsed time n_renorm·steps_per_renorm·dt"),
    Diagnosis(_lyapunov_with(log=np.log10),
              "log10 is used: the exponent is defined with the natural log (np.log)"),
]


def _fresh_lyapunov_cases(rng: np.random.Generator) -> list[Case]:
    """A seeded pendulum start with a random separation and schedule, for a grader."""
    return [Case((D.pendulum, rng.normal(size=2), 0.05, int(rng.integers(5, 20)), int(rng.integers(1, 6)),
                  float(10.0 ** rng.uniform(-9, -5))), label="fresh pendulum start (grading)")]


def check_lyapunov_exponent(lyapunov_exponent: Callable) -> CheckResult:
    """Exercise 5.1: the two-trajectory renormalization estimate of the largest Lyapunov exponent."""
    lorenz_states = np.array([[-5.9, -8.6, 19.6], [8.0, 4.0, 30.0]])
    cases = [
        Case((_linear, np.array([1.0, 1.0]), 0.05, 20, 5),
             label="dx/dt = diag(0.5, −1)·x up to t = 5 (its exponent is 0.5 as t → ∞; the procedure, followed "
                   "exactly over this finite run, gives 0.43)"),
        Case((D.lorenz, lorenz_states, 0.01, 20, 10), label="Lorenz, a batch of 2 states, 20 renormalizations"),
        Case((D.pendulum, np.array([1.0, 0.0]), 0.05, 30, 5, 1e-6), label="damped pendulum, d0 = 1e-6"),
        Case((D.van_der_pol, np.array([[2.0, 0.0]]), 0.02, 20, 1), label="Van der Pol, steps_per_renorm = 1"),
    ]
    return check_function(lyapunov_exponent, D.lyapunov_exponent, cases, diagnoses=LYAPUNOV_DIAGNOSES,
                          fresh_cases=_fresh_lyapunov_cases,
                          rtol=1e-5, atol=1e-8, exercise="Exercise 5.1 (lyapunov_exponent)",
                          hint="Start b at x0 + d0/√d in every coordinate. Each round: steps_per_renorm rk4_steps "
                               "for both, d = np.linalg.norm(b − a, axis=-1), add log(d/d0), then pull b back to "
                               "a + (b − a)·d0/d. Divide the sum by the total time n_renorm·steps_per_renorm·dt.")
