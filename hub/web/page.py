"""What the map page is sent with: its security headers and public configuration. Pure."""

from urllib.parse import urlsplit

from pydantic import BaseModel, Field

# Media types of the files under static/, by suffix; anything else is not served.
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    "": "text/plain; charset=utf-8",  # LICENSE, VERSIONS
}


class MapConfig(BaseModel):
    """The page's settings, public: the page reads them before anyone signs in."""

    tile_url: str | None = Field(description="XYZ tile template; null: no background tiles")
    tile_attribution: str


class MapSession(BaseModel):
    """Who the page is signed in as, so it shows each role the panels it may use."""

    role: str
    organization_id: str | None


class MapCameras(BaseModel):
    """The cameras layer: one [id, longitude, latitude, owner, owner_kind, status] per camera."""

    # Arrays, not objects: the keys would be a third of 50,000 cameras' bytes.
    cameras: list[list[str | float]] = Field(
        description="[id, longitude, latitude, owner slug, owner kind, status] per camera"
    )
    shown: int
    total: int = Field(description="Cameras the caller may see; more than shown past the limit")


def tile_origin(tile_url: str | None) -> str | None:
    """scheme://host[:port] of the tile URL, the one outside origin the page may load from."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    host = parts.netloc
    if host.startswith("{s}."):
        # Leaflet fills {s} with a, b or c: admit the subdomains of the rest of the host.
        host = "*." + host.removeprefix("{s}.")
    return f"{parts.scheme}://{host}"


def security_headers(tile_url: str | None) -> dict[str, str]:
    """Headers for the page and its files. The policy lets the page reach its own node only
    (and the tile server when one is set): no CDN, no inline script, nothing else."""
    images = " ".join(filter(None, ["'self'", "data:", tile_origin(tile_url)]))
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # Revalidate every time: a node upgrade must not leave an old map.js in the browser.
        "Cache-Control": "no-cache",
    }


def media_type(name: str) -> str | None:
    suffix = name[name.rfind(".") :] if "." in name.rsplit("/", 1)[-1] else ""
    return MEDIA_TYPES.get(suffix)
