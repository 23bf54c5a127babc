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
    analytics_resume_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="Seconds from one segment's last frame to the next one's first within "
        "which the next carries on its tracks and dwell times; after a longer gap it starts "
        "afresh, keeping only the missing-object references",
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

    # The web map (hub/web). With no tile URL the map draws on a plain background and needs no
    # network at all; the page's Content-Security-Policy admits only the tile URL's origin.
    web_tile_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s\"'<>]*\{z\}[^\s\"'<>]*$",
        description="XYZ tile URL template for the map background, e.g. "
        "https://tile.example.org/{z}/{x}/{y}.png; unset: no background tiles (offline)",
    )
    web_tile_attribution: str = Field(
        default="", max_length=500, description="Attribution text shown for the tiles"
    )
    web_max_cameras: int = Field(
        default=200_000,
        ge=1,
        le=2_000_000,
        description="Most cameras the map's cameras layer loads at once (about 90 bytes each)",
    )

    # Coverage planning (hub/coverage).
    coverage_default_range_m: float = Field(
        default=30.0,
        gt=0,
        le=5000,
        description="Radius of the full circle assumed for a camera whose field of view is "
        "unknown (no heading) and that records no range; such cameras are flagged",
    )
    coverage_tile_m: float = Field(
        default=250.0,
        ge=50,
        le=20_000,
        description="Side of the square tiles a large area is cut into; fields of view are "
        "unioned tile by tile",
    )
    coverage_max_area_km2: float = Field(
        default=5000.0, gt=0, le=1_000_000, description="Largest area one coverage may cover"
    )
    coverage_refresh_every_s: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description="How often beat asks the coverage worker to recompute stale cached areas",
    )

    # Placement and redundancy (hub/planning).
    planning_redundant_share: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Share of a camera's view the others must cover for it to count as redundant",
    )
    planning_range_m: float = Field(
        default=50.0, gt=0, le=2000, description="Range of a proposed camera, metres"
    )
    planning_fov_deg: float = Field(
        default=360.0,
        gt=0,
        le=360,
        description="Field of view of a proposed camera; below 360 each site is tried facing "
        "8 headings",
    )
    planning_grid_m: float = Field(
        default=100.0, ge=5, le=10_000, description="Spacing of grid candidate sites, metres"
    )
    planning_unit_price: float = Field(
        default=5_000_000.0,
        ge=0,
        description="Price of one new camera installed; a relocation saves it (any currency)",
    )
    planning_max_candidates: int = Field(
        default=20_000,
        ge=1,
        le=1_000_000,
        description="Most candidate sites one plan may weigh (a coarser grid_m makes fewer)",
    )

    # Federation (federation/): signed calls between peer nodes.
    federation_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Seconds one call to a peer node may take"
    )
    federation_skew_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="Clock difference tolerated between peers when checking signature times",
    )
    federation_signature_lifetime_s: float = Field(
        default=300.0, gt=0, le=3600, description="Seconds a request or response signature lasts"
    )
    federation_key_overlap_h: float = Field(
        default=24.0,
        ge=0,
        le=24 * 365,
        description="Hours the previous key is still accepted after `c4hub keys rotate`",
    )
    federation_api_base: str | None = Field(
        default=None,
        pattern=r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\x00-\x20\x7f]*)?$",
        description="Base URL peers call this node at; the default of `c4hub init --api-base`",
    )
    # Federation delivery (federation/delivery.py, federation/tasks.py).
    federation_sweep_s: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="Seconds between beat sweeps that send deliveries due to every peer",
    )
    federation_batch: int = Field(
        default=500, ge=1, le=5000, description="Most events sent to a peer in one signed request"
    )
    federation_max_attempts: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Failed attempts after which a delivery goes to the dead-letter view",
    )
    federation_breaker_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Consecutive failed batches that open a peer's circuit breaker",
    )
    federation_breaker_cooldown_s: float = Field(
        default=30.0,
        gt=0,
        le=86_400,
        description="Seconds an open circuit waits before one trial batch (half-open)",
    )
    federation_kick: bool = Field(
        default=True,
        description="Queue a delivery as soon as a transaction that emitted events commits; "
        "off, only beat's sweep sends them",
    )
    federation_backoff_cap_s: float = Field(
        default=600.0,
        gt=0,
        le=86_400,
        description="Longest wait between two attempts of one delivery (exponential, jittered)",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
