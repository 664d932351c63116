"""make serve notices a save through file events (lab.wiki.watch), under each core."""

from __future__ import annotations

import importlib
import time

import pytest
from watchdog.observers.polling import PollingObserver

from lab.wiki import watch

CORES = ("properdocs", "mkdocs")


def dev_server(core: str, root):
    """The core's own dev server, built as its `serve` builds it (nothing bound yet)."""
    livereload = importlib.import_module(f"{core}.livereload")
    return livereload.LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=str(root))


@pytest.mark.parametrize("core", CORES)
def test_watches_move_to_native_events_and_an_edit_asks_for_a_rebuild(tmp_path, core):
    docs = tmp_path / "site"
    docs.mkdir()
    (docs / "note.md").write_text("# Note\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\n")
    server = dev_server(core, tmp_path)
    server.watch(str(docs))
    server.watch(str(config))
    server.watch(str(docs))  # asked twice, as a plugin may: still counted twice
    watched = dict(server._watched_paths)
    assert isinstance(server.observer, PollingObserver)  # what the core does: the case this module exists for

    assert watch.instant(server) is server
    assert not isinstance(server.observer, PollingObserver)
    assert server._watched_paths == watched
    server.observer.start()
    try:
        (docs / "note.md").write_text("# Note\n\nedited\n")
        for _ in range(200):  # generous on loaded cores; the rebuild flag is what matters, not how fast
            if server._want_rebuild:
                break
            time.sleep(0.05)
        assert server._want_rebuild
    finally:
        server.observer.stop()
        server.observer.join()


def test_keeps_polling_when_the_native_observer_cannot_watch(tmp_path, monkeypatch):
    server = dev_server("properdocs", tmp_path)
    server.watch(str(tmp_path))
    monkeypatch.setattr(watch, "_native_works", lambda observer_type, paths: False)
    watch.instant(server)
    assert isinstance(server.observer, PollingObserver)
    assert list(server._watched_paths) == [str(tmp_path)]


def test_a_missing_path_makes_the_trial_fail(tmp_path):
    from watchdog.observers import Observer

    assert watch._native_works(Observer, [str(tmp_path)])
    assert not watch._native_works(Observer, [str(tmp_path), str(tmp_path / "gone")])


def test_a_server_it_does_not_know_is_left_alone():
    class Other:
        observer = None

    other = Other()
    assert watch.instant(other) is other and other.observer is None


def test_the_plugin_serves_on_native_events(tmp_path):
    from lab.wiki.plugin import LabPlugin

    plugin = LabPlugin()
    plugin.load_config({})
    server = dev_server("properdocs", tmp_path)
    server.watch(str(tmp_path))
    served = plugin.on_serve(server, config=None, builder=None)
    assert not isinstance(served.observer, PollingObserver)
