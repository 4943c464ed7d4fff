"""Errors as RFC 9457 problem documents (``application/problem+json``).

One place maps concord's typed errors to HTTP statuses, as the command line's error policy maps
them to exit codes. A bug is a 500 problem with no traceback in the body.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from concord import errors

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("concord.api")

# (status, slug, title) per error class; the first match in MRO order wins.
_STATUS: dict[type[errors.ConcordError], tuple[int, str, str]] = {
    errors.NotFound: (404, "not-found", "Not found"),
    errors.InvalidInput: (422, "invalid-input", "Invalid input"),
    errors.StaleVersion: (409, "stale-version", "Stale version"),
    errors.AlreadyAssigned: (409, "already-assigned", "Already assigned"),
    errors.WipLimitExceeded: (409, "wip-limit-exceeded", "WIP limit exceeded"),
    errors.LockNotAvailable: (409, "lock-not-available", "Lock held by another transaction"),
    errors.SerializationFailure: (409, "serialization-failure", "Serialization failure"),
    errors.Deadlock: (409, "deadlock", "Deadlock detected"),
    errors.UniqueViolation: (409, "duplicate", "Already exists"),
    errors.Conflict: (409, "conflict", "Conflict"),
    errors.DatabaseUnavailable: (503, "database-unavailable", "Database unavailable"),
    errors.NotMigrated: (503, "database-not-migrated", "Database not migrated"),
    errors.QueryCanceled: (503, "query-canceled", "Query canceled"),
}
# Conflicts worth retrying soon get a Retry-After (seconds).
_RETRY_AFTER = (errors.LockNotAvailable, errors.SerializationFailure, errors.Deadlock)


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    current_version: int | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": title}
    for code, title in [
        (400, "Malformed request"),
        (404, "Not found"),
        (409, "Conflict"),
        (413, "Request body too large"),
        (422, "Invalid input"),
        (503, "Database unavailable"),
    ]
}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str | None,
    request: Request,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    """Register the exception handlers on the app."""

    @app.exception_handler(errors.ConcordError)
    async def concord_error(request: Request, exc: errors.ConcordError) -> JSONResponse:
        status, slug, title = _lookup(type(exc))
        headers = {"Retry-After": "1"} if isinstance(exc, _RETRY_AFTER) else None
        current = exc.current if isinstance(exc, errors.StaleVersion) else None
        return problem(status, slug, title, exc.message, request, headers, current_version=current)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()
        ]
        malformed = any(d["type"] == "json_invalid" for d in details)
        status, slug = (400, "malformed-request") if malformed else (422, "invalid-input")
        detail = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in details)
        return problem(
            status,
            slug,
            "Malformed request" if malformed else "Invalid input",
            detail,
            request,
            errors=details,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {
            404: "not-found",
            405: "method-not-allowed",
            413: "content-too-large",
            428: "precondition-required",
        }.get(exc.status_code, "http-error")
        return problem(
            exc.status_code,
            slug,
            "Content too large" if exc.status_code == 413 else HTTPStatus(exc.status_code).phrase,
            str(exc.detail),
            request,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        translated = errors.translate(exc)
        if isinstance(translated, errors.ConcordError):
            return await concord_error(request, translated)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "internal-error",
            "Internal server error",
            "an unexpected error occurred; it has been logged",
            request,
        )


def too_large(request: Request, limit: int) -> JSONResponse:
    """The 413 problem for a request body over ``limit`` bytes."""
    detail = f"the request body is larger than the limit of {limit} bytes"
    return problem(413, "content-too-large", "Content too large", detail, request)


def _lookup(cls: type) -> tuple[int, str, str]:
    for klass in cls.__mro__:
        if klass in _STATUS:
            return _STATUS[klass]
    return 500, "internal-error", "Internal server error"
