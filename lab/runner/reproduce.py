"""Reproduce a committed run: ``make reproduce [NAME=...]``.

The experiment runs again with the parameters of its committed ``run.json``, in a
scratch place (``build/reproduce/NAME/``), its models retrained into a fresh scratch
cache unless ``--cached``; then every metric is compared with the committed one. The
committed results stay as they are; only the verdict, ``reproduction.json``, is
written next to them.

Same numerics environment (threads, torch build, CPU capability, device): every
metric must be bit-identical. Another environment cannot promise that (another CPU
capability rounds differently; CUDA even more), so a relative tolerance applies,
chosen in ``TOLERANCES``. A metric in seconds (unit ``"s"``, e.g. training time to an
accuracy) is a wall-clock time, which no environment repeats: it gets the verdict
``"timing"``, shown next to the committed value but never compared, never a failure.

An archived result (``lab.runner.archive``) is reproduced at its own commit: in a
temporary git worktree of that commit, whose lab reproduces the record copied into
it (``at_its_commit``); the verdict is written beside the record as for any other.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab import LabError, results
from lab.runner import archive, provenance, publish, run, scripts

REPRODUCE_DIR = publish.BUILD / "reproduce"
CACHE_ENV = "LAB_CACHE"  # read by lab.models: where trained models are cached

TIMING_UNIT = "s"  # metrics in this unit are wall-clock times: shown, not compared

# Relative tolerance by how the reproduction's environment differs from the committed one.
TOLERANCES = {
    "same": 0.0,  # same threads, torch, CPU capability and device: bit-identical
    "cpu": 1e-6,  # another CPU capability, thread count or torch build: float32 rounding
    "device": 1e-3,  # CUDA against CPU: other kernels, other reduction orders
}


@dataclass
class Tolerance:
    relative: float
    why: str


@dataclass
class Comparison:
    metric: str
    committed: float | None  # None: the metric is new
    new: float | None  # None: the metric went missing
    verdict: str  # "identical", "within", "drifted" or "timing" (not compared)

    @property
    def difference(self) -> float | None:
        return None if self.committed is None or self.new is None else self.new - self.committed


def tolerance(
    committed: dict | None, new: dict | None, machines: tuple[dict | None, dict | None] = (None, None)
) -> Tolerance:
    """The tolerance that applies between two numerics environments (run.json
    ``environment``) on two machines (run.json ``machine``, where both recorded one)."""
    if committed == new:
        then, now = (machine.get("cpuid") if machine else None for machine in machines)
        if then and now and then != now:  # the environment does not pin every number (provenance.machine)
            return Tolerance(TOLERANCES["cpu"], f"same environment on another CPU: cpuid {then} -> {now}")
        return Tolerance(TOLERANCES["same"], "same environment: bit-identical")
    if committed is None or new is None:
        which = "the committed run" if committed is None else "the reproduction"
        return Tolerance(TOLERANCES["cpu"], f"{which} recorded no environment")
    if committed.get("device") != new.get("device"):
        return Tolerance(TOLERANCES["device"], f"device {committed.get('device')} -> {new.get('device')}")
    changed = ", ".join(
        f"{key} {committed.get(key)} -> {new.get(key)}"
        for key in sorted({*committed, *new})
        if committed.get(key) != new.get(key)
    )
    return Tolerance(TOLERANCES["cpu"], changed)


def compare(committed: dict[str, dict], new: dict[str, dict], relative: float) -> list[Comparison]:
    """Every metric of either run (run.json ``metrics``), in the committed order then new
    ones; a metric in seconds in either run is a ``"timing"``, whatever its values."""
    comparisons = []
    for name in [*committed, *(n for n in new if n not in committed)]:
        old_value = committed[name]["value"] if name in committed else None
        new_value = new[name]["value"] if name in new else None
        if TIMING_UNIT in (committed.get(name, {}).get("unit"), new.get(name, {}).get("unit")):
            verdict = "timing"
        elif old_value is None or new_value is None:
            verdict = "drifted"
        elif new_value == old_value:
            verdict = "identical"
        elif math.isclose(new_value, old_value, rel_tol=relative, abs_tol=0.0):
            verdict = "within"
        else:
            verdict = "drifted"
        comparisons.append(Comparison(name, old_value, new_value, verdict))
    return comparisons


def committed_names(root: Path) -> list[str]:
    """The experiments that have a committed good run (a ``run.json``)."""
    names = scripts.experiment_names(root)
    return [n for n in results.result_names(root) if n in names and results.load_run(n, root)]


def reproduce(name: str, root: Path, say: run.Say, cache: Path | None = None) -> tuple[dict, list[Comparison]]:
    """Re-run ``name`` with its committed parameters and compare; (verdict, comparisons).

    ``cache`` is a fresh model cache to retrain into (``fresh_cache``), or None to load
    trained models from the lab's cache (``--cached``: checks only the analysis). The
    verdict is written to ``site/experiments/NAME/reproduction.json``.
    """
    root = Path(root).resolve()
    script = scripts.read_script(name, root)
    committed = results.load_run(name, root)
    if committed is None:
        raise LabError(f"{name} has no committed results to reproduce ({results.result_dir(name)}/{results.RUN})")
    overrides = _overrides(script, committed["params"])
    started = datetime.now(UTC)
    commit, dirty = provenance.git_state(root)
    target = root / REPRODUCE_DIR / name
    shutil.rmtree(target, ignore_errors=True)
    env = {CACHE_ENV: str(cache)} if cache else {}
    t0 = time.monotonic()
    try:
        new = run.run(script, overrides, root, say, target=target, env=env)
        failure = None
    except run.RunFailed as failed:
        new = {"metrics": {}, "environment": None}
        failure = f"{failed.failure['exception']}: {failed.failure['message']}"
    allowed = tolerance(
        committed.get("environment"), new["environment"], (committed.get("machine"), new.get("machine"))
    )
    comparisons = compare(committed["metrics"], new["metrics"], allowed.relative)
    count = {v: sum(c.verdict == v for c in comparisons) for v in ("identical", "within", "drifted")}
    verdict = results.make_record(
        results.REPRODUCTION_FIELDS,
        {
            "run_id": committed["run_id"],
            "when": started.isoformat(timespec="seconds"),
            "commit": commit,
            "dirty": dirty,
            "environment": new["environment"],
            "cached": cache is None,
            "tolerance": asdict(allowed),
            "duration_s": round(time.monotonic() - t0, 3),
            **count,
            "drifts": [
                {"metric": c.metric, "committed": c.committed, "new": c.new, "difference": c.difference}
                for c in comparisons
                if c.verdict == "drifted"
            ],
            "timings": [
                {"metric": c.metric, "committed": c.committed, "new": c.new}
                for c in comparisons
                if c.verdict == "timing"
            ],
            "failure": failure,
        },
    )
    results.atomic_write_json(results.result_dir(name, root) / results.REPRODUCTION, verdict)
    return verdict, comparisons


def at_its_commit(name: str, folder: Path, root: Path, cached: bool = False) -> dict:
    """Reproduce the archived record in ``folder`` (an experiment's results, or one
    sweep point's) at the commit it is a record of; the verdict, also written to
    ``folder/reproduction.json``.

    The record's files go into a worktree at the archive's commit as the experiment's
    results there, and that commit's ``python -m lab reproduce NAME`` runs them again
    with the record's parameters and compares. A run that writes no verdict (the
    worktree's lab failed before comparing) is a verdict with a failure.
    """
    root = Path(root).resolve()
    mark = archive.load(folder) or archive.load(folder.parent.parent)  # a point: its sweep's mark
    if mark is None:
        raise LabError(f"{folder.relative_to(root)} is not archived: reproduce it at the present commit")
    record = results.read_run(folder)
    # the commit whose inputs are the record's: its own, or a later one where make
    # check-inputs found that the uncommitted code it ran was committed after it
    commit = record.get("inputs_commit") or record["commit"] or mark["commit"]
    started, t0 = datetime.now(UTC), time.monotonic()
    with archive.worktree(commit, root) as place:
        there = results.result_dir(name, place)
        archive.copy_record(folder, there)
        (there / results.REPRODUCTION).unlink(missing_ok=True)
        code = archive.run_lab(place, ["reproduce", name, *(["--cached"] if cached else [])])
        written = there / results.REPRODUCTION
        verdict = results.read_json(written) if written.exists() else None
    if verdict is None:
        verdict = results.make_record(
            results.REPRODUCTION_FIELDS,
            {
                **dict.fromkeys(results.REPRODUCTION_FIELDS),
                "run_id": record["run_id"],
                "when": started.isoformat(timespec="seconds"),
                "commit": commit,
                "cached": cached,
                "duration_s": round(time.monotonic() - t0, 3),
                **dict.fromkeys(("identical", "within", "drifted"), 0),
                "drifts": [],
                "timings": [],
                "failure": f"the lab at commit {commit[:7]} wrote no verdict (exit code {code})",
            },
        )
    results.atomic_write_json(folder / results.REPRODUCTION, verdict)
    return verdict


def _overrides(script: scripts.Script, committed: dict[str, Any]) -> dict[str, Any]:
    """The committed parameters that differ from the script's defaults now."""
    gone = [k for k in committed if k not in script.params]
    if gone:
        raise LabError(
            f"{script.path} no longer has parameter {', '.join(gone)} of the committed run; "
            "reproduce runs the committed parameters"
        )
    defaults = script.defaults()
    return {k: v for k, v in committed.items() if v != defaults[k]}


def fresh_cache(root: Path) -> Path:
    """An empty ``build/reproduce/cache`` for ``LAB_CACHE``: shared by the experiments of
    one reproduce command, so each model is retrained once, not once per experiment."""
    return publish.fresh_dir(Path(root).resolve() / REPRODUCE_DIR / "cache")
