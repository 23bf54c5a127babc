"""RFC 9457 problem+json for every error the API returns; never a stack trace to a client."""

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://c4hub.org/problems/"


class ProblemError(Exception):
    """A failure with its HTTP status, a machine-readable type and a message safe to show."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str | None = None,
        invalid_params: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.invalid_params = invalid_params


class NotFound(ProblemError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__(404, "not-found", f"{what} not found", f"No {what.lower()} {ident}.")


class Conflict(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(409, "conflict", "Conflict", detail)


class Invalid(ProblemError):
    def __init__(self, detail: str, param: str | None = None) -> None:
        params = [{"name": param, "reason": detail}] if param else None
        super().__init__(422, "invalid-input", "Invalid input", detail, params)


class BadRequest(ProblemError):
    def __init__(self, detail: str, param: str | None = None) -> None:
        params = [{"name": param, "reason": detail}] if param else None
        super().__init__(400, "bad-request", "Bad request", detail, params)


class Forbidden(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(403, "forbidden", "Forbidden", detail)


class Unauthorized(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(401, "unauthorized", "Unauthorized", detail)


_STATUS_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def problem_response(
    status: int,
    kind: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    invalid_params: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": TYPE_BASE + kind, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if invalid_params:
        body["invalid_params"] = invalid_params
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem_response(
        exc.status,
        exc.kind,
        exc.title,
        exc.detail,
        instance=request.url.path,
        invalid_params=exc.invalid_params,
        headers=headers,
    )


def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    params = [{"name": _location(e["loc"]), "reason": str(e["msg"])} for e in exc.errors()]
    detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params[:5])
    return problem_response(
        422,
        "invalid-input",
        "Invalid input",
        detail,
        instance=request.url.path,
        invalid_params=params,
    )


def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind, title = _STATUS_TITLES.get(exc.status_code, ("http-error", "Request failed"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(
        exc.status_code, kind, title, detail, instance=request.url.path, headers=headers or None
    )


def _allowed_methods(request: Request) -> str:
    """The methods the OpenAPI document declares for this path. Starlette names only the
    first matching route's, which is wrong when GET and POST live on separate routes."""
    paths: dict[str, dict[str, object]] = request.app.openapi().get("paths", {})
    for template, operations in paths.items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            return ", ".join(sorted(m.upper() for m in operations))
    return ""


def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        500,
        "internal-error",
        "Internal server error",
        "The node failed to handle this request; the operator can find it in the log.",
        instance=request.url.path,
    )


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)


def _problem_schema() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries so clients (and schemathesis) know each error's shape."""
    return {
        s: {"description": _STATUS_TITLES.get(s, ("", "Error"))[1], "content": _problem_schema()}
        for s in statuses
    }
