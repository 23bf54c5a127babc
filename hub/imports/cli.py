"""`c4hub import …` commands. Filled in by the import work."""

import typer

import_app = typer.Typer(help="Import inventories (CSV, GeoJSON).", no_args_is_help=True)
