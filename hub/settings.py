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


@lru_cache
def get_settings() -> Settings:
    return Settings()
