"""The service worker's shell cache is named after the app's files, so a release reaches
installed apps: a browser re-installs a worker only when ``sw.js`` itself changes."""

from __future__ import annotations

import re

from ledgerlens.serve.routes.web import SHELL_VERSION_MARK, WEB_FILES, _asset, _read, shell_version


def _shell_name(sw: bytes) -> str:
    found = re.search(rb'const SHELL = "([^"]+)";', sw)
    assert found is not None, "sw.js names its shell cache"
    return found.group(1).decode()


def test_the_served_worker_names_its_shell_cache_after_the_current_files() -> None:
    served, _ = _asset("sw.js")
    assert SHELL_VERSION_MARK not in served
    assert _shell_name(served) == f"ledgerlens-shell-{shell_version()}"
    assert SHELL_VERSION_MARK in _read("sw.js")  # the file on disk keeps the mark


def test_changing_any_shell_file_changes_the_version() -> None:
    base = shell_version()
    for name in WEB_FILES:
        if name == "sw.js":
            continue
        changed = shell_version(lambda n, name=name: _read(n) + (b" " if n == name else b""))
        assert changed != base, name
    assert shell_version() == base  # stable for the same files


def test_the_worker_caches_every_shell_file_it_serves() -> None:
    sw = _read("sw.js").decode()
    listed = set(re.findall(r'"/app/([^"]*)"', sw.split("const DATA_PATHS")[0]))
    expected = {n for n in WEB_FILES if n not in {"sw.js", "index.html", "icon-512.png"}}
    assert expected <= listed | {""}, expected - listed
