"""`c4hub hotlists …`: bulk import of a hotlist CSV (a national list), all or nothing."""

from pathlib import Path
from typing import Annotated

import typer

hotlists_app = typer.Typer(help="Hotlists of plates (black and white lists).", no_args_is_help=True)


@hotlists_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV with a header row")],
    source: Annotated[str, typer.Option(help="Where the list comes from, e.g. national-police")],
    category: Annotated[
        str | None, typer.Option(help="Category of rows without a category column")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Reason of rows without one")] = None,
    legal_basis: Annotated[str | None, typer.Option(help="Legal basis of rows without one")] = None,
    tolerance: Annotated[
        str, typer.Option(help="exact, or confusable (0/O, 8/B, 1/I, 5/S, 2/Z alike)")
    ] = "exact",
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete this source's earlier entries first")
    ] = False,
    issuing_agency: Annotated[
        str | None, typer.Option(help="Who issued the list; default: this node's name")
    ] = None,
) -> None:
    """Import hotlist entries from a CSV file: columns plate, category, reason, legal_basis,
    and optionally priority (1-5), valid_from, valid_until (ISO 8601 with offset), tolerance.
    The first bad row stops the import (`line N: reason`) and nothing is written. Peers whose
    agreement has `hotlists` receive the new entries (and revocations of replaced ones).

    Examples:
      c4hub hotlists import stolen.csv --source national-police --category stolen \\
          --legal-basis "Road Traffic Act 12(3)" --replace
    """
    from pydantic import TypeAdapter, ValidationError

    from hub.cli import fail
    from hub.hotlists.importer import ImportOptions, import_entries
    from hub.imports.cli import _transaction
    from schemas.hotlists import Agency, Category, Source, Tolerance

    try:
        chosen = Category(category.lower()) if category else None
    except ValueError:
        fail(
            f"--category: unknown {category!r}; use one of: {', '.join(c.value for c in Category)}"
        )
    try:
        chosen_tolerance = Tolerance(tolerance.lower())
    except ValueError:
        fail(f"--tolerance: unknown {tolerance!r}; use exact or confusable")
    try:
        TypeAdapter(Source).validate_python(source)
    except ValidationError:
        fail("--source takes 1 to 100 letters, digits and . _ : / - (e.g. national-police)")
    if issuing_agency is not None:
        try:
            TypeAdapter(Agency).validate_python(issuing_agency)
        except ValidationError:
            fail("--issuing-agency takes 1 to 200 characters (e.g. 'Fiscalia General')")
    options = ImportOptions(
        source=source,
        category=chosen,
        reason=reason,
        legal_basis=legal_basis,
        tolerance=chosen_tolerance,
        replace=replace,
        issuing_agency=issuing_agency,
    )
    with _transaction() as conn:
        result = import_entries(conn, file, options)
    replaced = f", replacing {result.replaced}" if options.replace else ""
    published = f"; {result.published} deliveries to peers queued" if result.published else ""
    typer.echo(
        f"imported {result.entries} entries from {source}{replaced} in {result.seconds} s"
        + published
    )
