"""`c4hub import …`: read a file, call the import service, commit once, say what happened."""

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from hub.imports.errors import InventoryError
from schemas.enums import AdapterKind, CameraPurpose, OrganizationKind

import_app = typer.Typer(help="Import inventories (CSV, GeoJSON).", no_args_is_help=True)

E = TypeVar("E", bound=StrEnum)


def _choice(enum: type[E], value: str | None, option: str) -> E | None:
    if value is None:
        return None
    try:
        return enum(value.strip().lower())
    except ValueError:
        from hub.cli import fail

        fail(f"{option}: unknown value {value!r}; use one of: {', '.join(e.value for e in enum)}")


@contextmanager
def _transaction() -> Iterator[Connection]:
    """One transaction on C4HUB_DATABASE_URL, committed if the block ends normally."""
    from hub.cli import database_errors, fail, require_database_url
    from hub.db import make_engine
    from hub.settings import get_settings

    engine = make_engine(require_database_url(get_settings()))
    try:
        with database_errors(), engine.begin() as conn:
            try:
                yield conn
            except InventoryError as exc:
                fail(str(exc))
            except OperationalError:
                raise  # database_errors() words it
            except DBAPIError as exc:
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                fail(f"the database refused the import ({reason}); nothing was written")
    finally:
        engine.dispose()


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over the file's bytes on stderr; nothing when stderr is not a terminal."""
    if not sys.stderr.isatty() or not path.is_file():
        yield None
        return
    total = path.stat().st_size
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading", total=total)

        def update(done: int) -> None:
            # once the file is read, the database's part follows, without a measure of its own
            phase = "reading" if done < total else "writing to the database"
            bar.update(task, completed=done, description=phase)

        yield update


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@import_app.command("cameras")
def cameras(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or GeoJSON file")],
    owner: Annotated[
        str | None, typer.Option(help="Owner of every row: organization slug or id")
    ] = None,
    owner_column: Annotated[
        str | None,
        typer.Option(metavar="COLUMN", help="Column naming each row's owner (slug or name)"),
    ] = None,
    create_owners: Annotated[
        str | None,
        typer.Option(
            metavar="KIND",
            help="Create unknown owners with this kind: "
            + ", ".join(k.value for k in OrganizationKind),
        ),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", metavar="FIELD=COLUMN", help="Read FIELD from COLUMN (repeatable)"),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Import the valid rows; reject the others to a file"),
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Rejects file [default: FILE.rejects.csv]")
    ] = None,
    purpose: Annotated[
        str, typer.Option(help="Purpose of rows without one: " + ", ".join(CameraPurpose))
    ] = CameraPurpose.OTHER.value,
    adapter: Annotated[
        str, typer.Option(help="Adapter of rows without one: " + ", ".join(AdapterKind))
    ] = AdapterKind.NONE.value,
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV file")] = "utf-8",
    timings: Annotated[
        bool, typer.Option("--timings", help="Print the seconds each phase took (JSON, stderr)")
    ] = False,
) -> None:
    """Import cameras from a CSV or GeoJSON file: all rows or none.

    The file is streamed, so it may be of any size. CSV: one header row,
    delimiter detected (, ; tab |), UTF-8 with or without BOM unless
    --encoding. GeoJSON: a FeatureCollection of Point features; properties
    are the columns, and a feature's id is its external_id unless a property
    names one.

    Columns are matched to fields by name, ignoring case; where several are
    listed, the first non-empty one in each row wins:

      lat             lat, latitude, y, 위도 (WGS 84 degrees)
      lon             lon, lng, long, longitude, x, 경도
      external_id     external_id, id, camera_id
      name            name, new_address, old_address
      units           units, count (empty = 1; 0 is refused)
      retention_days  retention_days, retention, keep_day (keep_day 0
                      means "not reported" and is stored as unknown)
      any other field by its own name: purpose, legal_basis, heading_deg,
      fov_deg, range_m, mount_height_m, ptz, vendor, model, firmware,
      install_year, ai_capable, adapter, stream_uri, snapshot_uri, device_uri, status,
      last_seen_at, tags (separated by ;)

    --map FIELD=COLUMN reads a field from the column you name. Other columns
    are ignored and listed. Credentials are not imported: set them through
    the API, which stores them encrypted.

    Owners: --owner ORG (slug or id) owns every row; or --owner-column
    COLUMN holds each row's organization slug or name. Unknown owners are
    invalid rows unless --create-owners KIND creates them, with a slug made
    from the name (a Korean or other non-Latin name gives org-<first 8 hex
    digits of its SHA-1>).

    The first invalid row stops the import with "error: line N: reason" and
    nothing is written. With --skip-invalid the valid rows are imported and
    the others go to a rejects CSV: line, reason, then the original fields
    (for GeoJSON, the feature). An external_id repeated for one owner is
    invalid: in the file the first one wins; one the owner already has in
    the hub is kept and the row is rejected. Rows without an external_id
    are always added, so importing such a file twice adds its rows twice.

    An import of 100,000 rows or more into a smaller cameras table loads
    straight into the table and rebuilds most of its indexes afterwards
    instead of updating them row by row: several times faster, but the
    table is locked until the import commits.

    Examples:

      c4hub import cameras gangnam_cctv.csv --owner-column mng_name \\
        --create-owners district

      c4hub import cameras cams.csv --owner gangnam-gu \\
        --map lat=Y_WGS84 --map lon=X_WGS84 --purpose traffic

      c4hub import cameras cams.geojson --owner acme-security \\
        --skip-invalid --rejects bad-cams.csv
    """
    from hub.cli import fail
    from hub.imports.loader import CameraImportOptions, import_cameras
    from hub.imports.rows import parse_map_options

    if (owner is None) == (owner_column is None):
        fail("pass exactly one of --owner ORG (every row) and --owner-column COLUMN (per row)")
    if owner is not None and create_owners is not None:
        fail("--create-owners goes with --owner-column; with --owner the organization must exist")
    if rejects is not None and not skip_invalid:
        fail("--rejects goes with --skip-invalid; without it the first invalid row stops")
    try:
        mapping = parse_map_options(map_ or [])
    except InventoryError as exc:
        fail(str(exc))
    options = CameraImportOptions(
        owner=owner,
        owner_column=owner_column,
        create_owners=_choice(OrganizationKind, create_owners, "--create-owners"),
        mapping=mapping,
        skip_invalid=skip_invalid,
        rejects=rejects,
        purpose=_choice(CameraPurpose, purpose, "--purpose") or CameraPurpose.OTHER,
        adapter=_choice(AdapterKind, adapter, "--adapter") or AdapterKind.NONE,
        encoding=encoding,
    )
    started = time.perf_counter()
    with _transaction() as conn, _progress(file) as progress:
        result = import_cameras(conn, file, options, progress)
    seconds = time.perf_counter() - started
    if timings:
        phases = {"bulk": result.bulk, **result.seconds, "total": round(seconds, 3)}
        typer.echo(f"timings: {json.dumps(phases)}", err=True)
    if result.ignored_columns:
        typer.echo(f"columns not imported: {', '.join(result.ignored_columns)}", err=True)
    if result.created_owners:
        slugs = ", ".join(result.created_owners[:10])
        more = "…" if len(result.created_owners) > 10 else ""
        created = _plural(len(result.created_owners), "organization")
        typer.echo(f"created {created} ({create_owners}): {slugs}{more}", err=True)
    line = (
        f"imported {_plural(result.records, 'record')} ({result.units} units) "
        f"for {_plural(result.owners, 'owner')} in {seconds:.1f} s"
    )
    if skip_invalid:
        line += f"; rejected {_plural(result.rejected, 'row')}"
    if result.rejects_path is not None:
        line += f" (see {result.rejects_path})"
    typer.echo(line)


@import_app.command("organizations")
def organizations(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="GeoJSON FeatureCollection")],
    kind: Annotated[
        str | None,
        typer.Option(
            metavar="KIND", help="Kind of every organization: " + ", ".join(OrganizationKind)
        ),
    ] = None,
    slug_property: Annotated[
        str | None, typer.Option(metavar="P", help="Property holding the slug")
    ] = None,
    name_property: Annotated[
        str | None, typer.Option(metavar="P", help="Property holding the name")
    ] = None,
    kind_property: Annotated[
        str | None, typer.Option(metavar="P", help="Property holding the kind (beats --kind)")
    ] = None,
) -> None:
    """Import organizations and their jurisdictions from GeoJSON: all or none.

    One organization per Polygon or MultiPolygon feature (a Polygon is
    stored as a one-part MultiPolygon). An invalid area (self-intersection,
    open ring) stops the import with the feature's number, counted from 1,
    and the reason; nothing is written.

    The slug comes from the `slug` property, else `code`, else the English
    name (`name_eng`, `name_en`), else `name`; a value that is not a slug
    already is slugified. The name comes from `name`, else `name_eng`,
    `name_en`. Organizations are matched by slug: importing again updates
    name, kind and jurisdiction and never duplicates them.

    Examples:

      c4hub import organizations seoul_gu_2013.geojson --kind district

      c4hub import organizations areas.geojson --kind-property type \\
        --name-property label
    """
    from hub.imports.organizations import OrganizationImportOptions, import_organizations

    options = OrganizationImportOptions(
        kind=_choice(OrganizationKind, kind, "--kind"),
        slug_property=slug_property,
        name_property=name_property,
        kind_property=kind_property,
    )
    started = time.perf_counter()
    with _transaction() as conn:
        result = import_organizations(conn, file, options)
    seconds = time.perf_counter() - started
    total = result.created + result.updated
    typer.echo(
        f"imported {_plural(total, 'organization')} ({result.created} created, "
        f"{result.updated} updated) in {seconds:.1f} s"
    )


@import_app.command("demand")
def demand(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or GeoJSON file")],
    kind: Annotated[
        str,
        typer.Option(
            metavar="KIND",
            help="What the places are: station, bus_stop, market, school, scenic, parking, other",
        ),
    ],
    weight: Annotated[
        float, typer.Option(help="Weight of every record (above 0): how much it matters")
    ] = 1.0,
    weight_column: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="Column with each record's weight")
    ] = None,
    name_column: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="Column with each record's name")
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Load the valid records; list the others on stderr"),
    ] = False,
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV file")] = "utf-8",
) -> None:
    """Import demand points or areas (places cameras should see): all records or none.

    CSV: one point per row from its latitude/longitude columns (lat,
    latitude, y, 위도 / lon, lng, longitude, x, 경도), as in the Seoul open
    data files. GeoJSON: a FeatureCollection of Point, Polygon or
    MultiPolygon features. The name comes from --name-column, else the
    first of name, place, title, new_address, old_address; other columns
    are kept as properties. Every bad record is named by its line (CSV) or
    feature number, and nothing is loaded until all are good; with
    --skip-invalid the good ones are loaded and the bad ones listed.

    Examples:

      c4hub import demand gangnam_public_wifi.csv --kind other --weight 1

      c4hub import demand gangnam_public_parking.csv --kind parking --weight 2

      c4hub import demand stations.geojson --kind station --weight-column riders
    """
    from hub.coverage.models import DemandKind
    from hub.imports.demand import DemandImportOptions, import_demand

    options = DemandImportOptions(
        kind=_choice(DemandKind, kind, "--kind") or DemandKind.OTHER,
        weight=weight,
        name_column=name_column,
        weight_column=weight_column,
        encoding=encoding,
        skip_invalid=skip_invalid,
    )
    started = time.perf_counter()
    with _transaction() as conn:
        result = import_demand(conn, file, options)
    seconds = time.perf_counter() - started
    for reason in result.rejected:
        typer.echo(f"rejected {reason}", err=True)
    line = (
        f"imported {_plural(result.points, 'demand point')} and "
        f"{_plural(result.areas, 'demand area')} ({options.kind.value}) in {seconds:.1f} s"
    )
    if skip_invalid:
        line += f"; rejected {_plural(len(result.rejected), 'record')}"
    typer.echo(line)


@import_app.command("obstacles")
def obstacles(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="GeoJSON FeatureCollection")],
) -> None:
    """Import obstacles (building footprints) that block fields of view: all or none.

    Each Polygon or MultiPolygon feature is subtracted from every field of
    view it overlaps when coverage is asked for with obstacles (a simple
    model: the footprint is not seen, what lies behind it still is).
    """
    from hub.imports.demand import import_obstacles

    started = time.perf_counter()
    with _transaction() as conn:
        count = import_obstacles(conn, file)
    typer.echo(f"imported {_plural(count, 'obstacle')} in {time.perf_counter() - started:.1f} s")
