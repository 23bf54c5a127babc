"""`c4hub report …`: printable reports written to a file, with one-line errors."""

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import shapely
import typer
from shapely.errors import GEOSException
from shapely.geometry import mapping, shape

report_app = typer.Typer(help="Printable reports (HTML).", no_args_is_help=True)

MAP_POINTS = 50_000  # more dots than this make a page browsers print slowly
_AREAS = ("Polygon", "MultiPolygon")


def _geometry_of(path: Path) -> Any:
    """The area in a GeoJSON file: a geometry, a Feature, or the union of a collection's."""
    from hub.cli import fail

    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text; give a GeoJSON file (RFC 7946: UTF-8)")
    if not text:
        fail(f"{path} is empty; give a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path} is not JSON ({exc.msg} at line {exc.lineno}); give a GeoJSON file")
    if not isinstance(doc, dict):
        fail(f"{path} is not a GeoJSON object; give a Polygon, Feature or FeatureCollection")
    if doc.get("type") == "Feature":
        return doc.get("geometry")
    if doc.get("type") == "FeatureCollection":
        geoms = [f.get("geometry") for f in doc.get("features") or [] if isinstance(f, dict)]
        areas = [g for g in geoms if isinstance(g, dict) and g.get("type") in _AREAS]
        if not areas:
            fail(f"{path} holds no Polygon or MultiPolygon features; give an area")
        try:
            return mapping(shapely.union_all([shape(g) for g in areas]))
        except (ValueError, TypeError, AttributeError, IndexError, GEOSException) as exc:
            fail(f"{path} has a feature that is not a valid polygon ({exc}); fix it")
    return doc


def _write(out: Path, page: str) -> None:
    """Whole or not at all: written beside the target, then renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a report is not
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@report_app.command("survey")
def survey_report(
    area: Annotated[
        str, typer.Option(help="Organization slug or id (its jurisdiction), or a GeoJSON file")
    ],
    out: Annotated[Path, typer.Option(help="The HTML file to write")],
    older_than: Annotated[
        int, typer.Option(min=0, max=100, help="Flag cameras installed more than N years ago")
    ] = 10,
) -> None:
    """Write the fleet survey of an area as a printable HTML page: a map of the area and its
    cameras (coloured by health), then counts by owner, purpose, install year, AI
    capability, status, health and jurisdiction. Needs no network to view or print.

    Examples:
      c4hub report survey --area gangnam-gu --out gangnam.html --older-than 8
      c4hub report survey --area district.geojson --out survey.html
    """
    from hub.cli import database_errors, fail, require_database_url
    from hub.db import make_engine, make_sessionmaker, session_scope
    from hub.errors import Invalid, NotFound
    from hub.planning.inputs import geojson_area, organization_area
    from hub.planning.report import survey_html
    from hub.planning.survey import camera_points, survey
    from hub.settings import get_settings

    if not out.parent.is_dir():
        fail(f"{out.parent} is not a directory; create it or give another --out")
    geometry = _geometry_of(Path(area)) if Path(area).is_file() else None
    engine = make_engine(require_database_url(get_settings()))
    try:
        with database_errors(), session_scope(make_sessionmaker(engine)) as session:
            try:
                where = (
                    geojson_area(geometry)
                    if geometry is not None
                    else organization_area(session, area, None)
                )
            except NotFound:
                fail(
                    f"no organization {area!r} and no file by that name; give an organization "
                    "slug or id, or a GeoJSON file"
                )
            except Invalid as exc:
                fail(f"{exc.detail}")
            counts = survey(session, where, older_than, None)
            points = camera_points(session, where, None, MAP_POINTS)
            page = survey_html(counts, where.geom, points, counts.cameras)
    finally:
        engine.dispose()
    _write(out, page)
    typer.echo(
        f"wrote {out}: {counts.cameras} records ({counts.units} cameras) in {where.label}, "
        f"{counts.older_than.cameras} older than {older_than} years"
    )
