"""A stored plan as GeoJSON (proposals as features, totals on the collection) and as CSV."""

import csv
import io
from typing import Any

from hub.coverage.models import PlanningPlan, PlanningProposal
from hub.registry.convert import point_of

CSV_COLUMNS = (
    "rank",
    "action",
    "camera_id",
    "longitude",
    "latitude",
    "heading_deg",
    "fov_deg",
    "range_m",
    "gain_area_m2",
    "gain_demand",
    "saved_cost",
    "demand_points",
)


def _row(p: PlanningProposal) -> dict[str, Any]:
    site = point_of(p.site)
    return {
        "rank": p.rank,
        "action": p.action.value,
        "camera_id": str(p.camera_id) if p.camera_id else None,
        "longitude": site.lon,
        "latitude": site.lat,
        "heading_deg": p.heading_deg,
        "fov_deg": p.fov_deg,
        "range_m": p.range_m,
        "gain_area_m2": p.gain_area_m2,
        "gain_demand": p.gain_demand,
        "saved_cost": p.saved_cost,
        "demand_points": p.properties.get("demand_points", 0),
    }


def plan_geojson(plan: PlanningPlan, proposals: list[PlanningProposal]) -> dict[str, Any]:
    features = []
    for p in proposals:
        row = _row(p)
        lon, lat = row.pop("longitude"), row.pop("latitude")
        extra = {k: v for k, v in p.properties.items() if k != "demand_points"}
        features.append(
            {
                "type": "Feature",
                "id": str(p.id),
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {**row, **extra, "plan_id": str(plan.id)},
            }
        )
    return {
        "type": "FeatureCollection",
        "id": str(plan.id),
        "properties": {
            "plan_id": str(plan.id),
            "created_at": plan.created_at.isoformat(),
            "params": plan.params,
            "totals": plan.totals,
        },
        "features": features,
    }


def plan_csv(proposals: list[PlanningProposal]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in proposals:
        writer.writerow({k: "" if v is None else v for k, v in _row(p).items()})
    return out.getvalue()
