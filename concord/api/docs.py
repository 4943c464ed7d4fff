"""The interactive docs (/docs: Swagger UI, /redoc: ReDoc) served without a CDN.

FastAPI's own pages load their JavaScript and CSS from a CDN, so on a machine without internet
(where a lab often runs) they stay blank. The fastapi-offline package ships those assets; they are
served from it here, as FastAPI documents for self-hosting (docs_url=None, then
``get_swagger_ui_html`` and ``get_redoc_html`` pointing at a `StaticFiles` mount).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
#: (package, folder) holding swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js and favicon.png.
PACKAGE = ("fastapi_offline", "static")


def install(app: FastAPI) -> None:
    """Serve /docs and /redoc on ``app`` (made with ``docs_url=None, redoc_url=None``) from local assets."""
    app.mount(ASSETS, StaticFiles(packages=[PACKAGE]), name="docs-assets")
    oauth2_redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect}",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,  # fonts from Google would be one more thing fetched from outside
        )
