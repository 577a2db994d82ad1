"""The worker's HTTP server (Faust's): health, Prometheus metrics, and the handlers given to it.

`/healthz` and `/metrics` are the runtime's own (they report on it); any other route is a
framework-free `Handler` (the read model's come from `processor.serving.http`), mounted here.
Every route is checked against `Access` before its handler runs: a request without a valid
token gets the same 401 whatever it asked for, so it learns nothing (not even whether a customer
exists). Faust's own pages that read tables or describe the cluster are turned off in
`build_faust_app`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from processor.core.access import Access, Scope
from processor.core.ports import Handler, Reply
from processor.runtime.faust_adapter import without_faust_pages
from processor.runtime.worker import Worker

REFUSED = {"error": "unauthorized: send Authorization: Bearer <token>"}
# Browsers ask for a password on a Basic challenge, so a collector can open the page; API
# clients are told the scheme they should use.
PAGE_PREFIX = "/ui"
log = logging.getLogger(__name__)


def register_pages(
    worker: Worker,
    routes: Mapping[str, Handler],
    *,
    access: Access,
    public: Mapping[str, Handler] | None = None,
) -> None:
    """Mount health, metrics, `routes` (customer data) and `public` (no data) on the web server."""
    app = worker.app
    without_faust_pages(app)
    refused = worker.metrics.http_refused

    async def health(query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        ready, body = worker.health()
        return Reply(body, status=200 if ready else 503)

    async def metrics(query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        worker.offsets.refresh_lag(worker.metrics)
        payload = generate_latest(worker.metrics.registry)
        return Reply(payload, content_type=CONTENT_TYPE_LATEST)

    guarded: list[tuple[str, Handler, Scope]] = [
        ("/healthz", health, Scope.OPS),
        ("/metrics", metrics, Scope.OPS),
        *((path, handler, Scope.DATA) for path, handler in routes.items()),
        *((path, handler, Scope.PUBLIC) for path, handler in (public or {}).items()),
    ]
    for path, handler, scope in guarded:

        def refuse(scope: Scope = scope) -> None:
            refused.labels(scope.value).inc()

        challenge = "Basic" if path.startswith(PAGE_PREFIX) else "Bearer"
        app.page(path, name=path)(_view(handler, access, scope, challenge, refuse))
    settings = worker.settings
    log.info("HTTP API on %s:%d: %s", settings.web_host, settings.web_port, access.describe())


def _view(
    handler: Handler,
    access: Access,
    scope: Scope,
    challenge: str,
    on_refused: Callable[[], None],
) -> type[View]:
    """A Faust view whose GET checks the token, then answers with `handler`."""

    class Routed(View):
        async def get(self, request: Request, **params: Any) -> Response:
            if not access.allows(scope, request.headers.get("Authorization")):
                on_refused()
                return self.json(
                    REFUSED,
                    status=401,
                    headers={"WWW-Authenticate": f'{challenge} realm="arpulse"'},
                )
            return _respond(self, await handler(request.query, params))

    return Routed


def _respond(view: View, reply: Reply) -> Response:
    headers = dict(reply.headers)
    if reply.content_type is None:
        return view.json(reply.body, status=reply.status, headers=headers)
    # As a header: aiohttp refuses a charset in its content_type argument ("text/csv; charset=").
    headers["Content-Type"] = reply.content_type
    return view.bytes(reply.body, headers=headers, status=reply.status)
