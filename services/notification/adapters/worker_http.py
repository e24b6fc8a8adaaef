"""The worker's own small HTTP endpoint: /metrics for Prometheus and /healthz."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.notification.metrics import NotificationMetrics

METRICS = web.AppKey("metrics", NotificationMetrics)


def build_worker_app(metrics: NotificationMetrics) -> web.Application:
    app = web.Application()
    app[METRICS] = metrics
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/healthz", healthz)
    return app


async def metrics_endpoint(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(request.app[METRICS].registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
