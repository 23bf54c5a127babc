"""Shared pydantic contracts: the only vocabulary every part of c4hub shares.

Imports only pydantic and the standard library.
"""

SCHEMA_VERSION = "1"
