"""Checks for lesson 07's exercises: the queries a behaviour audit needs, measured detection, weight and activation audits."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from simplex_edu.checks.core import Case, CheckResult, Diagnosis, check_function, compare
from simplex_edu.hidden import detection_rate, fraction_outside, outside_residual, queries_needed


def _compare_count(expected: int, got: Any) -> str | None:
    """Exact whole numbers; a float that is a whole number is accepted (math.ceil of floats is already an int)."""
    if isinstance(got, (float, np.floating)) and float(got).is_integer():
        got = int(got)
    return compare(expected, got, rtol=0, atol=0)


def _queries_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((float(10.0 ** rng.uniform(-6, -1)), float(rng.uniform(0.5, 0.999))), label="fresh p and confidence")
            for _ in range(3)]


def check_queries_needed(fn: Callable[[float, float], int]) -> CheckResult:
    """Exercise 2.1: the smallest N with 1 − (1 − p)ᴺ ≥ confidence, for rare triggers, certain ones and ties."""
    cases = [Case((2.0 ** -11, 0.95), label="p = 2⁻¹¹ (network C's trigger), 95% (answer 6134)"),
             Case((0.01, 0.95), label="p = 0.01, 95% (answer 299)"),
             Case((0.1, 0.5), label="p = 0.1, 50% (answer 7)"),
             Case((0.5, 0.75), label="p = 0.5, 75% (answer 2: 1 − 0.5² is exactly 0.75, and ≥ counts)"),
             Case((1e-12, 0.95), label="p = 1e-12 (a trigger one in a trillion)"),
             Case((1.0, 0.95), label="p = 1 (every query hits it: answer 1)"),
             Case((0.2, 0.0), label="confidence 0 (no query needed: answer 0)")]
    return check_function(
        fn, queries_needed, cases, exercise="Exercise 2.1 (queries_needed)", compare_fn=_compare_count, rtol=0, atol=0,
        fresh_cases=_queries_cases,
        diagnoses=[Diagnosis(lambda p, c: math.ceil(c / p),
                             "detection was treated as growing linearly, N·p ≥ confidence; the chance to miss every "
                             "query is (1 − p)ᴺ, so solve 1 − (1 − p)ᴺ ≥ confidence with logarithms"),
                   Diagnosis(lambda p, c: math.floor(math.log1p(-c) / math.log1p(-p)),
                             "the count is rounded down: a fraction of a query still costs a whole one (math.ceil)"),
                   Diagnosis(lambda p, c: math.ceil(math.log(1 - c) / math.log(1 - p)),
                             "math.log(1 − p) loses the digits of a tiny p (1 − 1e-12 is rounded): use "
                             "math.log1p(-p), and math.log1p(-confidence)"),
                   Diagnosis(lambda p, c: math.ceil(math.log(c) / math.log1p(-p)),
                             "you solved (1 − p)ᴺ = confidence: (1 − p)ᴺ is the chance the audit *misses*; it must "
                             "fall to 1 − confidence"),
                   Diagnosis(lambda p, c: math.ceil(1 / p),
                             "1/p is the expected wait for the first hit, not the queries for a given confidence")],
        hint="the audit misses with probability (1 − p)ᴺ; find the smallest whole N with (1 − p)ᴺ ≤ 1 − confidence: "
             "N = ceil(log(1 − confidence) / log(1 − p)) with math.log1p for accuracy. p = 1 needs 1 query (log1p(-1) "
             "is −inf), confidence 0 needs none.")


def _wrong_and_draws(seed: int | np.random.Generator, inputs: int = 64, audits: int = 40, n: int = 12,
                     n_wrong: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    wrong = np.zeros(inputs, dtype=bool)
    wrong[rng.choice(inputs, n_wrong, replace=False)] = True
    return wrong, rng.integers(0, inputs, (audits, n))


def _rate_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(_wrong_and_draws(rng, int(rng.integers(8, 100)), int(rng.integers(5, 40)), int(rng.integers(1, 20)),
                                  1), label="fresh audits")]


def check_detection_rate(fn: Callable[[np.ndarray, np.ndarray], float]) -> CheckResult:
    """Exercise 2.2: the fraction of audits (rows of draws) that query at least one wrong input."""
    wrong, draws = _wrong_and_draws(0)
    square_wrong, square = _wrong_and_draws(3, inputs=16, audits=12, n=12, n_wrong=3)
    cases = [Case((wrong, draws), label="64 inputs, 2 wrong; 40 audits of 12 queries"),
             Case((square_wrong, square), label="16 inputs, 3 wrong; 12 audits of 12 queries (a square array)"),
             Case(_wrong_and_draws(1, inputs=32, audits=25, n=3, n_wrong=4), label="25 audits of 3 queries"),
             Case((np.zeros(10, dtype=bool), np.zeros((5, 4), dtype=int)), label="nothing wrong (answer 0)"),
             Case((np.ones(4, dtype=bool), np.zeros((3, 1), dtype=int)), label="everything wrong, one query each")]
    return check_function(
        fn, detection_rate, cases, exercise="Exercise 2.2 (detection_rate)", rtol=1e-12, atol=1e-12,
        fresh_cases=_rate_cases, inputs_read_only=True,
        diagnoses=[Diagnosis(lambda w, d: float(np.mean(w[d])),
                             "this is the fraction of *queries* that hit a wrong input (≈ p); an audit detects if "
                             "any one of its queries does: .any(axis=1) per row, then the mean over audits"),
                   Diagnosis(lambda w, d: float(np.mean(w[d].any(axis=0))),
                             "the .any ran down the columns (axis=0): each row of draws is one audit, so use axis=1"),
                   Diagnosis(lambda w, d: float(np.mean(w[d].all(axis=1))),
                             ".all asks that every query hits; one wrong answer is enough to detect (.any)"),
                   Diagnosis(lambda w, d: float(w[d].any()),
                             "one .any over the whole array says whether any audit detected, not what fraction did")],
        hint="wrong[draws] has the shape of draws and is True where a query hit a wrong input; an audit (a row) "
             "detects if any of its entries is True: wrong[draws].any(axis=1).mean().")


def _low_rank(seed: int | np.random.Generator, rows: int, rank: int, dim: int, positive: bool = False) -> np.ndarray:
    """A (rows, dim) matrix of the given rank; ``positive``: non-negative entries, like ReLU activations."""
    rng = np.random.default_rng(seed)
    left, right = rng.standard_normal((rows, rank)), rng.standard_normal((rank, dim))
    return np.abs(left) @ np.abs(right) if positive else left @ right


def _matrix_cases(rng: np.random.Generator) -> list[Case]:
    dim = int(rng.integers(4, 9))
    return [Case((rng.standard_normal((int(rng.integers(1, 6)), dim)), _low_rank(rng, 20, int(rng.integers(1, dim)),
                                                                                   dim)), label="fresh matrices")]


def _fraction_without_cutoff(m: np.ndarray, data: np.ndarray) -> float:
    vt = np.linalg.svd(data, full_matrices=False)[2]
    return float(np.sum((m - m @ vt.T @ vt) ** 2) / np.sum(m ** 2))


def _fraction_unsquared(m: np.ndarray, data: np.ndarray) -> float:
    _, s, vt = np.linalg.svd(data, full_matrices=False)
    basis = vt[s > 1e-8 * s[0]]
    return float(np.linalg.norm(m - m @ basis.T @ basis) / np.linalg.norm(m))


def _fraction_left_side(m: np.ndarray, data: np.ndarray) -> float:
    u, s, _ = np.linalg.svd(data, full_matrices=False)
    basis = u[:, s > 1e-8 * s[0]].T
    return float(np.sum((m - m @ basis.T @ basis) ** 2) / np.sum(m ** 2))


def check_fraction_outside(fn: Callable[[np.ndarray, np.ndarray], float]) -> CheckResult:
    """Exercise 3.1: the fraction of ‖matrix‖² outside the span of the data rows, with a rank cut-off."""
    data_2d = np.array([[1.0, 0, 0], [2.0, 0, 0], [0, 1.0, 0]])
    cases = [Case((np.array([[0.0, 0.0, 2.0], [1.0, 1.0, 1.0]]), data_2d),
                  label="data spanning the x–y plane; a row along z and a row (1, 1, 1) (answer 5/7)"),
             Case((np.array([[3.0, 4.0, 0.0]]), data_2d[:2]), label="data along x only, matrix (3, 4, 0) (answer 16/25)"),
             Case((np.array([[1.0, 2.0, 0.0]]), data_2d), label="a matrix inside the span (answer 0)"),
             Case((_low_rank(5, 3, 5, 7), _low_rank(6, 30, 3, 7)),
                  label="30 data rows of rank 3 in 7 dimensions (numerically rank 3: tiny singular values are noise)"),
             Case((_low_rank(7, 4, 2, 6), _low_rank(7, 40, 2, 6)), label="a matrix built from the data's own span")]
    return check_function(
        fn, fraction_outside, cases, exercise="Exercise 3.1 (fraction_outside)", rtol=1e-6, atol=1e-9,
        fresh_cases=_matrix_cases, inputs_read_only=True,
        diagnoses=[Diagnosis(_fraction_without_cutoff,
                             "every right singular vector was kept, even those with singular values ~1e-16: they "
                             "are rounding noise, not directions the data spans; keep s > rtol · s[0]"),
                   Diagnosis(_fraction_unsquared,
                             "this is a ratio of norms; the docstring asks for the fraction of the squared norm "
                             "(‖outside‖² / ‖matrix‖²)"),
                   Diagnosis(_fraction_left_side,
                             "the basis came from U, the left singular vectors: they index the data's rows, not "
                             "its coordinates; the span of the rows is given by the rows of Vt"),
                   Diagnosis(lambda m, d: 1.0 - fraction_outside(m, d),
                             "this is the fraction *inside* the span: the outside part is matrix − projection")],
        hint="with U, s, Vt = np.linalg.svd(data, full_matrices=False), the rows of Vt with s > rtol·s[0] are an "
             "orthonormal basis B of the data's span; the inside part of matrix is matrix @ B.T @ B; return "
             "‖matrix − inside‖² / ‖matrix‖² (np.sum of squares).")


def _residual_cases(rng: np.random.Generator) -> list[Case]:
    dim = int(rng.integers(5, 10))
    return [Case((_low_rank(rng, 30, dim - 2, dim, positive=True), rng.standard_normal((4, dim))),
                 label="fresh activations")]


def _residual_centred(data: np.ndarray, h: np.ndarray) -> np.ndarray:
    return outside_residual(data - data.mean(0), h)


def _residual_absolute(data: np.ndarray, h: np.ndarray) -> np.ndarray:
    return outside_residual(data, h) * np.linalg.norm(np.atleast_2d(h), axis=1)


def _residual_zero_rows_nan(data: np.ndarray, h: np.ndarray) -> np.ndarray:
    h = np.atleast_2d(h)
    with np.errstate(invalid="ignore", divide="ignore"):
        return outside_residual(data, h) * np.linalg.norm(h, axis=1) / np.linalg.norm(h, axis=1)


def check_outside_residual(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 3.2: each row's relative size outside the span of the data's activations (0 for a zero row)."""
    data = np.array([[1.0, 0, 0], [0, 2.0, 0], [1.0, 1.0, 0]])
    cases = [Case((data, np.array([[0.0, 0, 5.0], [3.0, 4.0, 0], [1.0, 0, 1.0]])),
                  label="data in the x–y plane; rows along z, in the plane, and at 45° (answers 1, 0, 0.707)"),
             Case((np.array([[2.0, 2.0, 0], [3.0, 3.0, 0]]), np.array([[1.0, 0, 0]])),
                  label="data along (1, 1, 0) only (answer 0.707)"),
             Case((np.array([[1.0, 0, 0], [1.0, 1.0, 0]]), np.array([[1.0, 0, 0]])),
                  label="data (1, 0, 0) and (1, 1, 0), which span the x–y plane; h = (1, 0, 0) (answer 0)"),
             Case((data, np.zeros((2, 3))), label="all-zero activations (answer 0, not nan)"),
             Case((_low_rank(3, 40, 4, 8, positive=True), _low_rank(4, 5, 8, 8)),
                  label="40 non-negative activation rows of rank 4 in 8 dimensions; 5 random rows")]
    return check_function(
        fn, outside_residual, cases, exercise="Exercise 3.2 (outside_residual)", rtol=1e-6, atol=1e-9,
        fresh_cases=_residual_cases, inputs_read_only=True,
        diagnoses=[Diagnosis(_residual_centred,
                             "the data were centred first: the docstring's span is the linear span of the rows "
                             "themselves (through the origin), no mean subtracted"),
                   Diagnosis(_residual_absolute,
                             "the residual is not divided by ‖h‖: the docstring asks for its size relative to the row"),
                   Diagnosis(_residual_zero_rows_nan,
                             "a zero row gives 0/0 = nan; the docstring asks for 0 there")],
        hint="basis = the rows of Vt (from np.linalg.svd(data_activations, full_matrices=False)) with s > rtol·s[0]; "
             "rest = h − h @ basis.T @ basis; return ‖rest‖ / ‖h‖ row by row (np.linalg.norm(..., axis=1)), 0 "
             "where ‖h‖ = 0.")
