"""The lab: an interpretability notebook for small transformers learning n-digit addition.

Research wing (imports torch / TransformerLens): task, models, train, analysis, figures.
Publishing wing (never imports torch at module level): runner, wiki, cli.
They meet at ``results``, the one owner of the results format.
"""

import warnings

__version__ = "0.1.0"

# TransformerLens imports tqdm.auto, which warns in a kernel without ipywidgets: noise
# on every experiment page.
warnings.filterwarnings("ignore", message="IProgress not found")


class LabError(Exception):
    """Bad input from the user: printed as one line, exit code ``code``, no traceback."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code
