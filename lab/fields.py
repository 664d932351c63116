"""The fields of each results record, in the order they are written.

Part of the results format (``lab.results``, which alone imports this module and
offers every name here as its own: ``results.RUN_FIELDS``). Kept apart so that the
format's module stays readable; like ``results``' own module statements, these
change no number (``lab.fingerprint.NUMBERLESS``).
"""

# Keys of run.json, in the order they are written.
RUN_FIELDS = (
    "name",  # experiment name
    "status",  # "ok"
    "run_id",  # UTC timestamp, unique per run: "20261126T223300Z"
    "started",  # ISO 8601 UTC
    "duration_s",  # wall time of the whole run
    "commit",  # git commit of the repository, or null outside git
    "dirty",  # whether the working tree had uncommitted changes
    "inputs_commit",  # if dirty: the commit whose inputs are the run's all the same (make check-inputs), or null
    "params",  # {name: value}, defaults merged with overrides
    "seed",  # params["seed"] when the experiment has one, else null
    "versions",  # {package: version} for python, torch, transformer-lens, ...
    "machine",  # {"cpu": model name, "cpuid": "family/model/stepping"}, or null in a run recorded before it
    "environment",  # what can change numbers (threads, torch, cpu_capability, device), or null
    "cells",  # [{"index": i, "duration_s": s}] for each code cell
    "metrics",  # {name: {"value": v, "unit": u, "description": d}}
    "figures",  # [{"id": id, "caption": c, "file": "figures/ID.json"}]
    "input_hash",  # "script=H params=H prose=H": short hashes of each input (staleness)
    "code",  # {"lab/train.py:train": fingerprint}: the lab code the run executed (lab.executed)
    "timings",  # {TIMING_FIELDS}: where the run's seconds went, or null in a run recorded before them
    "models",  # {model cache file: seconds its training took}: the trained models the run used, or null before them
)

# Keys of run.json's ``timings``, in the order they are written: seconds, adding up to ``total_s``.
TIMING_FIELDS = (
    "kernel_start_s",  # from the run's start to its first cell: the kernel's boot, papermill, the script read
    "training_s",  # in the kernel, inside lab.phases.timed("training"): models trained (loading is not)
    "evaluation_s",  # inside lab.phases.timed("evaluation"): models scored on problems
    "analysis_s",  # the rest of the cells' time
    "page_s",  # writing the page, the executed notebook and the figures (lab.runner.publish)
    "other_s",  # the rest: between cells, the kernel's shutdown, the lock, git's state
    "total_s",  # wall time from the run's start to its results written (duration_s stops before the page)
)

# Keys of failure.json, in the order they are written.
FAILURE_FIELDS = (
    "run_id",  # of the failed attempt
    "when",  # ISO 8601 UTC, when the failed attempt started
    "cell",  # index of the failing cell in the kept notebook
    "line",  # line of experiments/NAME.py that raised, or null if unknown
    "source",  # the text of that line
    "exception",  # exception type, e.g. "ValueError"
    "message",  # exception message
    "notebook",  # the kept failed notebook, relative to the repository root
    "input_hash",  # inputs of the failed attempt: a rerun is due once they change
    "code",  # the lab code it executed up to the failure (see run.json), or null
)

# Keys of archived.json (lab.runner.archive), in the order they are written.
ARCHIVE_FIELDS = (
    "commit",  # the commit that made the results: they are a record of it
    "dirty",  # whether that run had uncommitted changes (then the commit alone cannot remake it)
    "inputs_commit",  # if dirty: the commit whose inputs are the results' all the same (make check-inputs), or null
    "when",  # ISO 8601 UTC, when the results were archived
    "why",  # in words
)

# Keys of reproduction.json, in the order they are written.
REPRODUCTION_FIELDS = (
    "run_id",  # of the committed run that was reproduced
    "when",  # ISO 8601 UTC, when the reproduction started
    "commit",  # git commit it ran at, or null outside git
    "dirty",  # whether the working tree had uncommitted changes (outside site/)
    "environment",  # the reproduction's numerics environment (see run.json), or null
    "cached",  # true if trained models came from the model cache, false if retrained
    "tolerance",  # {"relative": r, "why": ...}: 0 (bit-identical) when the environments match
    "duration_s",  # wall time of the reproduction
    "identical",  # how many metrics came out bit-identical
    "within",  # how many differ, within the tolerance
    "drifted",  # how many differ beyond it, are new, or are missing
    "drifts",  # [{"metric", "committed", "new", "difference"}] for the drifted ones
    "timings",  # [{"metric", "committed", "new"}]: wall-clock metrics (unit "s"), shown, not compared
    "failure",  # "Exception: message" if the reproduction failed to run, else null
)

# Keys of sweep.json, in the order they are written.
SWEEP_FIELDS = (
    "name",  # experiment name
    "sweep",  # sweep id: a name declared in the script's header, --name, or derived from the grid
    "grid",  # {parameter: [values]}: the swept values, in the order given
    "engine",  # "pool" or "ray", of the latest invocation
    "updated",  # ISO 8601 UTC, when the latest invocation finished
    "commit",  # git commit of the latest invocation, or null outside git
    "dirty",  # whether the working tree had uncommitted changes then
    "inputs_commit",  # if dirty: the commit whose code gives its aggregates from its points (make check-inputs), or null
    "points",  # [SWEEP_POINT_FIELDS], in grid order
    "aggregates",  # [AGGREGATE_FIELDS]: each metric over seeds, per group of the other parameters
    "figures",  # [{"id": id, "caption": c, "file": "figures/ID.json"}]: the aggregate figures
)

# Keys of each entry of sweep.json's ``points``.
SWEEP_POINT_FIELDS = (
    "id",  # directory name under points/: "seed-0", "lr-0.003_seed-1"
    "params",  # {name: value}: the swept values of this point (the rest are the defaults)
    "status",  # "ok", "failed", or "missing" (never ran, or cancelled)
    "run_id",  # of the run now in points/ID/run.json, or null
    "input_hash",  # of that run (or of the failed attempt): a rerun is due once the inputs change
    "metrics",  # {name: value} of the good run, {} otherwise
)

# Keys of each entry of sweep.json's ``aggregates``.
AGGREGATE_FIELDS = (
    "group",  # {parameter: value}: the swept parameters other than the seed
    "metric",  # metric name
    "unit",  # its unit, or null
    "n",  # how many good points (seeds) the group has for it
    "mean",
    "std",
    "ci_low",
    "ci_high",  # lab.stats.summarize; std and interval null for n = 1
)
