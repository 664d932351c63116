"""Inside a loopback-only network namespace: start a local Ray cluster, run a sweep on
it through RAY_ADDRESS, stop that cluster by its pid. Used by tests/test_sweep_ray.py:

    unshare -n python tests/ray_cluster.py ROOT TEMP_DIR -- SWEEP ARGS...

Prints one JSON line: the sweep's exit code and output, and the cluster's processes
still alive after it was stopped (none expected).
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PORT = 6391


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def main(root: str, temp: str, args: list[str]) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    ray = Path(sys.executable).parent / "ray"
    cluster = subprocess.Popen(
        [
            str(ray),
            "start",
            "--head",
            "--node-ip-address=127.0.0.1",
            f"--port={PORT}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
            "--block",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the GCS listens once the head is up
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", PORT)) == 0:
                    break
            time.sleep(0.5)
        done = subprocess.run(
            [sys.executable, "-m", "lab", "sweep", *args],
            cwd=root,
            capture_output=True,
            text=True,
            env={**env, "RAY_ADDRESS": f"127.0.0.1:{PORT}"},
            timeout=400,
        )
    finally:
        started = descendants(cluster.pid)
        cluster.send_signal(signal.SIGTERM)  # `ray start --block` stops its own cluster; never `ray stop`
        try:
            cluster.wait(timeout=60)
        except subprocess.TimeoutExpired:
            cluster.kill()
            cluster.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(p) for p in started):
            time.sleep(0.2)
    print(
        json.dumps(
            {
                "code": done.returncode,
                "stdout": done.stdout,
                "stderr": done.stderr,
                "cluster": len(started),
                "left": sorted(p for p in started if alive(p)),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[4:])
