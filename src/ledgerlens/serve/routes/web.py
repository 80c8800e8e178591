"""The mobile-first web app at ``/app``: the project's own static files, nothing from a CDN.

Each file is a route of its own (no path parameter, so the tenant-isolation route table stays
about tenants) and answers with a Content-Security-Policy that allows only this origin:
scripts, styles, images, the manifest, the service worker and API calls. ``/app`` and
``/app/`` serve the shell; ``sw.js`` lives under ``/app/`` so its scope is the app.
Responses are revalidated (``no-cache`` + ETag): the service worker keeps the offline copy.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

__all__ = ["APP_CSP", "WEB_FILES", "router"]

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


@lru_cache(maxsize=len(WEB_FILES))
def _asset(name: str) -> tuple[bytes, str]:
    data = resources.files("ledgerlens.serve").joinpath("web", name).read_bytes()
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
