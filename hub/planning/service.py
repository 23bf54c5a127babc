"""Redundant cameras and placement plans. Flushes; the request commits.

A plan is computed whole before anything is written, then stored with its proposals in one
flush: a failed plan leaves nothing behind.
"""

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.coverage.models import PlanningPlan, PlanningProposal, ProposalAction
from hub.errors import Invalid, NotFound
from hub.planning.contracts import (
    AssumedViews,
    Candidates,
    Objective,
    PlanRequest,
    RedundantAnswer,
    RedundantCamera,
)
from hub.planning.geometry import FloatArray, grid_point_count, grid_points
from hub.planning.inputs import Area, CameraView, Demand, cameras_near, demand_in, pick_area
from hub.planning.placement import Placement, PlacementInput, place
from hub.planning.rules import Overlap, redundant
from hub.settings import Settings

MAX_LISTED = 100


def assumed(cameras: list[CameraView]) -> AssumedViews:
    ids = [c.id for c in cameras if c.assumed_360]
    return AssumedViews(count=len(ids), camera_ids=ids[:MAX_LISTED])


def _standing_in(area: Area, cameras: list[CameraView]) -> set[int]:
    lons = np.array([c.lon for c in cameras], dtype=float)
    lats = np.array([c.lat for c in cameras], dtype=float)
    return set(np.flatnonzero(shapely.intersects_xy(area.geom, lons, lats)).tolist())


def _redundant(area: Area, cameras: list[CameraView], share: float) -> list[Overlap]:
    inside = _standing_in(area, cameras) if cameras else set()
    return redundant([c.view for c in cameras], share, inside)


def find_redundant(
    session: Session,
    area: Area,
    share: float,
    scope: uuid.UUID | None,
    settings: Settings,
) -> RedundantAnswer:
    """Cameras standing in the area whose view the others (in or near it) cover at least
    `share`. A business weighs its own cameras against each other only."""
    cameras = cameras_near(session, area, scope, settings.coverage_default_range_m)
    found = _redundant(area, cameras, share)
    return RedundantAnswer(
        area=area.label,
        share=share,
        cameras=len(_standing_in(area, cameras)) if cameras else 0,
        redundant=[_redundant_camera(cameras, o) for o in found],
        assumed_360=assumed(cameras),
    )


def _redundant_camera(cameras: list[CameraView], o: Overlap) -> RedundantCamera:
    c = cameras[o.index]
    return RedundantCamera(
        camera_id=c.id,
        name=c.name,
        owner=c.owner,
        location=(c.lon, c.lat),
        share=round(o.share, 4),
        covered_by=[cameras[j].id for j in o.covered_by],
        movable=o.movable,
        assumed_360=c.assumed_360,
    )


@dataclass(frozen=True)
class Resolved:
    """A plan request with every default filled in from the settings."""

    k: int
    candidates: Candidates
    grid_m: float
    relocate: bool
    share: float
    unit_price: float
    range_m: float
    fov_deg: float
    objective: Objective


def resolve(req: PlanRequest, settings: Settings) -> Resolved:
    return Resolved(
        k=req.k,
        candidates=req.candidates,
        grid_m=req.grid_m or settings.planning_grid_m,
        relocate=req.relocate,
        share=req.share or settings.planning_redundant_share,
        unit_price=settings.planning_unit_price if req.unit_price is None else req.unit_price,
        range_m=req.range_m or settings.planning_range_m,
        fov_deg=req.fov_deg or settings.planning_fov_deg,
        objective=req.objective,
    )


def _sites(
    req: PlanRequest, r: Resolved, area: Area, demand: Demand, limit: int
) -> tuple[FloatArray, FloatArray]:
    """The candidate sites in the area's frame (metres)."""
    frame = area.frame
    if r.candidates is Candidates.GRID:
        area_xy = frame.geometry_to_xy(area.geom)
        if grid_point_count(area_xy, r.grid_m) > limit * 4:  # the bound counts the bounding box
            raise Invalid(
                f"a {r.grid_m:g} m grid over this area makes more than {limit} candidate sites "
                "(C4HUB_PLANNING_MAX_CANDIDATES); give a larger grid_m",
                "grid_m",
            )
        return grid_points(area_xy, r.grid_m)
    if r.candidates is Candidates.DEMAND:
        if not demand.ids:
            raise Invalid(
                "there are no demand points in the area; import some (`c4hub import demand`) "
                "or use candidates=grid",
                "candidates",
            )
        # Several demand points may share one place (a building's floors): one site each.
        unique = np.unique(np.round(np.column_stack([demand.x, demand.y]), 1), axis=0)
        return unique[:, 0].astype(np.float64), unique[:, 1].astype(np.float64)
    return _given_sites(req, area)


def _given_sites(req: PlanRequest, area: Area) -> tuple[FloatArray, FloatArray]:
    if not req.sites:
        raise Invalid("candidates=sites needs `sites`: a list of GeoJSON Points", "sites")
    lons = np.array([p.lon for p in req.sites], dtype=float)
    lats = np.array([p.lat for p in req.sites], dtype=float)
    outside = np.flatnonzero(~shapely.intersects_xy(area.geom, lons, lats))
    if outside.size:
        raise Invalid(
            f"sites[{int(outside[0])}] lies outside the area ({outside.size} sites do); "
            "give sites inside it",
            "sites",
        )
    return area.frame.to_xy(lons, lats)


def create_plan(session: Session, req: PlanRequest, settings: Settings) -> PlanningPlan:
    """Choose up to k sites greedily, store the plan and its proposals (flushed)."""
    r = resolve(req, settings)
    area = pick_area(session, req.organization, req.area_geojson(), None)
    cameras = cameras_near(session, area, None, settings.coverage_default_range_m)
    demand = demand_in(session, area)
    sites_x, sites_y = _sites(req, r, area, demand, settings.planning_max_candidates)
    if sites_x.size > settings.planning_max_candidates:
        raise Invalid(
            f"{sites_x.size} candidate sites is more than the "
            f"{settings.planning_max_candidates} one plan may weigh "
            "(C4HUB_PLANNING_MAX_CANDIDATES); give fewer or a larger grid_m",
            "candidates",
        )
    if r.k > sites_x.size:
        raise Invalid(
            f"k={r.k} is more than the {sites_x.size} candidate sites; ask for at most "
            f"{sites_x.size} or give more candidates (a smaller grid_m, more sites)",
            "k",
        )
    moving = [o for o in _redundant(area, cameras, r.share) if o.movable] if r.relocate else []
    moving = moving[: r.k]
    while True:
        placement = _place(area, cameras, demand, sites_x, sites_y, r, moving)
        if len(placement.proposals) >= len(moving):
            break
        # Fewer sites worth taking than cameras to move: the rest stay where they are.
        moving = moving[: len(placement.proposals)]
    return _store(session, area, r, req, cameras, demand, placement, moving, sites_x.size)


def _place(
    area: Area,
    cameras: list[CameraView],
    demand: Demand,
    sites_x: FloatArray,
    sites_y: FloatArray,
    r: Resolved,
    moving: list[Overlap],
) -> Placement:
    moved = {o.index for o in moving}
    return place(
        PlacementInput(
            area=area.frame.geometry_to_xy(area.geom),
            kept=[c.view for i, c in enumerate(cameras) if i not in moved],
            moved=[cameras[i].view for i in sorted(moved)],
            sites_x=sites_x,
            sites_y=sites_y,
            demand_x=demand.x,
            demand_y=demand.y,
            demand_w=demand.weight,
            range_m=r.range_m,
            fov_deg=r.fov_deg,
            k=r.k,
            demand_first=r.objective is Objective.DEMAND,
        )
    )


def _store(
    session: Session,
    area: Area,
    r: Resolved,
    req: PlanRequest,
    cameras: list[CameraView],
    demand: Demand,
    placement: Placement,
    moving: list[Overlap],
    candidates: int,
) -> PlanningPlan:
    plan = PlanningPlan(
        id=uuid.uuid4(),
        area=f"SRID=4326;{area.geom.wkt}",
        params=_params(r, area, req),
        totals=_totals(r, area, cameras, demand, placement, len(moving), candidates),
    )
    session.add(plan)
    frame = area.frame
    for p in placement.proposals:
        lon, lat = frame.to_lonlat(np.array([p.x]), np.array([p.y]))
        mover = moving[p.rank - 1] if p.rank <= len(moving) else None
        camera = cameras[mover.index] if mover else None
        session.add(
            PlanningProposal(
                plan_id=plan.id,
                rank=p.rank,
                action=ProposalAction.RELOCATE if camera else ProposalAction.NEW,
                camera_id=camera.id if camera else None,
                site=f"SRID=4326;POINT({lon[0]:.7f} {lat[0]:.7f})",
                heading_deg=p.heading_deg,
                fov_deg=r.fov_deg,
                range_m=r.range_m,
                gain_area_m2=round(p.gain_area_m2, 1),
                gain_demand=round(p.gain_demand, 6),
                saved_cost=r.unit_price if camera else 0.0,
                properties=_proposal_properties(p.demand.tolist(), demand, camera, mover),
            )
        )
    session.flush()
    return plan


def _proposal_properties(
    covered: list[int], demand: Demand, camera: CameraView | None, mover: Overlap | None
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "demand_points": len(covered),
        "demand_ids": [str(demand.ids[i]) for i in covered[:MAX_LISTED]],
    }
    if camera is not None and mover is not None:
        props["moved_from"] = [camera.lon, camera.lat]
        props["camera_name"] = camera.name
        props["redundant_share"] = round(mover.share, 4)
    return props


def _params(r: Resolved, area: Area, req: PlanRequest) -> dict[str, Any]:
    return {
        "organization": area.organization.slug if area.organization else None,
        "k": r.k,
        "candidates": r.candidates.value,
        "grid_m": r.grid_m if r.candidates is Candidates.GRID else None,
        "sites": len(req.sites) if req.sites else None,
        "relocate": r.relocate,
        "share": r.share,
        "unit_price": r.unit_price,
        "range_m": r.range_m,
        "fov_deg": r.fov_deg,
        "objective": r.objective.value,
    }


def _totals(
    r: Resolved,
    area: Area,
    cameras: list[CameraView],
    demand: Demand,
    placement: Placement,
    relocated: int,
    candidates: int,
) -> dict[str, Any]:
    proposals = placement.proposals
    gain_area = sum(p.gain_area_m2 for p in proposals)
    new = len(proposals) - relocated
    return {
        "requested": r.k,
        "proposed": len(proposals),
        "relocated": relocated,
        "new": new,
        "stopped_early": None
        if len(proposals) == r.k
        else f"only {len(proposals)} of the {candidates} candidate sites add coverage or demand",
        "candidates": candidates,
        "options": placement.options,
        "cell_m": placement.cell_m,
        "area_m2": round(area.frame.geometry_to_xy(area.geom).area, 1),
        "gain_area_m2": round(gain_area, 1),
        "lost_area_m2": round(placement.lost_area_m2, 1),
        "net_area_m2": round(gain_area - placement.lost_area_m2, 1),
        "gain_demand": round(sum(p.gain_demand for p in proposals), 6),
        "lost_demand": round(placement.lost_demand, 6),
        "demand_points": len(demand.ids),
        "demand_weight": round(float(demand.weight.sum()), 6),
        "saved_cost": relocated * r.unit_price,
        "cost_new": new * r.unit_price,
        "cameras_considered": len(cameras),
        "assumed_360": assumed(cameras).model_dump(mode="json"),
    }


def get_plan(session: Session, plan_id: uuid.UUID) -> tuple[PlanningPlan, list[PlanningProposal]]:
    plan = session.get(PlanningPlan, plan_id)
    if plan is None:
        raise NotFound("Plan", plan_id)
    rows = session.scalars(
        select(PlanningProposal)
        .where(PlanningProposal.plan_id == plan_id)
        .order_by(PlanningProposal.rank)
    )
    return plan, list(rows)


def list_plans(session: Session, limit: int) -> list[PlanningPlan]:
    """The newest plans first."""
    stmt = select(PlanningPlan).order_by(PlanningPlan.created_at.desc(), PlanningPlan.id)
    return list(session.scalars(stmt.limit(limit)))
