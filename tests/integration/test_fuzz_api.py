"""Schemathesis fuzzes the whole OpenAPI surface of a live node: no 5xx, no schema violations."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from federation.node import init_node
from hub.auth.service import create_token
from hub.registry.cameras import create_camera
from hub.registry.organizations import create_organization
from hub.registry.secrets import CredentialBox
from hub.settings import Settings
from schemas.camera import CameraCreate
from schemas.enums import Role
from schemas.organization import OrganizationCreate
from tests.support import fresh_database, live_node

CONFIG = Path(__file__).resolve().parents[1] / "fuzz" / "schemathesis.toml"
SQUARE = [[[127.0, 37.4], [127.1, 37.4], [127.1, 37.6], [127.0, 37.6], [127.0, 37.4]]]


def _seed(url: str, key: str) -> str:
    """An organization with a jurisdiction and a camera, so queries find real rows; the token."""
    engine = create_engine(url)
    with Session(engine) as session:
        org = create_organization(
            session,
            OrganizationCreate.model_validate(
                {
                    "slug": "gangnam-gu",
                    "name": "Gangnam-gu",
                    "kind": "district",
                    "jurisdiction": {"type": "Polygon", "coordinates": SQUARE},
                }
            ),
        )
        create_camera(
            session,
            CredentialBox(key),
            CameraCreate.model_validate(
                {
                    "location": {"type": "Point", "coordinates": [127.05, 37.5]},
                    "heading_deg": 45,
                    "fov_deg": 90,
                    "range_m": 60,
                }
            ),
            org.id,
        )
        token = create_token(session, Role.ADMIN, None, "fuzz")
        session.commit()
    engine.dispose()
    return token


def test_schemathesis_finds_nothing() -> None:
    key = Fernet.generate_key().decode()
    with fresh_database() as url:
        token = _seed(url, key)
        # An initialised node: its federation routes answer as in production, not 503.
        data_dir = Path(tempfile.mkdtemp())
        engine = create_engine(url)
        with Session(engine) as session:
            init_node(session, data_dir, "Fuzz node", "http://127.0.0.1:1/", None)
            session.commit()
        engine.dispose()
        settings = Settings(database_url=url, data_dir=data_dir, secret_key=key)
        with live_node(settings) as base:
            env = {
                **os.environ,
                "SCHEMATHESIS_HOOKS": "",
            }
            # One worker: several threads trip a CPython 3.11 AST bug inside hypothesis.
            proc = subprocess.run(
                [
                    str(Path(sys.executable).parent / "schemathesis"),
                    "--config-file",
                    str(CONFIG),
                    "run",
                    f"{base}/openapi.json",
                    "--checks",
                    "all",
                    "-H",
                    f"Authorization: Bearer {token}",
                    "--max-examples",
                    os.environ.get("C4HUB_FUZZ_EXAMPLES", "40"),
                    "--workers",
                    "1",
                    "--seed",
                    os.environ.get("C4HUB_FUZZ_SEED", "20261121"),
                    "--no-color",
                ],
                capture_output=True,
                text=True,
                timeout=900,
                env=env,
                check=False,
            )
    report = proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, report
    assert " passed" in proc.stdout and "failures" not in proc.stdout.splitlines()[-1], report
