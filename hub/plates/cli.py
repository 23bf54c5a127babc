"""`c4hub plates read`: read plates in image files, one JSON object per line on stdout."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.plates.normalize import GROUPS, REGIONS

plates_app = typer.Typer(help="Licence plates.", no_args_is_help=True)


def _line(file: Path, plate: str | None, confidence: float | None, box: Any) -> str:
    return json.dumps({"file": str(file), "plate": plate, "confidence": confidence, "box": box})


@plates_app.command("read")
def read(
    images: Annotated[list[Path], typer.Argument(help="Image files (JPEG, PNG, ...)")],
    crop: Annotated[
        bool, typer.Option("--crop", help="The images are plate crops: skip detection")
    ] = False,
    region: Annotated[
        str | None,
        typer.Option(help='Plate format that resolves O/0, I/1, B/8, S/5, Z/2, e.g. "sk", "eu"'),
    ] = None,
) -> None:
    """Read licence plates in image files.

    Prints one JSON line per plate found: file, plate, confidence, and box (x, y, w, h as
    fractions of the image; null with --crop). An image without a plate gives one line with
    plate null. Models come from C4HUB_MODELS_DIR.

    Examples:
      c4hub plates read car1.jpg car2.jpg
      c4hub plates read --crop --region sk plate.png
    """
    import cv2

    from hub.cli import fail
    from hub.plates.reader import ModelError, PlateReader
    from hub.settings import get_settings

    if region is not None and region not in REGIONS and region not in GROUPS:
        known = ", ".join(sorted([*REGIONS, *GROUPS]))
        fail(f"unknown --region {region!r}; use one of {known}")
    for path in images:
        if not path.is_file():
            fail(f"{path}: no such file; check the path")
    try:
        reader = PlateReader(get_settings().models_dir, region=region)
    except ModelError as exc:
        fail(str(exc))
    for path in images:
        image = cv2.imread(str(path))
        if image is None:
            fail(f"{path}: not an image OpenCV can decode (JPEG, PNG, BMP, TIFF, WebP)")
        if crop:
            reading = reader.read_crop(image)
            readings = [reading] if reading else []
        else:
            readings = reader.read_frame(image)
        if not readings:
            typer.echo(_line(path, None, None, None))
        for r in readings:
            box = {k: round(v, 4) for k, v in r.box.model_dump().items()} if r.box else None
            typer.echo(_line(path, r.plate, round(r.confidence, 4), box))


@plates_app.command("retention")
def retention() -> None:
    """Create the plate-read partitions for the week ahead and drop the days older than the
    60-day retention (a DROP per day, not a DELETE). Beat runs this daily; run it by hand
    after the node was down for a while. Prints the partitions dropped.

    Example:
      C4HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/c4hub c4hub plates retention
    """
    from datetime import UTC, datetime

    from hub.cli import database_errors, require_database_url
    from hub.db import make_engine, make_sessionmaker, session_scope
    from hub.plates.store import maintain
    from hub.settings import get_settings

    url = require_database_url(get_settings())
    engine = make_engine(url)
    with database_errors(), session_scope(make_sessionmaker(engine)) as session:
        dropped = maintain(session, datetime.now(UTC))
    engine.dispose()
    typer.echo(f"dropped {len(dropped)} partition(s): {', '.join(dropped) or 'none'}")
