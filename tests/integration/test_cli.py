"""The `c4hub` command line as users run it: real processes against a real database."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hub.auth.service import authenticate
from hub.registry.organizations import create_organization
from schemas.enums import Role
from schemas.organization import OrganizationCreate
from tests.support import fresh_database

C4HUB = str(Path(sys.executable).parent / "c4hub")


@pytest.fixture(scope="module")
def cli_db() -> Iterator[str]:
    with fresh_database() as url:
        engine = create_engine(url)
        with Session(engine) as session:
            create_organization(
                session,
                OrganizationCreate(slug="acme", name="ACME Security", kind="private_business"),
            )
            session.commit()
        engine.dispose()
        yield url


def run(*args: str, url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "C4HUB_DATABASE_URL"}
    if url is not None:
        env["C4HUB_DATABASE_URL"] = url
    return subprocess.run(
        [C4HUB, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def _one_line_error(proc: subprocess.CompletedProcess[str], mentions: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert mentions in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_token_create_prints_token_alone_on_last_line(cli_db: str) -> None:
    proc = run("token", "create", "--role", "business", "--org", "acme", url=cli_db)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip().splitlines()[-1]
    assert token.startswith("c4h_") and " " not in token
    engine = create_engine(cli_db)
    with Session(engine) as session:
        principal = authenticate(session, token)
    engine.dispose()
    assert principal is not None and principal.role is Role.BUSINESS
    assert principal.organization_id is not None


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (("token", "create", "--role", "king"), "unknown role 'king'"),
        (("token", "create", "--role", "business"), "--org"),
        (("token", "create", "--role", "business", "--org", "nobody"), "no organization"),
    ],
)
def test_token_create_errors_are_one_line(
    cli_db: str, args: tuple[str, ...], mentions: str
) -> None:
    _one_line_error(run(*args, url=cli_db), mentions)


def test_commands_without_database_url_say_how_to_fix() -> None:
    _one_line_error(run("token", "create", "--role", "admin", url=None), "C4HUB_DATABASE_URL")
    _one_line_error(run("db", "upgrade", url=None), "C4HUB_DATABASE_URL")


def test_unreachable_database_is_one_line() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"
    _one_line_error(run("db", "upgrade", url=url), "cannot reach the database")


def test_db_upgrade_is_idempotent() -> None:
    with fresh_database(migrate=False) as url:
        for _ in range(2):
            proc = run("db", "upgrade", url=url)
            assert proc.returncode == 0, proc.stderr
            assert "latest revision" in proc.stdout


@pytest.mark.parametrize("command", [(), ("serve",), ("db", "upgrade"), ("token", "create")])
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    proc = run(*command, "--help", url=None)
    assert proc.returncode == 0
    assert "Usage" in proc.stdout
    if command:
        assert "Example" in proc.stdout
