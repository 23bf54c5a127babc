"""OGC API - Features (Part 1: Core) over the registry. Filled in by the OGC work."""

from fastapi import APIRouter

router = APIRouter(tags=["ogc"])
