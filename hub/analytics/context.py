"""What the analytics tasks need from the node: sessions, the credential box, where models and
evidence live, and where frames come from (a camera's stream; tests and benches give files)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from adapters.base import ColorFrame, Target
from adapters.rtsp import RtspAdapter
from hub.analytics.evidence import EvidenceStore
from hub.db import make_engine, make_sessionmaker
from hub.keys import credential_key
from hub.registry.secrets import CredentialBox
from hub.settings import Settings

FrameSource = Callable[[Target, float, float], Iterator[tuple[float, ColorFrame]]]


@dataclass(frozen=True)
class AnalyticsContext:
    sessions: sessionmaker[Session]
    box: CredentialBox
    models_dir: Path
    data_dir: Path
    evidence: EvidenceStore
    source: FrameSource = field(default_factory=lambda: RtspAdapter().sample)
    timeout_s: float = 10.0


def context_from(settings: Settings) -> AnalyticsContext:
    if not settings.database_url:
        raise RuntimeError("the worker needs C4HUB_DATABASE_URL")
    return AnalyticsContext(
        sessions=make_sessionmaker(make_engine(settings.database_url)),
        box=CredentialBox(credential_key(settings)),
        models_dir=settings.models_dir,
        data_dir=settings.data_dir,
        evidence=EvidenceStore(settings.data_dir / "evidence"),
        timeout_s=settings.probe_timeout_s,
    )
