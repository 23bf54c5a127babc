"""An alert as OASIS CAP 1.2 XML (Common Alerting Protocol), for agencies' CAP consoles. Pure.

One CAP message per state: `Alert` while open, `Update` once acknowledged, `Cancel` once
closed; the later two reference the first (CAP 1.2 §3.2.1 `references`: sender,identifier,
sent). The message is `Restricted`: hotlist matches are for the operators of the command
centres that share them, not the public.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from schemas.hotlists import AlertOut, AlertState

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA_TYPE = "application/cap+xml"
ET.register_namespace("", CAP_NS)  # CAP as the default namespace rather than ns0:

RESTRICTION = (
    "Law-enforcement operators of the c4hub command centres that share this hotlist under a "
    "sharing agreement"
)
CIRCLE_RADIUS_KM = 0.1  # the read's camera, not an area: a small circle around it

MSG_TYPE = {
    AlertState.OPEN: "Alert",
    AlertState.ACKNOWLEDGED: "Update",
    AlertState.CLOSED: "Cancel",
}

# priority 1 (most urgent) .. 5 -> (urgency, severity)
PRIORITY = {
    1: ("Immediate", "Extreme"),
    2: ("Immediate", "Severe"),
    3: ("Expected", "Moderate"),
    4: ("Expected", "Minor"),
    5: ("Future", "Minor"),
}


@dataclass(frozen=True)
class Sender:
    """The node sending the message: its CAP sender id (no spaces, commas, & or <) and name."""

    sender: str
    name: str


def cap_time(moment: datetime) -> str:
    """CAP's dateTime: seconds and an explicit offset, never `Z` (the XSD's pattern)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    child.text = text
    return child


def _sent(alert: AlertOut) -> datetime:
    if alert.state is AlertState.CLOSED and alert.closed_at is not None:
        return alert.closed_at
    if alert.state is not AlertState.OPEN and alert.acknowledged_at is not None:
        return alert.acknowledged_at
    return alert.created_at


def _identifier(alert: AlertOut) -> str:
    if alert.state is AlertState.OPEN:
        return str(alert.id)
    return f"{alert.id}.{alert.state.value}"


def _place(alert: AlertOut) -> str:
    return alert.camera_name or "camera"


def cap_message(alert: AlertOut, sender: Sender) -> bytes:
    """The CAP 1.2 <alert> for `alert` as UTF-8 XML with its declaration."""
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", _identifier(alert))
    _sub(root, "sender", sender.sender)
    _sub(root, "sent", cap_time(_sent(alert)))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", MSG_TYPE[alert.state])
    _sub(root, "source", sender.name)
    _sub(root, "scope", "Restricted")
    _sub(root, "restriction", RESTRICTION)
    if alert.state is not AlertState.OPEN:
        _sub(root, "references", f"{sender.sender},{alert.id},{cap_time(alert.created_at)}")
    _info(root, alert, sender)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml


def _info(root: ET.Element, alert: AlertOut, sender: Sender) -> None:
    info = ET.SubElement(root, f"{{{CAP_NS}}}info")
    _sub(info, "category", "Security")
    _sub(info, "event", f"Hotlist match: {alert.category.value.replace('_', ' ')}")
    urgency, severity = PRIORITY.get(alert.priority, ("Unknown", "Unknown"))
    _sub(info, "urgency", urgency)
    _sub(info, "severity", severity)
    # A read equal to the listed plate was observed; a confusable one is only likely the car.
    _sub(info, "certainty", "Observed" if alert.plate == alert.entry_plate else "Likely")
    _sub(info, "senderName", sender.name)
    _sub(info, "headline", f"{alert.category.value} plate {alert.plate} at {_place(alert)}"[:160])
    _sub(info, "description", _description(alert))
    for name, value in (
        ("plate", alert.plate),
        ("entry_plate", alert.entry_plate),
        ("read_id", str(alert.read_id)),
        ("priority", str(alert.priority)),
    ):
        parameter = ET.SubElement(info, f"{{{CAP_NS}}}parameter")
        _sub(parameter, "valueName", name)
        _sub(parameter, "value", value)
    if alert.position is not None:
        area = ET.SubElement(info, f"{{{CAP_NS}}}area")
        _sub(area, "areaDesc", _place(alert))
        # CAP points are "latitude,longitude" (WGS 84), then the radius in km
        lat, lon = alert.position.lat, alert.position.lon
        _sub(area, "circle", f"{lat:.6f},{lon:.6f} {CIRCLE_RADIUS_KM}")


def _description(alert: AlertOut) -> str:
    lines = [
        f"Plate {alert.plate} read at {cap_time(alert.read_at)} matched hotlist entry "
        f"{alert.entry_plate} ({alert.category.value}).",
        f"Reason: {alert.reason}",
    ]
    if alert.evidence:
        lines.append(f"Evidence: {alert.evidence}")
    return "\n".join(lines)
