"""The lab: an interpretability notebook for small transformers learning n-digit addition.

Research wing (imports torch / TransformerLens): task, models, train, analysis, figures.
Publishing wing (never imports torch at module level): runner, wiki, cli.
They meet at ``results``, the one owner of the results format.
"""

import os
import platform
import warnings

__version__ = "0.1.0"

# The instruction sets numerics dispatch to, capped at AVX2 on x86: AVX2 and AVX-512
# kernels round differently, so the same seed trained 2,500 steps on an AVX-512
# machine gave another model than on the AVX2 machines that made the committed
# results; capped, it gives the committed one bit for bit. Set at the lab's first
# import, before torch, MKL or oneDNN choose their kernels (they choose once, at
# their first operation), and not left to the shell: it is part of the result, like
# the thread count (``lab.numerics``), which checks that the cap took.
CPU_CAPABILITY = "AVX2"
if platform.machine().lower() in ("x86_64", "amd64"):
    os.environ.update(
        ATEN_CPU_CAPABILITY=CPU_CAPABILITY.lower(),  # torch's own kernels
        MKL_ENABLE_INSTRUCTIONS=CPU_CAPABILITY,  # matrix products (torch's BLAS is MKL)
        # and MKL's reproducible mode for them: capped at AVX2 alone, MKL still picked
        # its code path by the machine, and a Sapphire Rapids machine gave every model
        # another last bit than the machines that made the committed results (loss-shelf's
        # held-out loss differed from its initialization on). Strict AVX2 gives theirs,
        # bit for bit, over the whole of its training.
        MKL_CBWR=f"{CPU_CAPABILITY},STRICT",
        ONEDNN_MAX_CPU_ISA=CPU_CAPABILITY,  # oneDNN's kernels
    )
    # numpy's own loops (exp, log, sums) dispatch on the CPU too: AVX-512 ones left 1-ulp
    # differences in a carry-odds figure. Its dispatch targets above AVX2 are turned off
    # (numpy reads this once, when imported).
    disabled = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").split()  # the user's, kept
    above_avx2 = [feature for feature in ("X86_V4", "AVX512_ICL", "AVX512_SPR") if feature not in disabled]
    os.environ["NPY_DISABLE_CPU_FEATURES"] = " ".join(disabled + above_avx2)
    # numpy's BLAS (OpenBLAS) picks its kernels by CPU too: on AVX-512 two carry-odds fits
    # differed from the AVX2 machines' in the last digit; Haswell's kernels (AVX2) give
    # theirs. Only where the machine has AVX2, and never over a setting the machine
    # makes itself (some set OPENBLAS_CORETYPE because other kernels fail on them).
    try:
        with open("/proc/cpuinfo") as cpuinfo:  # Linux; elsewhere left alone
            has_avx2 = "avx2" in cpuinfo.read().split()
    except OSError:
        has_avx2 = False
    if has_avx2:
        os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

# TransformerLens imports tqdm.auto, which warns in a kernel without ipywidgets: noise
# on every experiment page.
warnings.filterwarnings("ignore", message="IProgress not found")


class LabError(Exception):
    """Bad input from the user: printed as one line, exit code ``code``, no traceback."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code
