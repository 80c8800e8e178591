"""The mobile-first web app at ``/app``: the project's own static files, nothing from a CDN.

Each file is a route of its own (no path parameter, so the tenant-isolation route table stays
about tenants) and answers with a Content-Security-Policy that allows only this origin:
scripts, styles, images, the manifest, the service worker and API calls. ``/app`` and
``/app/`` serve the shell; ``sw.js`` lives under ``/app/`` so its scope is the app.
Responses are revalidated (``no-cache`` + ETag): the service worker keeps the offline copy.
The worker's shell cache is named after a hash of every other file (``SHELL_VERSION_MARK`` in
``sw.js``), so a release that changes any of them changes ``sw.js`` too: browsers install the
new worker, which fetches the whole new shell and drops the old, instead of serving the old
screens from cache (or mixing old and new files) until each file happens to be refreshed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

__all__ = ["APP_CSP", "SHELL_VERSION_MARK", "WEB_FILES", "router", "shell_version"]

APP_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: file name -> media type; the whole app (every asset is listed here, nothing else is served)
WEB_FILES: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "chart.js": "text/javascript; charset=utf-8",
    "screens.js": "text/javascript; charset=utf-8",
    "views.js": "text/javascript; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json",
    "icon.svg": "image/svg+xml",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
}

router = APIRouter(include_in_schema=False)


SHELL_VERSION_MARK = b"__SHELL_VERSION__"


def _read(name: str) -> bytes:
    return resources.files("ledgerlens.serve").joinpath("web", name).read_bytes()


def shell_version(read: Callable[[str], bytes] = _read) -> str:
    """A hash of every file of the app but the service worker itself."""
    digest = hashlib.sha256()
    for name in sorted(WEB_FILES):
        if name != "sw.js":
            digest.update(name.encode() + b"\0" + read(name) + b"\0")
    return digest.hexdigest()[:16]


@lru_cache(maxsize=len(WEB_FILES))
def _asset(name: str) -> tuple[bytes, str]:
    data = _read(name)
    if name == "sw.js":
        data = data.replace(SHELL_VERSION_MARK, shell_version().encode())
    return data, f'"{hashlib.sha256(data).hexdigest()[:24]}"'


def _serve(name: str, request: Request) -> Response:
    data, etag = _asset(name)
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "Content-Security-Policy": APP_CSP,
        "X-Frame-Options": "DENY",
    }
    if name == "sw.js":
        headers["Service-Worker-Allowed"] = "/app/"
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=WEB_FILES[name], headers=headers)


def _route(name: str):  # type: ignore[no-untyped-def]
    async def serve_file(request: Request) -> Response:
        return _serve(name, request)

    serve_file.__name__ = f"web_{name.replace('.', '_').replace('-', '_')}"
    return serve_file


@router.get("/app")
async def app_root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=308)


@router.get("/app/")
async def app_shell(request: Request) -> Response:
    return _serve("index.html", request)


for _name in WEB_FILES:
    router.add_api_route(f"/app/{_name}", _route(_name), methods=["GET"])
