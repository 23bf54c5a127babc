"""The `c4hub` command line. Errors end in one line that says what to do, and a non-zero exit."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from sqlalchemy.exc import OperationalError

from hub.settings import Settings, get_settings

app = typer.Typer(
    help="c4hub: federated integration hub for city camera networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def require_database_url(settings: Settings) -> str:
    if not settings.database_url:
        fail(
            "C4HUB_DATABASE_URL is not set; export it (postgresql+psycopg://user@host/db) "
            "or use `c4hub serve`, which starts an embedded database"
        )
    return settings.database_url


@contextmanager
def database_errors() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        fail(f"cannot reach the database ({reason}); check C4HUB_DATABASE_URL and that it runs")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Run the node's API.

    Without C4HUB_DATABASE_URL it creates (first run) and starts a private PostgreSQL+PostGIS
    cluster in C4HUB_DATA_DIR and stops it on exit.

    Examples:
      c4hub serve
      C4HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/c4hub c4hub serve --port 8080
    """
    from hub.embedded import EmbeddedPostgresError
    from hub.serve import run

    settings = get_settings()
    try:
        with database_errors():
            run(settings, host or settings.host, port or settings.port)
    except EmbeddedPostgresError as exc:
        fail(str(exc))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to C4HUB_DATABASE_URL.

    Example:
      C4HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/c4hub c4hub db upgrade
    """
    from hub.migrate import upgrade

    url = require_database_url(get_settings())
    with database_errors():
        upgrade(url)
    typer.echo("database is at the latest revision")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin, operator, planner or business")],
    org: Annotated[
        str | None, typer.Option(help="Organization slug or id (required for business)")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A note to recognise the token by")] = None,
) -> None:
    """Create an API token; it is printed once, alone on the last line.

    Examples:
      c4hub token create --role admin
      c4hub token create --role business --org acme-security --label "front desk"
    """
    from hub.auth.service import create_token
    from hub.db import make_engine, make_sessionmaker, session_scope
    from hub.errors import NotFound
    from hub.registry.organizations import get_organization
    from schemas.enums import Role

    try:
        parsed_role = Role(role)
    except ValueError:
        fail(f"unknown role {role!r}; use one of: {', '.join(r.value for r in Role)}")
    if parsed_role is Role.BUSINESS and org is None:
        fail("a business token needs --org ORG (the organization whose cameras it manages)")
    engine = make_engine(require_database_url(get_settings()))
    with database_errors(), session_scope(make_sessionmaker(engine)) as session:
        org_id = None
        if org is not None:
            try:
                org_id = get_organization(session, org).id
            except NotFound:
                fail(f"no organization {org!r}; create it or import organizations first")
        token = create_token(session, parsed_role, org_id, label)
    engine.dispose()
    typer.echo(f"created a {parsed_role.value} token; store it now, it is not shown again:")
    typer.echo(token)


def _register_subcommands() -> None:
    from federation.cli import init, keys_app, peer_app
    from hub.cameras_cli import camera_app
    from hub.events.cli import events_app
    from hub.hotlists.cli import hotlists_app
    from hub.imports.cli import import_app
    from hub.planning.cli import report_app
    from hub.plates.cli import plates_app
    from hub.worker_cli import beat, worker

    app.add_typer(import_app, name="import")
    app.add_typer(report_app, name="report")
    app.add_typer(camera_app, name="camera")
    app.add_typer(events_app, name="events")
    app.add_typer(hotlists_app, name="hotlists")
    app.add_typer(plates_app, name="plates")
    app.command()(worker)
    app.command()(beat)
    app.command()(init)
    app.add_typer(keys_app, name="keys")
    app.add_typer(peer_app, name="peer")


_register_subcommands()


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
