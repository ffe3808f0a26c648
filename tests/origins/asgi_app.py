"""A Starlette origin with default routing (served by uvicorn)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def starlette_app(record: Callable[[dict], None]) -> Starlette:
    def handler(kind: str):
        async def answer(request: Request) -> JSONResponse:
            seen = {"handler": kind, "framework": "starlette", "path": request.scope["path"],
                    "raw": request.scope.get("raw_path", b"").decode("latin-1"),
                    "x_user_id": request.headers.get("x-user-id"), "id": request.headers.get("x-corpus-id")}
            record(seen)
            return JSONResponse(seen)

        return answer

    return Starlette(routes=[
        Route("/api/{rest:path}", handler("protected"), methods=METHODS),
        Route("/account", handler("protected"), methods=METHODS),
        Route("/{rest:path}", handler("public"), methods=METHODS),
    ])
