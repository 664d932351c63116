"""Noticing a saved note at once: `make serve` on the kernel's file events, not polling.

The core's dev server (MkDocs 1.6 and ProperDocs alike) watches the docs dir with
watchdog's ``PollingObserver`` every 0.5 s: a save waits 0.25 s on average, up to 0.5 s,
before the rebuild starts, and each poll stats every file of the wiki. Measured on
the lab's wiki (``bench/bench_serve_latency.py`` style, the refresh running beside
it): save-to-served-page 1.10 s polling, 0.67 s on inotify events, the same
incremental rebuild in both.

``instant(server)`` moves every watch the server holds to watchdog's native observer
(inotify on Linux, FSEvents on macOS, kqueue on BSD) through the server's own
``watch``/``unwatch``. It is a speed-up only: where the server is not what it expects,
or the native observer cannot start (inotify's watch limit reached on a big vault), the
server keeps polling, as before.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("mkdocs.plugins.lab")


def instant(server: Any) -> Any:  # noqa: ANN401 (the core's LiveReloadServer, either core's)
    """The dev server, its watches moved from polling to native file events; returned
    unchanged if it does not poll or its watches cannot be listed."""
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    polling = getattr(server, "observer", None)
    watched = getattr(server, "_watched_paths", None)  # path -> how many asked for it
    if not isinstance(polling, PollingObserver) or not isinstance(watched, dict) or Observer is PollingObserver:
        return server
    counts = dict(watched)
    if not _native_works(Observer, list(counts)):
        log.info("make serve keeps polling for edits: the native observer could not watch %s", ", ".join(counts))
        return server
    for path, count in counts.items():
        for _ in range(count):
            server.unwatch(path)
    server.observer = Observer()
    for path, count in counts.items():
        for _ in range(count):
            server.watch(path)
    return server


def _native_works(observer_type: type, paths: list[str]) -> bool:
    """Whether a native observer watches every path: started for a moment, since it
    sets up its watches only when started, and drops one it cannot set up silently
    (watchdog 7 removes the failed emitter)."""
    from watchdog.events import FileSystemEventHandler

    trial = observer_type()
    try:
        for path in paths:
            trial.schedule(FileSystemEventHandler(), path, recursive=True)
        trial.start()
        return len(trial.emitters) == len(paths)
    except OSError:
        return False
    finally:
        if trial.is_alive():
            trial.stop()
            trial.join()
