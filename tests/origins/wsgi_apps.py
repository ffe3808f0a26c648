"""WSGI origins with default routing: Flask (served by Werkzeug's server) and a plain WSGI
function (served by the standard library's wsgiref), which routes on PATH_INFO itself.

Both read x-user-id from the WSGI environ, where HTTP_X_USER_ID is also what a client's
`x_user_id` header becomes (wsgiref merges the two spellings; Werkzeug drops headers
with an underscore) — which is why the corpus sends both spellings.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Flask, jsonify, request

Record = Callable[[dict], None]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def flask_app(record: Record) -> Flask:
    app = Flask("corpus_origin")

    def answer(kind: str):
        seen = {"handler": kind, "framework": "flask", "path": request.path, "raw": request.environ.get("RAW_URI"),
                "x_user_id": request.headers.get("x-user-id"), "id": request.headers.get("x-corpus-id")}
        record(seen)
        return jsonify(seen)

    # Werkzeug's path converter takes "anything" after /api/, slashes included.
    app.add_url_rule("/api/<path:rest>", "api", lambda rest: answer("protected"), methods=METHODS)
    app.add_url_rule("/account", "account", lambda: answer("protected"), methods=METHODS)
    app.add_url_rule("/", "root", lambda: answer("public"), methods=METHODS)
    app.add_url_rule("/<path:rest>", "public", lambda rest: answer("public"), methods=METHODS)
    return app


def plain_wsgi_app(record: Record):
    """The routing a hand-written WSGI app does: string tests on the decoded PATH_INFO."""

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        kind = "protected" if path.startswith("/api/") or path == "/account" else "public"
        seen = {"handler": kind, "framework": "wsgi", "path": path, "raw": None,
                "x_user_id": environ.get("HTTP_X_USER_ID"), "id": environ.get("HTTP_X_CORPUS_ID")}
        record(seen)
        body = json.dumps(seen).encode()
        start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
        return [body]

    return app
