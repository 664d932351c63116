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
A driver killed outright (SIGKILL) takes its points with it all the same: each point
process asks the kernel for SIGTERM when its parent dies (``follow_driver``), and its
kernel exits with it (ipykernel's parent poller).

A point that hands back no results (killed, refused its lock, its kernel never
started) comes with the reason its log or its Ray error gives (``Done``'s third
argument), so that the driver can say why.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
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
# How long RAY_ADDRESS has to accept a connection: ray.init retries an unreachable
# address for minutes, warning all along, so the driver tries the port itself first.
RAY_PROBE_S = 5.0
DRIVER_ENV = "LAB_SWEEP_DRIVER"  # the pid of the pool driver, in a point process's environment
PR_SET_PDEATHSIG = 1  # linux/prctl.h

Files = dict[str, bytes]


@dataclass
class Task:
    point: str  # the point id
    overrides: dict[str, Any]  # its parameter values
    slot: str  # its lock and work directory beside the experiment's (``run.run``)


# Called with each point's files as they arrive, and, when it has no results, why.
Done = Callable[[Task, Files, str], None]
Say = Callable[[str], None]


def run_point(name: str, overrides: dict[str, Any], slot: str, target: Path, root: Path, say: Say) -> Files:
    """Run one point into the scratch directory ``target``; its files, failed or not."""
    follow_driver()
    shutil.rmtree(target, ignore_errors=True)
    try:
        run.run(scripts.read_script(name, root), overrides, root, say, target=target, slot=slot)
    except run.RunFailed as failed:
        say(failed.traceback)
    return read_files(target)


def read_files(folder: Path) -> Files:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def follow_driver() -> None:
    """In a point process the pool started: be sent SIGTERM when the driver dies, even
    by SIGKILL (Linux's parent-death signal), so that no point outlives its sweep. The
    point turns it into KeyboardInterrupt and shuts its kernel down (``execute``).

    The signal is tied to the thread that started the process: the pool's thread for
    the point, which waits for it. A driver that died before this call is caught by
    its pid: the point's parent is then another process, and the point stops at once.
    """
    driver = os.environ.get(DRIVER_ENV)
    if not driver or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != int(driver):
        raise LabError(f"the sweep's driver (pid {driver}) is gone: this point does not run", code=1)


def log_reason(log: Path, code: int | None) -> str:
    """Why a point process ended without results, in one line: the last error its log
    names, else its last line, with how the process ended."""
    lines = [line.strip() for line in _read_text(log).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    ended = f"killed by signal {-code}" if code and code < 0 else f"exit code {code}"
    last = (errors or lines or ["its log is empty"])[-1]
    return f"{last} ({ended})"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


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
                    env={**os.environ, DRIVER_ENV: str(os.getpid())},  # follow_driver
                )
            started[proc.pid] = proc
        log = folder.relative_to(root) / "log.txt"
        say(f"[{task.point}] started (pid {proc.pid}, log {log})")
        proc.wait()
        if not cancelled.is_set():
            done(task, read_files(folder / "out"), f"{log_reason(root / log, proc.returncode)}; log {log}")

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
    """SIGTERM to each process group we started, then SIGKILL to those still there.

    Each is signalled before it is reported: the terminal may be gone (``make sweep |
    head``, a closed pipe), and a report that fails must not leave a point running."""
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    try:
        if procs:
            say(f"stopping point processes {', '.join(str(proc.pid) for proc in procs)}")
    except OSError:
        pass
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
    if address:
        probe_ray(address)
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
                files, reason = {}, ""
                try:
                    files = ray.get(ready[0])
                except ray.exceptions.RayError as err:  # the task itself broke: no results
                    say(f"[{task.point}] the Ray task failed: {err}")
                    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
                    reason = f"the Ray task failed: {lines[-1] if lines else type(err).__name__}"
                done(task, files, reason)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    finally:
        ray.shutdown()  # disconnects; stops the instance only if this driver started it


def probe_ray(address: str) -> None:
    """LabError in one line unless ``RAY_ADDRESS`` (``host:port`` or ``ray://host:port``)
    accepts a TCP connection within ``RAY_PROBE_S``; other forms (``auto``) are Ray's."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=RAY_PROBE_S).close()
    except OSError as err:
        reason = "no answer" if isinstance(err, TimeoutError) else err.strerror or str(err)
        raise LabError(f"no Ray cluster at RAY_ADDRESS={address}: {reason}", code=1) from None
