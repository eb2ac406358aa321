"""simplex-edu: where do you pay for an answer? Runnable lessons on amortized and un-amortized inference.

Importing the package stays cheap: topic modules (and torch) load only when a lesson imports them. It sizes
torch's thread pool to the CPU this kernel may really use (see :mod:`simplex_edu.cpu`), before torch loads.
"""

from simplex_edu.cpu import apply_cpu_budget

__version__ = "0.1.0"

apply_cpu_budget()
