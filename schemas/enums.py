"""Closed vocabularies of the registry."""

from enum import StrEnum


class OrganizationKind(StrEnum):
    MUNICIPALITY = "municipality"
    DISTRICT = "district"
    REGIONAL_CENTRE = "regional_centre"
    NATIONAL_AGENCY = "national_agency"
    POLICE = "police"
    OPERATOR = "operator"  # utility or transport operator
    PRIVATE_BUSINESS = "private_business"


class CameraPurpose(StrEnum):
    CRIME_PREVENTION = "crime_prevention"
    TRAFFIC = "traffic"
    PARKING_ENFORCEMENT = "parking_enforcement"
    CHILD_SAFETY = "child_safety"
    DISASTER = "disaster"
    PRIVATE_PREMISES = "private_premises"
    OTHER = "other"


class AdapterKind(StrEnum):
    ONVIF = "onvif"
    RTSP = "rtsp"
    VLC = "vlc"
    HTTP_SNAPSHOT = "http_snapshot"
    NONE = "none"  # inventory-only record


class CameraStatus(StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"
    DEGRADED = "degraded"
    TAMPERED = "tampered"
    DECOMMISSIONED = "decommissioned"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    PLANNER = "planner"
    BUSINESS = "business"
