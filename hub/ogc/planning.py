"""The coverage-planning collections: gaps of cached coverages, demand points with their
coverage, and the proposals of placement plans. Served as their own OGC API at /ogc/planning,
next to the registry's at /ogc, so GIS clients open either one as a data source.

None of them belongs to one organization: business tokens see only the gaps of the coverages
computed for them (over their own cameras), and no demand or proposals, which are about every
owner's cameras. Node-wide callers see the gaps of node-wide coverages only.
"""

from sqlalchemy import (
    String,
    cast,
    func,
    select,
)

from hub.coverage.demand import cameras_seeing, owners_seeing
from hub.coverage.models import (
    CoverageCache,
    CoverageGap,
    DemandKind,
    DemandPoint,
    PlanningProposal,
    ProposalAction,
)
from hub.ogc.collections import Collection, PropertyFilter, Schema, _number, _text, _values
from hub.ogc.source import Column, Condition, Source
from hub.registry.models import Organization
from hub.settings import get_settings

UUID_SCHEMA: Schema = {"type": "string", "format": "uuid"}


def _iso(column: Column) -> Column:
    return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')


# --- coverage gaps ---------------------------------------------------------------------------

GAP_PROPERTIES: dict[str, Schema] = {
    "coverage_id": {**UUID_SCHEMA, "description": "The cached coverage the gap belongs to"},
    "organization": _text("Slug of the organization whose jurisdiction was measured"),
    "area_m2": _number("Area of the gap, square metres", nullable=False),
    "obstacles": {"type": "boolean", "description": "Fields of view were clipped by obstacles"},
    "computed_at": {"type": "string", "format": "date-time", "description": "When computed"},
}

_GAP_ROWS = CoverageGap.__table__.join(
    CoverageCache.__table__, CoverageCache.id == CoverageGap.cache_id
).outerjoin(Organization.__table__, Organization.id == CoverageCache.organization_id)


def _gap_of(column: Column, value: object) -> Condition:
    """Gaps of caches whose `column == value`, as a subquery so counting needs no join."""
    caches = select(CoverageCache.id).outerjoin(
        Organization, Organization.id == CoverageCache.organization_id
    )
    return CoverageGap.cache_id.in_(caches.where(column == value))


GAPS = Source(
    key=CoverageGap.id,
    geometry=CoverageGap.geom,
    scope=select(CoverageCache.scope_org_id)
    .where(CoverageCache.id == CoverageGap.cache_id)
    .scalar_subquery(),
    exact_scope=True,
    properties=(
        CoverageGap.cache_id.label("coverage_id"),
        Organization.slug.label("organization"),
        CoverageGap.area_m2,
        CoverageCache.options["obstacles"].as_boolean().label("obstacles"),
        _iso(CoverageCache.computed_at).label("computed_at"),
    ),
    rows=_GAP_ROWS,
    table=CoverageGap.__table__,
    base=(),
    filters={
        "organization": lambda v: _gap_of(Organization.slug, v),
        "coverage_id": lambda v: _gap_of(cast(CoverageCache.id, String), v),
    },
)

# --- demand points ---------------------------------------------------------------------------

DEMAND_PROPERTIES: dict[str, Schema] = {
    "kind": {"type": "string", "enum": list(_values(DemandKind)), "description": "Kind of place"},
    "name": _text("Name of the place"),
    "weight": _number("How much it matters (above 0)", nullable=False),
    "area": {"type": "boolean", "description": "An area, drawn at a point inside it"},
    "covered": {"type": "boolean", "description": "At least one camera sees it"},
    "cameras": _number("Cameras that see it", "integer", nullable=False),
    "owners": _number("Organizations owning those cameras", "integer", nullable=False),
    "source": _text("File it was imported from", nullable=False),
}


# The OGC API has no per-request settings: the node's own default range applies.
_CAMERAS_SEEING = cameras_seeing(get_settings().coverage_default_range_m, None)
_OWNERS_SEEING = owners_seeing(get_settings().coverage_default_range_m, None)


DEMAND = Source(
    key=DemandPoint.id,
    geometry=DemandPoint.geom,
    display=func.ST_PointOnSurface(DemandPoint.geom),
    scope=None,
    properties=(
        DemandPoint.kind,
        DemandPoint.name,
        DemandPoint.weight,
        (func.GeometryType(DemandPoint.geom) != "POINT").label("area"),
        (_CAMERAS_SEEING > 0).label("covered"),
        _CAMERAS_SEEING.label("cameras"),
        _OWNERS_SEEING.label("owners"),
        DemandPoint.source,
    ),
    rows=DemandPoint.__table__,
    table=DemandPoint.__table__,
    base=(),
    filters={
        "kind": lambda v: DemandPoint.kind == v,
        # a scalar subquery, not (NOT) EXISTS: the planner would turn that into an anti-join
        # over all cameras instead of an index lookup around each point
        "covered": lambda v: (_CAMERAS_SEEING > 0) == v,
    },
)

# --- planning proposals ----------------------------------------------------------------------

PROPOSAL_PROPERTIES: dict[str, Schema] = {
    "plan_id": {**UUID_SCHEMA, "description": "The plan the proposal belongs to"},
    "rank": _number("Order of choice (1 = first)", "integer", nullable=False),
    "action": {
        "type": "string",
        "enum": list(_values(ProposalAction)),
        "description": "A new camera, or an existing one relocated here",
    },
    "camera_id": {**UUID_SCHEMA, "nullable": True, "description": "The camera to relocate"},
    "heading_deg": _number("Viewing direction, degrees clockwise from north"),
    "fov_deg": _number("Horizontal field of view, degrees"),
    "range_m": _number("Viewing range, metres", nullable=False),
    "gain_area_m2": _number("Area newly covered, square metres"),
    "gain_demand": _number("Weight of demand newly covered"),
    "saved_cost": _number("Cost saved (relocation instead of purchase)"),
}

PROPOSALS = Source(
    key=PlanningProposal.id,
    geometry=PlanningProposal.site,
    scope=None,
    properties=(
        PlanningProposal.plan_id,
        PlanningProposal.rank,
        PlanningProposal.action,
        PlanningProposal.camera_id,
        PlanningProposal.heading_deg,
        PlanningProposal.fov_deg,
        PlanningProposal.range_m,
        PlanningProposal.gain_area_m2,
        PlanningProposal.gain_demand,
        PlanningProposal.saved_cost,
    ),
    rows=PlanningProposal.__table__,
    table=PlanningProposal.__table__,
    base=(),
    filters={
        "plan_id": lambda v: cast(PlanningProposal.plan_id, String) == v,
        "action": lambda v: PlanningProposal.action == v,
    },
)

PLANNING_COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            id="coverage-gaps",
            title="Coverage gaps",
            description="Parts of measured areas no camera sees, per cached coverage "
            "(GET /api/v1/coverage computes them).",
            geometry_type="Polygon",
            geometry_nullable=False,
            properties=GAP_PROPERTIES,
            filters=(
                PropertyFilter("organization", "string", "Measured organization's slug"),
                PropertyFilter("coverage_id", "string", "The cached coverage's id"),
            ),
        ),
        Collection(
            id="demand-points",
            title="Demand points",
            description="Places cameras should see, with how many cameras and owners see them; "
            "an area is drawn at a point inside it.",
            geometry_type="Point",
            geometry_nullable=False,
            properties=DEMAND_PROPERTIES,
            filters=(
                PropertyFilter("kind", "string", "Kind of place", _values(DemandKind)),
                PropertyFilter("covered", "boolean", "At least one camera sees it"),
            ),
        ),
        Collection(
            id="planning-proposals",
            title="Planning proposals",
            description="Sites where plans put a new or relocated camera, in order of choice.",
            geometry_type="Point",
            geometry_nullable=False,
            properties=PROPOSAL_PROPERTIES,
            filters=(
                PropertyFilter("plan_id", "string", "The plan's id"),
                PropertyFilter("action", "string", "New or relocated", _values(ProposalAction)),
            ),
        ),
    )
}

PLANNING_SOURCES: dict[str, Source] = {
    "coverage-gaps": GAPS,
    "demand-points": DEMAND,
    "planning-proposals": PROPOSALS,
}
