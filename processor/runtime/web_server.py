"""The worker's HTTP server (Faust's): health, Prometheus metrics, and the handlers given to it.

`/healthz` and `/metrics` are the runtime's own (they report on it); any other route is a
framework-free `Handler` (the read model's come from `processor.serving.http`), mounted here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from processor.core.ports import Handler, Reply
from processor.runtime.worker import Worker


def register_pages(worker: Worker, routes: Mapping[str, Handler]) -> None:
    """Mount health, metrics and `routes` on the worker's web server."""
    app = worker.app

    @app.page("/healthz")
    class Health(View):
        async def get(self, request: Request) -> Response:
            ready, body = worker.health()
            return self.json(body, status=200 if ready else 503)

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            worker.offsets.refresh_lag(worker.metrics)
            payload = generate_latest(worker.metrics.registry)
            return self.bytes(payload, headers={"Content-Type": CONTENT_TYPE_LATEST})

    for path, handler in routes.items():
        app.page(path, name=path)(_view(handler))


def _view(handler: Handler) -> type[View]:
    """A Faust view whose GET answers with `handler`."""

    class Routed(View):
        async def get(self, request: Request, **params: Any) -> Response:
            return _respond(self, await handler(request.query, params))

    return Routed


def _respond(view: View, reply: Reply) -> Response:
    if reply.content_type is None:
        return view.json(reply.body, status=reply.status)
    # As a header: aiohttp refuses a charset in its content_type argument ("text/csv; charset=").
    return view.bytes(reply.body, headers={"Content-Type": reply.content_type}, status=reply.status)
