"""Dynamical systems: a few symbols of equation against the work of integrating them into behaviour.

Vector fields act on batches: a state array of shape ``(..., d)`` maps to a derivative of the same shape, so
one call integrates many initial conditions at once (numpy, float64). Learned models (flow maps, vector
fields) are trained with the course's shared loop and wrapped so they take and return numpy arrays too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations_with_replacement
from typing import Callable

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator
from torch import nn

from simplex_edu.compute import time_call
from simplex_edu.nn import MLP
from simplex_edu.plots import COLORS, describe
from simplex_edu.training import History, TrainConfig, seed_everything, train

Field = Callable[[np.ndarray], np.ndarray]
Step = Callable[[Field, np.ndarray, float], np.ndarray]

LORENZ_LYAPUNOV = 0.9056  # largest exponent for sigma=10, rho=28, beta=8/3 (literature value)


# --- systems ------------------------------------------------------------------------------------------------

def pendulum(x: np.ndarray, damping: float = 0.1, omega0: float = 1.0) -> np.ndarray:
    """Damped pendulum, state (θ, ω): dθ/dt = ω, dω/dt = −ω0² sin θ − damping·ω."""
    theta, omega = x[..., 0], x[..., 1]
    return np.stack([omega, -omega0**2 * np.sin(theta) - damping * omega], axis=-1)


def couple(single: Field, x: np.ndarray, k: float | np.ndarray) -> np.ndarray:
    """Two copies of a 2-d oscillator ``single``, state (θ1, ω1, θ2, ω2), joined by a spring of stiffness k."""
    a, b = x[..., :2], x[..., 2:]
    stretch = np.asarray(k) * (a[..., 0] - b[..., 0])
    fa, fb = single(a), single(b)
    # The composition is one added term per oscillator: the spring pulls each angle towards the other.
    fa = np.stack([fa[..., 0], fa[..., 1] - stretch], axis=-1)
    fb = np.stack([fb[..., 0], fb[..., 1] + stretch], axis=-1)
    return np.concatenate([fa, fb], axis=-1)


def coupled_pendulums(x: np.ndarray, k: float | np.ndarray = 0.3, damping: float = 0.1,
                      omega0: float = 1.0) -> np.ndarray:
    """Two damped pendulums (θ1, ω1, θ2, ω2) joined by a spring: dω1/dt gains −k(θ1−θ2), dω2/dt +k(θ1−θ2)."""
    return couple(lambda s: pendulum(s, damping, omega0), x, k)


def normal_mode_frequencies(k: float, omega0: float = 1.0) -> tuple[float, float]:
    """Normal-mode angular frequencies of two undamped coupled pendulums at small angle: ω0 and √(ω0² + 2k)."""
    return omega0, math.sqrt(omega0**2 + 2 * k)


def lorenz(x: np.ndarray, sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0) -> np.ndarray:
    """Lorenz system: dx = σ(y−x), dy = x(ρ−z) − y, dz = xy − βz."""
    X, Y, Z = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([sigma * (Y - X), X * (rho - Z) - Y, X * Y - beta * Z], axis=-1)


def van_der_pol(x: np.ndarray, mu: float = 1.0) -> np.ndarray:
    """Van der Pol oscillator, state (x, v): dx/dt = v, dv/dt = μ(1 − x²)v − x (a stable limit cycle)."""
    X, V = x[..., 0], x[..., 1]
    return np.stack([V, mu * (1 - X**2) * V - X], axis=-1)


def pendulum_energy(x: np.ndarray, omega0: float = 1.0) -> np.ndarray:
    """Energy per unit mass of a pendulum state: ω²/2 + ω0²(1 − cos θ); 2ω0² is the over-the-top energy."""
    return 0.5 * x[..., 1] ** 2 + omega0**2 * (1 - np.cos(x[..., 0]))


def sample_pendulum_states(n: int, seed: int = 0, max_energy: float = 1.2) -> np.ndarray:
    """``n`` pendulum states drawn uniformly from the region below ``max_energy`` (below over-the-top: < 2)."""
    rng = np.random.default_rng(seed)
    theta_max = math.acos(1 - max_energy)
    omega_max = math.sqrt(2 * max_energy)
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        box = rng.uniform([-theta_max, -omega_max], [theta_max, omega_max], size=(2 * n, 2))
        keep = box[pendulum_energy(box) < max_energy]
        found.append(keep)
        count += len(keep)
    return np.concatenate(found)[:n]


# --- integrators --------------------------------------------------------------------------------------------

def euler_step(f: Field, x: np.ndarray, dt: float) -> np.ndarray:
    """One explicit Euler step: x + dt·f(x)."""
    return x + dt * f(x)


def rk4_step(f: Field, x: np.ndarray, dt: float) -> np.ndarray:
    """One classical Runge–Kutta step: four slopes, weighted 1, 2, 2, 1."""
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k3)
    return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def integrate(f: Field, x0: np.ndarray, dt: float, n_steps: int, step: Step = rk4_step,
              save_every: int = 1) -> np.ndarray:
    """Trajectory of shape (n_steps // save_every + 1, *x0.shape), from x0 in steps of dt (float64, batched)."""
    x = np.asarray(x0, dtype=np.float64)
    saved = [x]
    for i in range(1, n_steps + 1):
        x = step(f, x, dt)
        if i % save_every == 0:
            saved.append(x)
    return np.stack(saved)


def final_state(f: Field, x0: np.ndarray, dt: float, horizon: float, step: Step = rk4_step) -> np.ndarray:
    """The state at time ``horizon`` (a whole number of steps of dt), without storing the path.

    Refuses a horizon that is not a whole number of steps: rounding it would stop at the wrong time, an error of
    order dt that would make any integrator look first-order.
    """
    n_steps = horizon / dt if dt > 0 and horizon >= 0 else -1.0
    if n_steps < 0 or abs(n_steps - round(n_steps)) > 1e-9 * max(1.0, n_steps):
        raise ValueError(f"horizon {horizon:g} is not a whole number of steps of dt = {dt:g} "
                         f"({n_steps:.6g} steps); choose dt = horizon / n for a whole n")
    x = np.asarray(x0, dtype=np.float64)
    for _ in range(int(round(n_steps))):
        x = step(f, x, dt)
    return x


def step_errors(f: Field, x0: np.ndarray, horizon: float, dts: list[float], step: Step = rk4_step) -> np.ndarray:
    """Largest error at ``horizon`` for each step size, against RK4 with a step 1/20 of the smallest."""
    reference = final_state(f, x0, min(dts) / 20, horizon)
    return np.array([np.max(np.abs(final_state(f, x0, dt, horizon, step) - reference)) for dt in dts])


def estimate_order(dts: np.ndarray, errors: np.ndarray) -> float:
    """Convergence order p in error ≈ C·dtᵖ: the least-squares slope of log(error) against log(dt)."""
    return float(np.polyfit(np.log(dts), np.log(errors), 1)[0])


def integration_seconds(f: Field, x0: np.ndarray, dt: float, horizons: list[float]) -> np.ndarray:
    """Measured wall seconds to integrate from x0 to each horizon with RK4 at step dt."""
    return np.array([time_call(lambda h=h: final_state(f, x0, dt, h), repeat=3) for h in horizons])


# --- amortizing trajectories: a flow map ---------------------------------------------------------------------

class _Residual(nn.Module):
    """x(t) = x0 + (t/T)·net(x0, t/T): exact at t = 0, so the net only learns how the state moves."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.net = MLP([dim + 1, hidden, hidden, hidden, dim], activation=nn.SiLU)

    def forward(self, x0: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Predicted state at scaled time s = t/T in [0, 1]."""
        return x0 + s * self.net(torch.cat([x0, s], dim=-1))


@dataclass
class FlowMap:
    """A trained flow map (x0, t) → x(t) for 0 ≤ t ≤ horizon; takes and returns numpy arrays."""

    model: _Residual
    horizon: float

    def __call__(self, x0: np.ndarray, t: float | np.ndarray) -> np.ndarray:
        """States at time(s) t: x0 (..., d) and a scalar t give (..., d); an array of n times gives (n, ..., d)."""
        x0 = np.asarray(x0, dtype=np.float32)
        times = np.atleast_1d(np.asarray(t, dtype=np.float32))
        xs = np.broadcast_to(x0, (len(times), *x0.shape)).copy()
        ss = np.broadcast_to((times / self.horizon).reshape(-1, *[1] * x0.ndim), (len(times), *x0.shape[:-1], 1)).copy()
        with torch.no_grad():
            out = self.model(torch.from_numpy(xs), torch.from_numpy(ss))
        out = out.numpy().astype(np.float64)
        return out[0] if np.ndim(t) == 0 else out


def train_flow_map(f: Field, x0s: np.ndarray, horizon: float, dt: float = 0.05, hidden: int = 64,
                   config: TrainConfig | None = None) -> tuple[FlowMap, History]:
    """Integrate every x0 once, then train a net on random (x0, t) → x(t) pairs drawn from those paths."""
    config = config or TrainConfig(steps=1500, lr=3e-3, batch_size=512, description="flow map")
    paths = torch.tensor(integrate(f, x0s, dt, int(round(horizon / dt))), dtype=torch.float32)  # (n_t, n, d)
    n_t, n = paths.shape[:2]
    seed_everything(config.seed)
    model = _Residual(x0s.shape[-1], hidden)

    def make_batch(size: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
        i = torch.randint(0, n, (size,), generator=gen)
        j = torch.randint(0, n_t, (size,), generator=gen)
        return paths[0, i], (j.float() / (n_t - 1)).unsqueeze(-1), paths[j, i]

    def loss_fn(net: nn.Module, x0: torch.Tensor, s: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ((net(x0, s) - target) ** 2).mean()

    history = train(model, make_batch, loss_fn, config)
    return FlowMap(model, horizon), history


# --- compressing trajectories back into equations -------------------------------------------------------------

def finite_difference(paths: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """States and their time derivatives from sampled paths (n_t, ..., d), by 4th-order central differences.

    Returns (X, dX) flattened to (samples, d); the two samples at each end of every path are dropped.
    """
    dx = (paths[:-4] - 8 * paths[1:-3] + 8 * paths[3:-1] - paths[4:]) / (12 * dt)
    d = paths.shape[-1]
    return paths[2:-2].reshape(-1, d), dx.reshape(-1, d)


def library_terms(dim: int, degree: int) -> list[tuple[int, ...]]:
    """Monomials up to ``degree`` in ``dim`` variables, each as a tuple of variable indices (() is the constant)."""
    return [c for p in range(degree + 1) for c in combinations_with_replacement(range(dim), p)]


def polynomial_library(x: np.ndarray, degree: int, terms: list[tuple[int, ...]] | None = None) -> np.ndarray:
    """Every monomial of the state's variables up to ``degree``: (..., d) → (..., n_terms), constant first.

    ``terms`` picks a subset of ``library_terms(d, degree)`` (a sparse field evaluates only the terms it uses).
    """
    columns: dict[tuple[int, ...], np.ndarray] = {(): np.ones(x.shape[:-1])}

    def monomial(term: tuple[int, ...]) -> np.ndarray:
        if term not in columns:  # each monomial is a shorter one times one variable: no repeated products
            columns[term] = monomial(term[:-1]) * x[..., term[-1]]
        return columns[term]

    return np.stack([monomial(t) for t in (terms if terms is not None else library_terms(x.shape[-1], degree))],
                    axis=-1)


def term_name(term: tuple[int, ...], names: str) -> str:
    """A monomial as text: (0, 0, 1) with names 'xyz' → 'x²y'."""
    if not term:
        return "1"
    powers = "⁰¹²³⁴⁵⁶⁷⁸⁹"
    out = ""
    for i in sorted(set(term)):
        n = term.count(i)
        out += names[i] + (powers[n] if n > 1 else "")
    return out


def stlsq(theta: np.ndarray, dxdt: np.ndarray, threshold: float, n_iter: int = 10) -> np.ndarray:
    """Sequentially thresholded least squares: a sparse Ξ with dxdt ≈ theta @ Ξ (coefficients < threshold → 0)."""
    xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    for _ in range(n_iter):
        small = np.abs(xi) < threshold
        xi[small] = 0.0
        for j in range(dxdt.shape[1]):
            keep = ~small[:, j]
            if keep.any():
                xi[keep, j] = np.linalg.lstsq(theta[:, keep], dxdt[:, j], rcond=None)[0]
    return xi


@dataclass
class PolynomialField:
    """A vector field that is a sparse polynomial: f(x) = library(x) @ coefficients."""

    coefficients: np.ndarray  # (n_terms, d)
    degree: int
    names: str = "xyzw"

    def __post_init__(self) -> None:
        used = np.flatnonzero(np.any(self.coefficients != 0, axis=1))
        terms = library_terms(self.coefficients.shape[1], self.degree)
        # Integrating calls the field thousands of times: evaluate only the terms a sparse fit kept.
        self._terms, self._used = [terms[i] for i in used], self.coefficients[used]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The field at a batch of states (..., d), evaluating only the library terms in use."""
        return polynomial_library(x, self.degree, self._terms) @ self._used

    def term_names(self) -> list[str]:
        """The library's terms as text, in the order of the coefficients' rows."""
        return [term_name(t, self.names) for t in library_terms(self.coefficients.shape[1], self.degree)]

    def equations(self, digits: int = 3) -> list[str]:
        """One readable line per variable, e.g. 'dx/dt = -10 x + 10 y'."""
        return equation_lines(self.term_names(), self.coefficients, self.names, digits)


def equation_lines(term_names: list[str], coefficients: np.ndarray, names: str, digits: int = 3) -> list[str]:
    """Sparse coefficients (n_terms × d) as one readable line per variable, e.g. 'dx/dt = -10 x + 10 y'."""
    lines = []
    for j in range(coefficients.shape[1]):
        parts = []
        for name, c in zip(term_names, coefficients[:, j]):
            if c == 0:
                continue
            constant = name == "1"
            size = f"{abs(c):.{digits}g}"
            size = "" if not constant and size == "1" else size + ("" if constant else " ")
            parts.append(f"{'-' if c < 0 else '+'} {size}{'' if constant else name}")
        text = " ".join(parts) if parts else "0"
        lines.append(f"d{names[j]}/dt = " + (text[2:] if text.startswith("+ ") else
                                              "-" + text[2:] if text.startswith("- ") else text))
    return lines


def coefficient_errors(field: PolynomialField, truth: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """Relative error of every coefficient that is non-zero in the fit or in ``truth`` {(variable, term): value}.

    A term the fit kept but the truth lacks, or dropped but the truth has, counts as an infinite error.
    """
    errors = {}
    for j, variable in enumerate(field.names[:field.coefficients.shape[1]]):
        for i, name in enumerate(field.term_names()):
            true, fitted = truth.get((variable, name), 0.0), field.coefficients[i, j]
            if true != 0 and fitted != 0:
                errors[variable, name] = abs(fitted / true - 1)
            elif true != 0 or fitted != 0:
                errors[variable, name] = math.inf
    return errors


def fit_with_sin(x: np.ndarray, dxdt: np.ndarray, threshold: float, degree: int = 3) -> tuple[list[str], np.ndarray]:
    """Sparse regression of a pendulum's (θ, ω) derivatives on the cubic library plus sin θ: (term names, Ξ)."""
    library = np.column_stack([polynomial_library(x, degree), np.sin(x[:, 0])])
    return [term_name(t, "θω") for t in library_terms(2, degree)] + ["sin θ"], stlsq(library, dxdt, threshold)


def fit_polynomial_field(x: np.ndarray, dxdt: np.ndarray, degree: int, threshold: float,
                         names: str = "xyzw") -> PolynomialField:
    """Sparse regression of derivatives on a polynomial library (states and derivatives as (samples, d))."""
    return PolynomialField(stlsq(polynomial_library(x, degree), dxdt, threshold), degree, names)


@dataclass
class MLPField:
    """A vector field given by a small network; numpy float64 in and out, so the RK4 integrator can use it."""

    model: nn.Module
    scale: np.ndarray  # derivatives are learned in units of their spread

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The field at a batch of states (..., d)."""
        with torch.no_grad():
            out = self.model(torch.from_numpy(np.asarray(x, dtype=np.float64)))
        return out.numpy() * self.scale


def train_mlp_field(x: np.ndarray, dxdt: np.ndarray, hidden: int = 64,
                    config: TrainConfig | None = None) -> tuple[MLPField, History]:
    """Fit a small MLP to (state, derivative) pairs with the shared training loop."""
    config = config or TrainConfig(steps=800, lr=3e-3, batch_size=256, description="MLP vector field")
    scale = dxdt.std(axis=0)
    xs = torch.tensor(x, dtype=torch.float32)
    ys = torch.tensor(dxdt / scale, dtype=torch.float32)
    seed_everything(config.seed)
    model = MLP([x.shape[1], hidden, hidden, x.shape[1]], activation=nn.SiLU)

    def make_batch(size: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        i = torch.randint(0, len(xs), (size,), generator=gen)
        return xs[i], ys[i]

    history = train(model, make_batch, lambda net, a, b: ((net(a) - b) ** 2).mean(), config)
    return MLPField(model.double(), scale), history


# --- composing: coupled oscillators ------------------------------------------------------------------------

def split_coupled(single: Field, x0: np.ndarray, k: float, horizon: float, split_dt: float,
                  substeps: int = 10) -> np.ndarray:
    """Coupled oscillators rebuilt from the separate flows: each alone for split_dt, then the spring's kick.

    The flow of one oscillator alone is taken as known exactly (RK4 with ``substeps`` steps per split);
    the spring alone changes only the velocities, by ∓k(θ1−θ2)·split_dt. Returns the state at ``horizon``.
    """
    x = np.asarray(x0, dtype=np.float64)
    alone = lambda s: couple(single, s, 0.0)  # noqa: E731 - both oscillators, no spring
    for _ in range(int(round(horizon / split_dt))):
        for _ in range(substeps):
            x = rk4_step(alone, x, split_dt / substeps)
        kick = k * (x[..., 0] - x[..., 2]) * split_dt
        x = np.stack([x[..., 0], x[..., 1] - kick, x[..., 2], x[..., 3] + kick], axis=-1)
    return x


def separate_flows(flow: Callable[[np.ndarray, np.ndarray], np.ndarray], x0: np.ndarray,
                   times: np.ndarray) -> np.ndarray:
    """Coupled states predicted by applying a single-oscillator flow to each half: no spring, no energy transfer."""
    return np.concatenate([flow(x0[..., :2], times), flow(x0[..., 2:], times)], axis=-1)


def rms_error(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Root-mean-square error over a batch and the state variables, one number per time: (n_t, n, d) → (n_t,)."""
    return np.sqrt(np.mean((pred - truth) ** 2, axis=tuple(range(1, truth.ndim))))


def strategy_errors(flow: FlowMap, fields: dict[str, Field], x0: np.ndarray, k: float, horizon: float = 10.0,
                    dt: float = 0.05, coarse_dt: float = 0.25, split_dt: float = 0.5) -> dict:
    """RMS error against time of every strategy, for single pendulums and for pairs joined by a spring k.

    ``x0`` holds single-pendulum states; each coupled pair starts with one of them released and its partner at
    rest. ``fields`` are learned single-pendulum vector fields; coupled, each gets the spring added. The truth
    is RK4 at dt/5. Returns {"single": {name: (times, errors)}, "coupled": {name: (times, errors)}}.
    """
    n = int(round(horizon / dt))
    times = dt * np.arange(n + 1)
    coarse, split_every = int(round(coarse_dt / dt)), int(round(split_dt / dt))
    truth = integrate(pendulum, x0, dt / 5, 5 * n, save_every=5)
    single = {f"RK4 on the equation, dt = {coarse_dt:g}":
              (times[::coarse], rms_error(integrate(pendulum, x0, coarse_dt, n // coarse), truth[::coarse])),
              "flow map (one pass per query)": (times, rms_error(flow(x0, times), truth))}
    single.update({name: (times, rms_error(integrate(f, x0, dt, n), truth)) for name, f in fields.items()})

    pairs = np.concatenate([x0, np.zeros_like(x0)], axis=-1)
    spring = lambda s: coupled_pendulums(s, k)  # noqa: E731
    truth = integrate(spring, pairs, dt / 5, 5 * n, save_every=5)
    split = [pairs]
    for _ in range(n // split_every):
        split.append(split_coupled(pendulum, split[-1], k, split_dt, split_dt))
    coupled = {f"RK4 on equations + spring, dt = {coarse_dt:g}":
               (times[::coarse], rms_error(integrate(spring, pairs, coarse_dt, n // coarse), truth[::coarse])),
               "separate flow maps, no spring": (times, rms_error(separate_flows(flow, pairs, times), truth)),
               f"splitting the exact flows, step {split_dt:g}":
               (times[::split_every], rms_error(np.stack(split), truth[::split_every]))}
    coupled.update({f"{name} + spring": (times, rms_error(integrate(lambda s, f=f: couple(f, s, k), pairs, dt, n),
                                                          truth)) for name, f in fields.items()})
    return {"single": single, "coupled": coupled}


# First matching word decides a strategy's colour, line style and marker (the marker only on lines with few
# points): the same look means the same strategy in both panels, and no two strategies differ by colour alone.
STRATEGY_STYLES = {"splitting": (COLORS["exact"], "-", "s"), "separate": (COLORS["amortized"], "--", None),
                   "flow map": (COLORS["amortized"], "--", None), "polynomial": (COLORS["accent"], "-.", None),
                   "MLP": (COLORS["baseline"], ":", None), "RK4": (COLORS["unamortized"], "-", "o")}


def plot_strategy_errors(axes, data: dict) -> None:
    """Two panels, error against time (log scale): single pendulums, then pendulums joined by a spring."""
    for ax, key, title in zip(axes, ("single", "coupled"), ("one pendulum", "two pendulums + a weak spring")):
        for name, (times, errors) in data[key].items():
            color, style, marker = next((look for word, look in STRATEGY_STYLES.items() if word in name),
                                        (None, "-", None))
            ax.semilogy(times[1:], errors[1:], style, color=color, label=name, lw=1.8,
                        marker=marker if len(times) < 50 else None, ms=3)
        ax.set_title(title)
        ax.set_xlabel("time")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    axes[0].set_ylabel("RMS error of the state")


def query_seconds(flow: FlowMap, x0: np.ndarray, horizon: float, dts: tuple[float, ...]) -> dict[str, float]:
    """Measured seconds to answer one query x(horizon) from x0: RK4 at each step in ``dts``, or one flow-map pass."""
    costs = {f"RK4, dt = {dt:g}": time_call(lambda dt=dt: final_state(pendulum, x0, dt, horizon)) for dt in dts}
    costs["flow map"] = time_call(lambda: flow(x0, horizon))
    return costs


# --- chaos ----------------------------------------------------------------------------------------------------

def lyapunov_exponent(f: Field, x0: np.ndarray, dt: float, n_renorm: int, steps_per_renorm: int,
                      d0: float = 1e-8) -> np.ndarray | float:
    """Largest Lyapunov exponent by two-trajectory renormalization (one estimate per initial condition)."""
    x0 = np.asarray(x0, dtype=np.float64)
    xa = x0
    xb = x0 + d0 / math.sqrt(x0.shape[-1])
    total = np.zeros(x0.shape[:-1])
    for _ in range(n_renorm):
        for _ in range(steps_per_renorm):
            xa = rk4_step(f, xa, dt)
            xb = rk4_step(f, xb, dt)
        d = np.linalg.norm(xb - xa, axis=-1)
        total = total + np.log(d / d0)
        xb = xa + (xb - xa) * (d0 / d)[..., None]
    return total / (n_renorm * steps_per_renorm * dt)


def lorenz_attractor_states(n: int, seed: int = 0, transient: float = 20.0, dt: float = 0.01) -> np.ndarray:
    """``n`` states on the Lorenz attractor: random starts run for ``transient`` time units to forget them."""
    rng = np.random.default_rng(seed)
    x0 = rng.normal(0, 1, size=(n, 3)) + np.array([1.0, 1.0, 25.0])
    return final_state(lorenz, x0, dt, transient)


def separation(f: Field, x0: np.ndarray, delta0: float, dt: float, n_steps: int,
               save_every: int = 1) -> np.ndarray:
    """Distance between each trajectory and one started ``delta0`` away, at every saved step: (n_saved, ...)."""
    x0 = np.asarray(x0, dtype=np.float64)
    both = np.stack([x0, x0 + delta0 / math.sqrt(x0.shape[-1])])
    paths = integrate(f, both, dt, n_steps, save_every=save_every)
    return np.linalg.norm(paths[:, 1] - paths[:, 0], axis=-1)


def plot_separation(ax, times: np.ndarray, gaps: np.ndarray, lyapunov: float, delta0: float,
                    tolerance: float = 1.0) -> None:
    """Distances between trajectory pairs (thin), their geometric mean (bold), δ0·e^(λt), and the horizon."""
    horizon = predictability_horizon(lyapunov, delta0, tolerance)
    ax.semilogy(times, gaps, color=COLORS["unamortized"], lw=0.5, alpha=0.35)
    ax.semilogy(times, np.exp(np.log(gaps).mean(axis=1)), color=COLORS["unamortized"], lw=2,
                label=f"distance (geometric mean of {gaps.shape[1]} pairs)")
    ax.semilogy(times, delta0 * np.exp(lyapunov * times), "--", color=COLORS["exact"],
                label=f"{delta0:.0e}·e^({lyapunov:g} t)")
    ax.axvline(horizon, color=COLORS["baseline"], ls=":",
               label=f"predictability horizon (ε = {tolerance:g}): t = {horizon:.0f}")
    ax.set(ylim=(delta0 / 10, 1e3), xlabel="time", ylabel="distance between trajectories")
    ax.legend(fontsize=8, loc="lower right")


def predictability_horizon(lyapunov: float, delta0: float, tolerance: float) -> float:
    """Time until an initial error delta0 grows to ``tolerance`` at rate e^(λt): ln(tolerance/delta0)/λ."""
    return math.log(tolerance / delta0) / lyapunov


def bits_for_horizon(horizon: np.ndarray, lyapunov: float, tolerance: float = 1.0, scale: float = 20.0,
                     dim: int = 3) -> np.ndarray:
    """Bits of initial condition to predict to ``horizon`` within ``tolerance``: d·log2(scale/tol) + λt/ln 2.

    Every coordinate needs its starting precision; only the unstable direction (one, for Lorenz) needs more as the
    horizon grows, at λ/ln 2 bits per unit of time — the sum of the positive Lyapunov exponents, in bits.
    """
    return dim * np.log2(scale / tolerance) + np.asarray(horizon) * lyapunov / math.log(2)


# --- the explorer ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def pendulum_polynomial_field(damping: float, degree: int = 3, threshold: float = 0.01) -> PolynomialField:
    """A polynomial vector field learned from 100 trajectories of a pendulum with this damping (cached)."""
    paths = integrate(lambda s: pendulum(s, damping), sample_pendulum_states(100, seed=1), 0.05, 200)
    return fit_polynomial_field(*finite_difference(paths, 0.05), degree=degree, threshold=threshold, names="θω")


class CouplingExplorer:
    """Pendulum 1 released at θ0, pendulum 2 at rest, on a grid of dampings, springs and θ0, integrated up front.

    Calling it looks up one grid point and cuts the paths at the horizon, so an explorer update costs no
    integration: the truth (equations + spring), the separately known flows (no spring) and the learned
    polynomial field + spring.
    """

    def __init__(self, dampings: tuple[float, ...] = (0.0, 0.1, 0.2),
                 springs: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
                 thetas: tuple[float, ...] = (0.3, 0.6, 0.9, 1.2, 1.5, 1.8),
                 max_horizon: float = 40.0, dt: float = 0.1):
        self.dampings, self.springs, self.thetas = np.array(dampings), np.array(springs), np.array(thetas)
        self.dt = dt
        d, k, th = (a.ravel() for a in np.meshgrid(self.dampings, self.springs, self.thetas, indexing="ij"))
        x0 = np.stack([th, 0 * th, 0 * th, 0 * th], axis=-1)
        n = int(round(max_horizon / dt))
        self.times = dt * np.arange(n + 1)
        shape = (len(dampings), len(springs), len(thetas), n + 1, 4)
        # Every grid point in one batched integration: damping and spring are arrays, one entry per row.
        self.truth = _grid(integrate(lambda s: coupled_pendulums(s, k, d), x0, dt, n), shape)
        self.separate = _grid(integrate(lambda s: coupled_pendulums(s, 0.0, d), x0, dt, n), shape)
        learned = np.empty((len(d), n + 1, 4))
        for value in self.dampings:
            rows = d == value
            field = pendulum_polynomial_field(float(value))
            learned[rows] = integrate(lambda s: couple(field, s, k[rows]), x0[rows], dt, n).swapaxes(0, 1)
        self.learned = learned.reshape(shape)

    def __call__(self, damping: float, k: float, horizon: float, theta0: float) -> dict:
        """Paths up to ``horizon`` at the grid point nearest (damping, k, theta0), and their largest errors."""
        i, j, l = (int(np.argmin(np.abs(grid - v))) for grid, v in
                   ((self.dampings, damping), (self.springs, k), (self.thetas, theta0)))
        n = int(round(horizon / self.dt)) + 1
        truth, separate, learned = (a[i, j, l, :n] for a in (self.truth, self.separate, self.learned))
        return {"times": self.times[:n], "truth": truth, "separate": separate, "learned": learned,
                "error_separate": float(np.max(np.abs(separate - truth))),
                "error_learned": float(np.max(np.abs(learned - truth)))}


def _grid(paths: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(n_t, rows, d) paths → grid-indexed (…grid, n_t, d)."""
    return paths.swapaxes(0, 1).reshape(shape)


def draw_coupling(fig, data: dict) -> None:
    """θ1 and θ2 against time (two panels): the coupled truth, the separate flows, the learned field + spring."""
    axes = fig.axes
    if not hasattr(fig, "_lines"):
        fig._lines = []
        for ax, i, name in zip(axes, (0, 2), ("θ₁ (released)", "θ₂ (at rest)")):
            lines = [ax.plot([], [], color=COLORS["exact"], lw=2.5, alpha=0.5, label="equations + spring (truth)")[0],
                     ax.plot([], [], color=COLORS["unamortized"], ls="--", label="separate flows, no spring")[0],
                     ax.plot([], [], color=COLORS["amortized"], ls=":", lw=2, label="learned field + spring, integrated by RK4")[0]]
            fig._lines.append((i, lines))
            ax.set(title=name, xlabel="time", ylim=(-2, 2), xlim=(0, 40), yticks=[-2, -1, 0, 1, 2])
            ax.xaxis.set_major_locator(MaxNLocator(5))  # few tick labels: text is most of the redraw time
        axes[0].set_ylabel("angle")
        axes[1].tick_params(labelleft=False)
        fig.legend(handles=lines, loc="outside lower center", ncol=3, fontsize=8)
        fig.suptitle(" ", fontsize=10)
    for i, (truth, separate, learned) in fig._lines:
        for line, path in ((truth, data["truth"]), (separate, data["separate"]), (learned, data["learned"])):
            line.set_data(data["times"], path[:, i])
    for ax in axes:
        ax.set_xlim(0, data["times"][-1])
    fig.suptitle(f"largest error: separate flows {data['error_separate']:.2f}, "
                 f"learned field + spring {data['error_learned']:.2f}", fontsize=10)
    describe(fig, f"Two panels, the angles of the released and the resting pendulum against time up to "
                  f"{data['times'][-1]:.0f}: the coupled truth, the two separate flows without the spring (largest "
                  f"error {data['error_separate']:.2f}) and the learned field with the spring added (largest error "
                  f"{data['error_learned']:.2f}). Read how far each dashed line drifts from the truth.")
