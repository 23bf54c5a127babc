"""`c4hub serve`: migrate, then run uvicorn; with no database URL, inside an embedded cluster."""

import uvicorn

from hub.app import create_app
from hub.migrate import upgrade
from hub.settings import Settings


def run(settings: Settings, host: str, port: int) -> None:
    if settings.database_url:
        _serve(settings, host, port)
        return
    from hub.embedded import EmbeddedPostgres

    with EmbeddedPostgres(settings.data_dir / "postgres") as url:
        _serve(settings.model_copy(update={"database_url": url}), host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    assert settings.database_url
    upgrade(settings.database_url)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
