"""The node's one settings object; every value comes from C4HUB_* environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="C4HUB_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="postgresql+psycopg:// URL; unset starts an embedded cluster in data_dir",
    )
    data_dir: Path = Field(default=Path(".c4hub"), description="Node state: embedded DB, keys")
    secret_key: str | None = Field(
        default=None,
        description="Fernet key that encrypts camera credentials; unset uses data_dir/secret.key",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    ogc_public: bool = Field(
        default=False, description="Serve OGC API collections without a token (open data)"
    )
    public_url: str | None = Field(
        default=None, description="Base URL used in links; defaults to the request's own"
    )
    broker_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672//",
        description="RabbitMQ (AMQP) URL of the node's vhost; Celery tasks travel through it",
    )
    probe_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Seconds a camera probe may take per call"
    )
    models_dir: Path = Field(
        default=Path("models"),
        description="Where model files are read from (never downloaded): detectors, plate "
        "detector and OCR; `make` points it at ../shared/models",
    )
    analytics_segment_s: float = Field(
        default=60.0,
        ge=5,
        le=3600,
        description="Seconds of stream one analytics task reads; beat sends one per enabled "
        "camera this often",
    )
    health_interval_s: int = Field(
        default=60, ge=10, le=86_400, description="Default seconds between checks of a camera"
    )
    health_sweep_every_s: float = Field(
        default=10.0, gt=0, le=3600, description="How often beat looks for cameras due a check"
    )
    health_batch: int = Field(
        default=25, ge=1, le=500, description="Cameras one health task checks concurrently"
    )
    health_timeout_s: float = Field(
        default=20.0, gt=0, le=300, description="Seconds one camera's health check may take"
    )
    health_grace_checks: int = Field(
        default=2, ge=1, le=100, description="Checks a new status must hold to be confirmed"
    )
    health_grace_s: float = Field(
        default=60.0, ge=0, le=86_400, description="Seconds a new status must hold to be confirmed"
    )

    events_reload_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds between re-reads of the cameras to subscribe",
    )
    events_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Seconds one ONVIF events call may take"
    )
    events_batch_size: int = Field(
        default=200, ge=1, le=10_000, description="Events stored per INSERT at most"
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
