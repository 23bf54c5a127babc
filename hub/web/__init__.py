"""The web map: the page at `/`, its scripts and the vendored Leaflet, served by the node."""
