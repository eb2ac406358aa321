"""Exercise checks: shared machinery in ``core``, one module of checks per lesson."""

from simplex_edu.checks.core import Case, CheckFailed, CheckResult, Diagnosis, check_function, check_value, compare

__all__ = ["Case", "CheckFailed", "CheckResult", "Diagnosis", "check_function", "check_value", "compare"]
