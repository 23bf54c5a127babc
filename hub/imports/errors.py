"""What an import can fail with. Each message is one line that says what to do about it."""


class InventoryError(Exception):
    """The import was refused and nothing was written."""


class SourceError(InventoryError):
    """The file cannot be read as an inventory."""


class ColumnError(InventoryError):
    """The file's columns (or the --map options) cannot be used."""


class ImportFailed(InventoryError):
    """A record, an owner or an option made the import stop."""
