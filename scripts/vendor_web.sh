#!/usr/bin/env bash
# Copies Leaflet and Leaflet.markercluster from their npm packages into hub/web/static/vendor/.
# The copies are committed, so a node serves the map with no npm and no internet at run time;
# run this only to change a version (then commit the result).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LEAFLET_VERSION=1.9.4
MARKERCLUSTER_VERSION=1.5.3
VENDOR=hub/web/static/vendor

die() {
    printf 'vendor_web: error: %s\n' "$*" >&2
    exit 1
}
command -v npm >/dev/null || die "npm not found; install it with: sudo apt-get install npm"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# npm pack downloads the published tarball (the files the registry serves, checked against
# its integrity hash) without installing anything or running package scripts.
(cd "$work" && npm pack --silent "leaflet@$LEAFLET_VERSION" "leaflet.markercluster@$MARKERCLUSTER_VERSION" >/dev/null)
mkdir -p "$work/leaflet" "$work/markercluster"
tar -xzf "$work/leaflet-$LEAFLET_VERSION.tgz" -C "$work/leaflet"
tar -xzf "$work/leaflet.markercluster-$MARKERCLUSTER_VERSION.tgz" -C "$work/markercluster"

rm -rf "$VENDOR"
mkdir -p "$VENDOR/leaflet/images" "$VENDOR/markercluster"
src="$work/leaflet/package/dist"
install -m 0644 "$src/leaflet.js" "$src/leaflet.css" "$VENDOR/leaflet/"
install -m 0644 "$src/images/"*.png "$VENDOR/leaflet/images/"
install -m 0644 "$work/leaflet/package/LICENSE" "$VENDOR/leaflet/LICENSE"
src="$work/markercluster/package/dist"
install -m 0644 "$src/leaflet.markercluster.js" "$src/MarkerCluster.css" "$src/MarkerCluster.Default.css" \
    "$VENDOR/markercluster/"
install -m 0644 "$work/markercluster/package/MIT-LICENCE.txt" "$VENDOR/markercluster/LICENSE"
printf 'leaflet %s\nleaflet.markercluster %s\n' "$LEAFLET_VERSION" "$MARKERCLUSTER_VERSION" \
    >"$VENDOR/VERSIONS"
echo "vendor_web: copied leaflet $LEAFLET_VERSION and leaflet.markercluster $MARKERCLUSTER_VERSION into $VENDOR"
