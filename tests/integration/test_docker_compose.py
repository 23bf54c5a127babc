"""docker/compose.yaml is a valid Compose file describing a whole node (no Docker engine needed)."""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"


def compose_config() -> dict[str, Any]:
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed, so docker/compose.yaml cannot be checked")
    # The secret key is optional for `config`: the file must render without it.
    env = {k: v for k, v in os.environ.items() if k != "C4HUB_SECRET_KEY"}
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, (
        f"docker compose config failed (no compose plugin? run `make install`): {result.stderr}"
    )
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_compose_defines_the_node_services() -> None:
    services = compose_config()["services"]

    assert {"postgis", "rabbitmq", "api", "worker", "beat", "events"} <= set(services)
    assert services["beat"]["command"] == ["c4hub", "beat"]
    assert services["events"]["command"] == ["c4hub", "events", "run"]
    assert services["postgis"]["image"].startswith("postgis/postgis:15-")
    assert "healthcheck" in services["postgis"]
    assert "healthcheck" in services["rabbitmq"]


def test_api_and_worker_reach_the_services_by_name_once_they_are_healthy() -> None:
    services = compose_config()["services"]
    api, worker = services["api"], services["worker"]

    assert api["depends_on"]["postgis"]["condition"] == "service_healthy"
    assert "@postgis:5432/" in api["environment"]["C4HUB_DATABASE_URL"]
    assert [p["target"] for p in api["ports"]] == [8000]
    assert api["build"]["dockerfile"] == "docker/Dockerfile"
    assert worker["command"] == ["c4hub", "worker"]
    mounts = [v["target"] for v in worker["volumes"]]
    assert "/models" in mounts  # models are mounted, never downloaded
    assert "@rabbitmq:5672/" in worker["environment"]["C4HUB_BROKER_URL"]
    assert worker["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
