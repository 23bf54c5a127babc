"""How far the sweep may look at a camera: an enrolled private camera's consent decides.

Cameras the node's own organizations registered carry no enrolment and are checked in full.
"""

from sqlalchemy import ColumnElement

from hub.enrolment.rules import Use
from hub.enrolment.service import permits_clause


def check_allowed() -> ColumnElement[bool]:
    """Cameras the sweep may check at all (at least open the stream)."""
    return permits_clause(Use.HEALTH_REACHABILITY)


def decode_allowed() -> ColumnElement[bool]:
    """Cameras whose pictures the sweep may decode for the tamper checks."""
    return permits_clause(Use.HEALTH_DECODE)
