"""Lesson 04's mistake catalogue: plausible wrong answers each check must reject (naming the mistake where it can),
and right answers written differently that it must accept."""

import numpy as np
from mistakes import Alternative, Mistake, catalogue_tests

from simplex_edu import dynamics as D
from simplex_edu.checks import dynamics as checks

# --- Exercise 1.1: rk4_step --------------------------------------------------------------------------------------


def rk4_full_steps(f, x, dt):
    k1 = f(x)
    k2 = f(x + dt * k1)
    k3 = f(x + dt * k2)
    k4 = f(x + dt * k3)
    return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4_equal_weights(f, x, dt):
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k3)
    return x + dt / 4 * (k1 + k2 + k3 + k4)


def rk4_k3_from_k1(f, x, dt):
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k1)
    k4 = f(x + dt * k3)
    return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4_k4_from_k2(f, x, dt):  # the slip lesson 04's Help note calls most common
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k2)
    return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4_without_dt(f, x, dt):
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k3)
    return x + (k1 + 2 * k2 + 2 * k3 + k4) / 6


def rk4_half_k4(f, x, dt):
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + 0.5 * dt * k3)
    return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4_in_place(f, x, dt):
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k3)
    x += dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def euler(f, x, dt):
    return x + dt * f(x)


def rk4_tableau(f, x, dt):
    offsets, weights, slopes = [0.0, 0.5, 0.5, 1.0], np.array([1, 2, 2, 1]) / 6, []
    for offset in offsets:  # each stage moves along the previous stage's slope (none for the first)
        slopes.append(f(x + offset * dt * (slopes[-1] if slopes else 0.0)))
    return x + dt * sum(w * k for w, k in zip(weights, slopes))


# --- Exercise 1.2: estimate_order -------------------------------------------------------------------------------

def order_swapped_axes(dts, errors):
    return float(np.polyfit(np.log(errors), np.log(dts), 1)[0])


def order_intercept(dts, errors):
    return float(np.polyfit(np.log(dts), np.log(errors), 1)[1])


def order_first_two(dts, errors):
    return float(np.log(errors[1] / errors[0]) / np.log(dts[1] / dts[0]))


def order_mixed_logs(dts, errors):
    return float(np.polyfit(np.log(dts), np.log10(errors), 1)[0])


def order_against_inverse_dt(dts, errors):
    return float(np.polyfit(np.log(1 / dts), np.log(errors), 1)[0])


def order_by_lstsq(dts, errors):
    design = np.column_stack([np.log(dts), np.ones(len(dts))])
    return np.linalg.lstsq(design, np.log(errors), rcond=None)[0][0]


def order_by_covariance(dts, errors):
    x, y = np.log2(dts), np.log2(errors)  # any base works for both: the ratio of logs is the same
    return float(np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2))


# --- Exercise 3.1: stlsq ----------------------------------------------------------------------------------------

def stlsq_returns_in_loop(theta, dxdt, threshold, n_iter=10):
    xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    for _ in range(n_iter):
        small = np.abs(xi) < threshold
        xi[small] = 0.0
        for j in range(dxdt.shape[1]):
            keep = ~small[:, j]
            if keep.any():
                xi[keep, j] = np.linalg.lstsq(theta[:, keep], dxdt[:, j], rcond=None)[0]
        return xi


def stlsq_ignores_n_iter(theta, dxdt, threshold, n_iter=10):
    xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    for _ in range(10):
        small = np.abs(xi) < threshold
        xi[small] = 0.0
        for j in range(dxdt.shape[1]):
            keep = ~small[:, j]
            if keep.any():
                xi[keep, j] = np.linalg.lstsq(theta[:, keep], dxdt[:, j], rcond=None)[0]
    return xi


def stlsq_never_refits(theta, dxdt, threshold, n_iter=10):
    xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    for _ in range(n_iter):
        xi[np.abs(xi) < threshold] = 0.0
    return xi


def stlsq_refits_everything(theta, dxdt, threshold, n_iter=10):
    xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    for _ in range(n_iter):
        xi[np.abs(xi) < threshold] = 0.0
        xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    return xi


def stlsq_signed_threshold(theta, dxdt, threshold, n_iter=10):
    xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    for _ in range(n_iter):
        small = xi < threshold
        xi[small] = 0.0
        for j in range(dxdt.shape[1]):
            keep = ~small[:, j]
            if keep.any():
                xi[keep, j] = np.linalg.lstsq(theta[:, keep], dxdt[:, j], rcond=None)[0]
    return xi


def stlsq_one_pass_short(theta, dxdt, threshold, n_iter=10):
    xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    for _ in range(n_iter - 1):
        small = np.abs(xi) < threshold
        xi[small] = 0.0
        for j in range(dxdt.shape[1]):
            keep = ~small[:, j]
            if keep.any():
                xi[keep, j] = np.linalg.lstsq(theta[:, keep], dxdt[:, j], rcond=None)[0]
    return xi


def stlsq_masked_columns(theta, dxdt, threshold, n_iter=10):
    xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    for _ in range(n_iter):
        keep = np.abs(xi) >= threshold
        # a zeroed column contributes nothing, and lstsq's minimum-norm solution gives it a zero coefficient
        xi = np.stack([np.linalg.lstsq(theta * keep[:, j], dxdt[:, j], rcond=None)[0] for j in range(dxdt.shape[1])],
                      axis=1)
    return xi


def stlsq_stops_when_settled(theta, dxdt, threshold, n_iter=10):
    xi = np.linalg.lstsq(theta, dxdt, rcond=None)[0]
    previous = None
    for _ in range(n_iter):
        small = np.abs(xi) < threshold
        if previous is not None and np.array_equal(small, previous):
            break  # the same terms again: another refit would give the same coefficients
        previous = small
        xi[small] = 0.0
        for j in np.flatnonzero((~small).any(axis=0)):
            xi[~small[:, j], j] = np.linalg.lstsq(theta[:, ~small[:, j]], dxdt[:, j], rcond=None)[0]
    return xi


# --- Exercise 4.1: coupled_field --------------------------------------------------------------------------------

def coupled_sign_flipped(x, k, damping=0.1):
    first, second = D.pendulum(x[..., :2], damping), D.pendulum(x[..., 2:], damping)
    stretch = k * (x[..., 0] - x[..., 2])
    first[..., 1] += stretch
    second[..., 1] -= stretch
    return np.concatenate([first, second], axis=-1)


def coupled_same_sign(x, k, damping=0.1):
    first, second = D.pendulum(x[..., :2], damping), D.pendulum(x[..., 2:], damping)
    stretch = k * (x[..., 0] - x[..., 2])
    first[..., 1] -= stretch
    second[..., 1] -= stretch
    return np.concatenate([first, second], axis=-1)


def coupled_on_angles(x, k, damping=0.1):
    first, second = D.pendulum(x[..., :2], damping), D.pendulum(x[..., 2:], damping)
    stretch = k * (x[..., 0] - x[..., 2])
    first[..., 0] -= stretch
    second[..., 0] += stretch
    return np.concatenate([first, second], axis=-1)


def coupled_default_damping(x, k, damping=0.1):
    first, second = D.pendulum(x[..., :2]), D.pendulum(x[..., 2:])
    stretch = k * (x[..., 0] - x[..., 2])
    first[..., 1] -= stretch
    second[..., 1] += stretch
    return np.concatenate([first, second], axis=-1)


def coupled_velocity_spring(x, k, damping=0.1):
    first, second = D.pendulum(x[..., :2], damping), D.pendulum(x[..., 2:], damping)
    stretch = k * (x[..., 1] - x[..., 3])
    first[..., 1] -= stretch
    second[..., 1] += stretch
    return np.concatenate([first, second], axis=-1)


def coupled_explicit(x, k, damping=0.1):
    t1, w1, t2, w2 = np.moveaxis(x, -1, 0)
    return np.stack([w1, -np.sin(t1) - damping * w1 - k * (t1 - t2),
                     w2, -np.sin(t2) - damping * w2 + k * (t1 - t2)], axis=-1)


# --- Exercise 5.1: lyapunov_exponent ----------------------------------------------------------------------------

def lyapunov(f, x0, dt, n_renorm, steps_per_renorm, d0=1e-8, *, start=None, pull=True, per=None, log=np.log):
    """The procedure with knobs, so each mistake below is one changed knob (the catalogue's wrong answers)."""
    a = np.asarray(x0, dtype=float)
    b = a + (d0 / np.sqrt(a.shape[-1]) if start is None else start(d0))
    total = np.zeros(a.shape[:-1])
    for _ in range(n_renorm):
        for _ in range(steps_per_renorm):
            a, b = D.rk4_step(f, a, dt), D.rk4_step(f, b, dt)
        d = np.linalg.norm(b - a, axis=-1)
        total = total + log(d / d0)
        if pull:
            b = a + (b - a) * (d0 / d)[..., None]
    return total / (n_renorm * steps_per_renorm * dt if per is None else per(n_renorm, steps_per_renorm, dt))


def lyapunov_no_sqrt(f, x0, dt, n_renorm, steps_per_renorm, d0=1e-8):
    return lyapunov(f, x0, dt, n_renorm, steps_per_renorm, d0, start=lambda d0: d0)


def lyapunov_no_pull_back(f, x0, dt, n_renorm, steps_per_renorm, d0=1e-8):
    return lyapunov(f, x0, dt, n_renorm, steps_per_renorm, d0, pull=False)


def lyapunov_per_round(f, x0, dt, n_renorm, steps_per_renorm, d0=1e-8):
    return lyapunov(f, x0, dt, n_renorm, steps_per_renorm, d0, per=lambda n, s, dt: n)


def lyapunov_log10(f, x0, dt, n_renorm, steps_per_renorm, d0=1e-8):
    return lyapunov(f, x0, dt, n_renorm, steps_per_renorm, d0, log=np.log10)


def lyapunov_forgets_steps(f, x0, dt, n_renorm, steps_per_renorm, d0=1e-8):
    return lyapunov(f, x0, dt, n_renorm, steps_per_renorm, d0, per=lambda n, s, dt: n * dt)


def lyapunov_unit_vector(f, x0, dt, n_renorm, steps_per_renorm, d0=1e-8):
    a = np.asarray(x0, dtype=float)
    delta = np.full_like(a, d0 / np.sqrt(a.shape[-1]))  # follow the separation vector itself
    log_growth = 0.0
    for _ in range(n_renorm):
        b = a + delta
        for _ in range(steps_per_renorm):
            a, b = D.rk4_step(f, a, dt), D.rk4_step(f, b, dt)
        distance = np.sqrt(((b - a) ** 2).sum(-1, keepdims=True))
        log_growth = log_growth + np.log(distance[..., 0] / d0)
        delta = d0 * (b - a) / distance
    return log_growth / (dt * steps_per_renorm * n_renorm)


M = Mistake
MISTAKES = [
    M("check_rk4_step", "full steps for k2 and k3", rk4_full_steps, "k2 and k3 take a full step"),
    M("check_rk4_step", "equal weights (dt/4)", rk4_equal_weights, "equal weights"),
    M("check_rk4_step", "k3 computed from k1", rk4_k3_from_k1, "k3 is computed from k1"),
    M("check_rk4_step", "k4 computed from k2", rk4_k4_from_k2, "k4 is computed from k2"),
    M("check_rk4_step", "forgets dt in the final combination", rk4_without_dt, "dt is missing"),
    M("check_rk4_step", "half a step for k4", rk4_half_k4, "k4 takes half a step"),
    M("check_rk4_step", "an Euler step", euler, "Euler's step"),
    M("check_rk4_step", "updates x in place (x += …), moving the caller's state too", rk4_in_place,
      "changed its input `x` in place"),
    M("check_estimate_order", "fits log dt against log error (axes swapped)", order_swapped_axes,
      "the axes are swapped"),
    M("check_estimate_order", "returns the intercept", order_intercept, "this is the intercept"),
    M("check_estimate_order", "uses only the first two step sizes", order_first_two, "only the first two"),
    M("check_estimate_order", "log10 of the errors, ln of the step sizes", order_mixed_logs,
      "two different logarithms are mixed"),
    M("check_estimate_order", "the slope against log(1/dt) (sign flipped)", order_against_inverse_dt,
      "the sign is flipped"),
    M("check_stlsq", "returns inside the loop (one pass)", stlsq_returns_in_loop, "stops after one pass"),
    M("check_stlsq", "ignores n_iter (always 10 passes)", stlsq_ignores_n_iter, "n_iter is ignored"),
    M("check_stlsq", "one pass too few (range(n_iter - 1))", stlsq_one_pass_short, "one pass too few"),
    M("check_stlsq", "thresholds but never refits", stlsq_never_refits, "never refit"),
    M("check_stlsq", "refits on every library term", stlsq_refits_everything, "the zeroed terms come back"),
    M("check_stlsq", "compares Ξ (not |Ξ|) with the threshold", stlsq_signed_threshold, "compare |Ξ|"),
    M("check_coupled_field", "the spring's sign flipped", coupled_sign_flipped, "sign is flipped"),
    M("check_coupled_field", "the same spring term for both pendulums", coupled_same_sign,
      "both pendulums get the same spring term"),
    M("check_coupled_field", "the spring added to dθ/dt", coupled_on_angles, "added to the angles' derivatives"),
    M("check_coupled_field", "damping not passed on (only matters off 0.1)", coupled_default_damping,
      "damping is not passed on"),
    M("check_coupled_field", "the spring stretched by ω1 − ω2", coupled_velocity_spring, "angular velocities"),
    M("check_lyapunov_exponent", "starts b at x0 + d0 (forgets /√d): gives the limit 0.5, not the run's 0.43",
      lyapunov_no_sqrt, "Your value is close to the exponent's limit 0.5"),
    M("check_lyapunov_exponent", "never pulls b back", lyapunov_no_pull_back, "never pulled back"),
    M("check_lyapunov_exponent", "divides by the number of renormalizations", lyapunov_per_round,
      "divided by the number of renormalizations"),
    M("check_lyapunov_exponent", "log10 instead of the natural log", lyapunov_log10, "log10 is used"),
    M("check_lyapunov_exponent", "forgets steps_per_renorm in the elapsed time", lyapunov_forgets_steps,
      "steps_per_renorm is missing"),
]

A = Alternative
ALTERNATIVES = [
    A("check_rk4_step", "a Butcher-tableau loop over the four stages", rk4_tableau),
    A("check_estimate_order", "np.linalg.lstsq on [log dt, 1]", order_by_lstsq),
    A("check_estimate_order", "the covariance formula, in log base 2", order_by_covariance),
    A("check_stlsq", "zeroed columns masked out of theta, minimum-norm lstsq", stlsq_masked_columns),
    A("check_stlsq", "stops early once the kept terms settle", stlsq_stops_when_settled),
    A("check_coupled_field", "the equations written out with np.sin", coupled_explicit),
    A("check_lyapunov_exponent", "follows the separation vector, restarting b each round", lyapunov_unit_vector),
]

(test_mistake_is_rejected, test_alternative_is_accepted, test_alternative_is_accepted_under_grading,
 test_every_check_is_covered) = catalogue_tests(checks, MISTAKES, ALTERNATIVES)
