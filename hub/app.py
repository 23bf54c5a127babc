"""The app factory: the one place the API's parts are wired together."""

from fastapi import FastAPI
from sqlalchemy import Engine

from adapters.registry import AdapterRegistry
from federation.admin_agreements import agreements_router
from federation.admin_deliveries import deliveries_router
from federation.admin_peers import federation_admin_router
from federation.outbox import install_kicker
from federation.query_router import peer_queries_router, queries_router
from federation.router import federation_router
from federation.tasks import kick
from federation.wellknown import ping_router, wellknown_router
from hub import liveness
from hub.alerts.router import alerts_router
from hub.analytics.router import analytics_router
from hub.audit.router import audit_router
from hub.auth.service import PrincipalCache
from hub.coverage.router import coverage_router, demand_router
from hub.db import make_engine, make_sessionmaker
from hub.enrolment.router import enrolments_router
from hub.errors import install_handlers
from hub.events.router import events_router
from hub.health.router import health_router
from hub.hotlists.router import hotlists_router
from hub.keys import credential_key
from hub.middleware import BodyLimit
from hub.ogc.router import planning_router as ogc_planning_router
from hub.ogc.router import router as ogc_router
from hub.planning.router import planning_router, survey_router
from hub.plates.router import plates_router
from hub.registry.probe_router import probe_router
from hub.registry.router import cameras_router, organizations_router
from hub.registry.secrets import CredentialBox
from hub.registry.snapshot_router import snapshot_router
from hub.settings import Settings
from hub.stats.router import stats_router
from hub.web.router import web_router
from hub.wiring import install_federation
from schemas.problem import Problem


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    if engine is None:
        if not settings.database_url:
            raise RuntimeError("create_app needs settings.database_url or an engine")
        engine = make_engine(settings.database_url)
    app = FastAPI(
        title="c4hub node",
        version="0.1.0",
        summary="Federated integration hub for city camera networks",
        license_info={"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.credential_box = CredentialBox(credential_key(settings))
    app.state.adapters = AdapterRegistry.installed()  # loaded on first use, per adapter
    app.state.principals = PrincipalCache()
    install_handlers(app)
    app.include_router(liveness.router)
    app.include_router(organizations_router, prefix="/api/v1")
    app.include_router(cameras_router, prefix="/api/v1")
    app.include_router(probe_router, prefix="/api/v1")
    app.include_router(snapshot_router, prefix="/api/v1")
    app.include_router(health_router, prefix="/api/v1")
    app.include_router(analytics_router, prefix="/api/v1")
    app.include_router(stats_router, prefix="/api/v1")
    app.include_router(enrolments_router, prefix="/api/v1")
    app.include_router(events_router, prefix="/api/v1")
    app.include_router(plates_router, prefix="/api/v1")
    app.include_router(hotlists_router, prefix="/api/v1")
    app.include_router(alerts_router, prefix="/api/v1")
    app.include_router(coverage_router, prefix="/api/v1")
    app.include_router(demand_router, prefix="/api/v1")
    app.include_router(planning_router, prefix="/api/v1")
    app.include_router(survey_router, prefix="/api/v1")
    app.include_router(queries_router, prefix="/api/v1")
    app.include_router(audit_router, prefix="/api/v1")
    app.include_router(peer_queries_router)
    app.include_router(federation_admin_router, prefix="/api/v1")
    app.include_router(agreements_router, prefix="/api/v1")
    app.include_router(deliveries_router, prefix="/api/v1")
    app.include_router(federation_router)
    app.include_router(wellknown_router)
    app.include_router(ping_router)
    app.include_router(ogc_router, prefix="/ogc")
    app.include_router(ogc_planning_router, prefix="/ogc/planning")
    app.include_router(web_router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    _register_problem_schema(app)
    _install_federation(app, settings)
    return app


def _install_federation(app: FastAPI, settings: Settings) -> None:
    """Inbox handlers and activation hooks, and the kick that delivers events to peers right
    after the transaction that emitted them commits (beat's sweep catches any kick lost)."""
    install_federation()
    if settings.federation_kick:
        install_kicker(app.state.sessionmaker, kick)


def _register_problem_schema(app: FastAPI) -> None:
    """Put the Problem schema in components so every documented error can $ref it."""
    original = app.openapi

    def openapi() -> dict:  # type: ignore[type-arg]
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault(
            "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        for name, sub in (
            Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            .get("$defs", {})
            .items()
        ):
            components.setdefault(name, sub)
        components["Problem"].pop("$defs", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
