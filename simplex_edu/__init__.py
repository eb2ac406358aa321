"""simplex-edu: where do you pay for an answer? Runnable lessons on amortized and un-amortized inference.

Importing the package stays cheap: topic modules (and torch) load only when a lesson imports them.
"""

__version__ = "0.1.0"
