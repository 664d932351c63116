"""What changes the numbers, fixed by the lab rather than by the user's shell.

Measured: training is bit-identical from run to run at a fixed number of torch
intra-op threads, but the same seed trained with 1 and with 2 threads gives different
weights (a reduction split over more threads adds its floats in another order), and
torch's default thread count follows the machine's cores and ``OMP_NUM_THREADS``.
So every number-producing entry point (``models.build_model``, ``train.train``) calls
``pin()``, which sets ``THREADS`` intra-op threads whatever the machine or the shell.

The CPU capability torch dispatches to (AVX2 and AVX-512 kernels round differently)
is capped at ``lab.CPU_CAPABILITY`` when the lab is first imported (torch, MKL,
oneDNN, numpy's own loops, and its OpenBLAS unless the machine sets its own core
type), so an AVX-512 machine gives the AVX2 machines' numbers; ``pin()`` refuses to go on if torch chose
its kernels before that (an operation run before ``import lab``). What the lab
cannot fix is named by ``environment()``: the torch version and build, a CPU without
AVX2, and the device. Runs record it in ``run.json``; the model cache keys weights by it.

    from lab import numerics
    numerics.pin()            # 2 threads, and the environment recorded for the run

torch is imported inside the functions, so that the publishing wing can read
``THREADS`` (the CPUs a run asks for) without it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from lab import CPU_CAPABILITY, LabError, results

if TYPE_CHECKING:
    import torch

# Two: the cores of the project's standard machine. The count is part of the result,
# not a speed knob: a machine with more cores still runs two threads.
THREADS = 2

# What torch reports on an x86 CPU below the cap: numbers of their own, recorded.
BELOW_CAP = ("DEFAULT",)


def default_jobs() -> int:
    """How many sweep points to run at once unless told: as many as the cores hold at
    ``THREADS`` threads each (1 on the standard 2-core machine). More oversubscribes
    the cores: torch's OpenMP threads spin while they wait for each other, and two
    2-thread trainings on 2 cores each ran several times slower than alone, so running
    them side by side took longer than one after the other."""
    return max(1, (os.cpu_count() or 1) // THREADS)


_recorded: set[str] = set()  # scratch directories this process has written the environment to


def environment(device: torch.device | str | None = None) -> dict[str, str | int | None]:
    """The settings that can change numbers: threads, torch version and build, CPU
    capability as torch reports it, MKL's reproducible mode, and the device
    (``default_device()`` if None). Part of each model's cache key: a model trained
    before the lab set MKL's mode is not loaded as one trained in it."""
    import torch

    device = torch.device(device) if device is not None else default_device()
    return {
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,  # None for the CPU build
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl_mode": os.environ.get("MKL_CBWR"),  # MKL's reproducible mode (set by ``import lab`` on x86)
        "device": device.type,
    }


def pin() -> dict[str, str | int | None]:
    """Fix the thread count and return the environment; inside a run (the runner sets
    ``LAB_OUTPUT_DIR``) also record it there, once per process."""
    import torch

    if torch.get_num_threads() != THREADS:
        torch.set_num_threads(THREADS)
    env = environment()
    capped = os.environ.get("ATEN_CPU_CAPABILITY") == CPU_CAPABILITY.lower()  # set on x86 by ``import lab``
    if capped and env["cpu_capability"] not in (CPU_CAPABILITY, *BELOW_CAP):
        raise LabError(
            f"torch chose its {env['cpu_capability']} kernels before the lab capped them at {CPU_CAPABILITY}: "
            "import lab before running any torch operation (the numbers would differ from other machines')"
        )
    out = os.environ.get(results.OUTPUT_DIR_ENV)
    if out and out not in _recorded:
        results.write_environment(Path(out), env)
        _recorded.add(out)
    return env


def default_device() -> torch.device:
    """CUDA when there is a GPU, else the CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
