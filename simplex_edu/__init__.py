"""simplex-edu: where do you pay for an answer? Runnable lessons on amortized and un-amortized inference.

Importing the package stays cheap: topic modules (and torch) load only when a lesson imports them. It sizes
torch's thread pool to the CPU this kernel may really use (:mod:`simplex_edu.cpu`, before torch loads) and, in a
Jupyter kernel, returns freed memory to the OS after every cell (:mod:`simplex_edu.memory`).
"""

from simplex_edu.cpu import apply_cpu_budget
from simplex_edu.memory import release_after_each_cell

__version__ = "0.1.0"

apply_cpu_budget()
release_after_each_cell()
