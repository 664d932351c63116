"""Where a sweep's points run: a local pool of processes, or Ray tasks on a cluster.

Both engines take the same tasks and hand each point's result files back to the
driver as bytes (``{relative path: bytes}``), never through a shared filesystem, so
the driver alone publishes them (``lab.runner.sweep``):

- ``pool`` (``--jobs N``): each point is ``python -m lab sweep-point ...`` in its own
  process group, writing into a scratch directory; its output goes to a log file.
- ``ray``: each point is a Ray task on the cluster named by ``RAY_ADDRESS`` (a local
  instance when unset), asking for ``numerics.THREADS`` CPUs and a GPU where the
  cluster has one; the task gets a copy of the repository (``runtime_env``).

Ctrl-C or SIGTERM of the driver arrives here as KeyboardInterrupt: the pool sends
SIGTERM, then SIGKILL, to the process groups it started (the kernels exit with
them); Ray cancels the tasks and disconnects, leaving any cluster it did not start.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import LabError, numerics
from lab.runner import publish, run, scripts

ENGINES = ("pool", "ray")
GRACE_S = 10  # after SIGTERM, how long a point has to shut its kernel down
# What a Ray task's copy of the repository leaves out: results, caches, environments.
RAY_EXCLUDES = [".venv", ".git", "site", "build", ".cache", ".pytest_cache", "**/__pycache__"]

Files = dict[str, bytes]


@dataclass
class Task:
    point: str  # the point id
    overrides: dict[str, Any]  # its parameter values
    slot: str  # its lock and work directory beside the experiment's (``run.run``)


Done = Callable[[Task, Files], None]
Say = Callable[[str], None]


def run_point(name: str, overrides: dict[str, Any], slot: str, target: Path, root: Path, say: Say) -> Files:
    """Run one point into the scratch directory ``target``; its files, failed or not."""
    shutil.rmtree(target, ignore_errors=True)
    try:
        run.run(scripts.read_script(name, root), overrides, root, say, target=target, slot=slot)
    except run.RunFailed as failed:
        say(failed.traceback)
    return read_files(target)


def read_files(folder: Path) -> Files:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- the local pool


def run_pool(name: str, tasks: list[Task], root: Path, jobs: int, done: Done, say: Say) -> None:
    """Run ``tasks`` as ``jobs`` processes at a time; ``done`` gets each one's files."""
    scratch = root / publish.BUILD / "points" / name
    started: dict[int, subprocess.Popen] = {}
    lock = threading.Lock()
    cancelled = threading.Event()

    def one(task: Task) -> None:
        folder = scratch / task.slot
        publish.fresh_dir(folder)
        command = [
            sys.executable,
            "-m",
            "lab",
            "sweep-point",
            name,
            "--slot",
            task.slot,
            "--target",
            str(folder / "out"),
            "--params-json",
            json.dumps(task.overrides),
        ]
        with lock:
            if cancelled.is_set():
                return
            with open(folder / "log.txt", "w") as log:
                proc = subprocess.Popen(
                    command,
                    cwd=root,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            started[proc.pid] = proc
        say(f"[{task.point}] started (pid {proc.pid}, log {folder.relative_to(root) / 'log.txt'})")
        proc.wait()
        if not cancelled.is_set():
            done(task, read_files(folder / "out"))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one, task) for task in tasks]
        try:
            for future in futures:
                future.result()
        except BaseException:
            with lock:
                cancelled.set()
                live = [p for p in started.values() if p.poll() is None]
            _stop(live, say)
            raise


def _stop(procs: list[subprocess.Popen], say: Say) -> None:
    """SIGTERM to each process group we started, then SIGKILL to those still there."""
    for proc in procs:
        say(f"stopping point process {proc.pid}")
        _signal_group(proc, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # its own group (start_new_session): the pid is the group id
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------- Ray


def _ray_point(name: str, overrides: dict[str, Any], slot: str) -> Files:
    """A Ray task: one point in this worker's copy of the repository (its working dir)."""
    root = Path.cwd()
    return run_point(
        name,
        overrides,
        slot,
        root / publish.BUILD / "points" / name / slot / "out",
        root,
        lambda line: print(line, flush=True),
    )


def run_ray(name: str, tasks: list[Task], root: Path, done: Done, say: Say) -> None:
    """Run ``tasks`` as Ray tasks on ``RAY_ADDRESS`` (or a local instance); ``done`` gets
    each one's files as it arrives."""
    try:
        import ray
    except ImportError:
        raise LabError("the ray engine needs ray: pip install -c constraints.txt -e '.[ray]'") from None

    address = os.environ.get("RAY_ADDRESS")
    say(f"connecting to Ray at {address}" if address else "starting a local Ray instance")
    local = {} if address else {"include_dashboard": False}  # options only for an instance we start
    try:
        ray.init(
            address=address or None,
            runtime_env={"working_dir": str(root), "excludes": RAY_EXCLUDES},
            log_to_driver=False,
            **local,
        )
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise LabError(
            f"no Ray cluster at RAY_ADDRESS={address}: {err}"
            if address
            else f"a local Ray instance did not start: {err}",
            code=1,
        ) from None
    try:
        gpus = 1 if ray.cluster_resources().get("GPU") else 0
        remote = ray.remote(_ray_point).options(num_cpus=numerics.THREADS, num_gpus=gpus, max_retries=0)
        pending = {remote.remote(name, task.overrides, task.slot): task for task in tasks}
        say(f"{len(pending)} Ray tasks submitted ({numerics.THREADS} CPUs" + (", 1 GPU" if gpus else "") + " each)")
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                task = pending.pop(ready[0])
                try:
                    files = ray.get(ready[0])
                except ray.exceptions.RayError as err:  # the task itself broke: no results
                    say(f"[{task.point}] the Ray task failed: {err}")
                    files = {}
                done(task, files)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    finally:
        ray.shutdown()  # disconnects; stops the instance only if this driver started it
