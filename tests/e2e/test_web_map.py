"""The web map in a real browser: Debian's chromium, driven by Playwright, on a `c4hub serve`
node over a fresh database holding Seoul's districts and Gangnam's 1,763 camera sites.

Every test records the page's requests and fails if one leaves 127.0.0.1; screenshots go to
tests/artifacts/ (their paths are printed).
"""

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.web_node import (
    SHOP_CAMERAS,
    MapNode,
    Visit,
    add_shop,
    add_sightings,
    chromium,
    load_gangnam,
    node_over,
    raise_alert,
    screenshot,
    visit,
)

pytestmark = pytest.mark.slow

GANGNAM_SITES = 1763
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def node() -> Iterator[MapNode]:
    with node_over(load_gangnam) as served:
        add_shop(served)
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def layer_state(v: Visit, name: str) -> str:
    return str(v.js(f"document.querySelector('.layer[data-layer={name}]').dataset.state"))


def wait_layer(v: Visit, name: str, states: str = "ready") -> str:
    """Waits until the layer's row says one of `states` (space-separated); returns the state."""
    selector = ", ".join(f".layer[data-layer={name}][data-state={s}]" for s in states.split())
    v.page.wait_for_selector(selector, state="attached", timeout=TIMEOUT_MS)
    return layer_state(v, name)


def wait_cameras(v: Visit) -> int:
    v.page.wait_for_selector("body[data-cameras]", state="attached", timeout=TIMEOUT_MS)
    return int(v.js("document.body.dataset.cameras"))


def note(v: Visit, name: str) -> str:
    return v.page.locator(f"#note-{name}").inner_text()


def on_map(v: Visit, name: str) -> bool:
    return bool(v.js(f"!!window.c4hubMap.layers.{name} && window.c4hubMap.map.hasLayer("
                     f"window.c4hubMap.layers.{name})"))  # fmt: skip


def assert_stayed_local(v: Visit) -> None:
    assert v.requests, "the page made no request at all"
    assert v.foreign_requests() == []
    # "Failed to load resource" is the browser reporting an optional API's 404 (the layer's
    # note says it); anything else, such as a Content-Security-Policy refusal, is a fault.
    assert [e for e in v.errors if not e.startswith("Failed to load resource")] == []


def click_camera(v: Visit, camera_id: str) -> None:
    """Zooms to the camera until it stands alone, then clicks its marker on the canvas."""
    v.js(
        f"""(() => {{
          const s = window.c4hubMap, m = s.cameraMarkers.get('{camera_id}');
          s.map.setView(m.getLatLng(), 19, {{animate: false}});
        }})()"""
    )
    v.wait_true(
        f"""(() => {{
          const s = window.c4hubMap, m = s.cameraMarkers.get('{camera_id}');
          // Unclustered (on the map itself) and markercluster's zoom animation over: during
          // it the marker stands at its old cluster's position.
          return !!m._map && !m._backupLatlng && s.layers.cameras._inZoomAnimation === 0;
        }})()"""
    )
    v.page.wait_for_timeout(100)  # the canvas redraws on the next animation frame
    x, y = v.js(
        f"""(() => {{
          const s = window.c4hubMap, m = s.cameraMarkers.get('{camera_id}');
          const p = s.map.latLngToContainerPoint(m.getLatLng());
          const box = document.getElementById('map').getBoundingClientRect();
          return [box.left + p.x, box.top + p.y];
        }})()"""
    )
    v.page.mouse.click(x, y)


def test_sign_in_form_loads_the_gangnam_cameras_offline(node: MapNode, browser: Browser) -> None:
    with visit(browser, node.base_url) as v:
        v.page.fill("#token", "c4h_not-a-token")
        v.page.click("#signin button")
        v.page.wait_for_selector("#signin-error:text('unknown or revoked')")
        assert v.js("sessionStorage.getItem('c4hub.token')") is None

        v.page.fill("#token", node.tokens["admin"])
        v.page.click("#signin button")
        # Every Gangnam site and the shop's three cameras, clustered.
        assert wait_cameras(v) == GANGNAM_SITES + len(SHOP_CAMERAS)
        assert v.page.locator("#camera-count").inner_text() == "(1,766)"
        assert v.js("sessionStorage.getItem('c4hub.token')") == node.tokens["admin"]
        assert v.page.locator(".marker-cluster").count() > 0
        assert wait_layer(v, "jurisdictions") == "ready"
        assert v.page.locator("#gaps-org option", has_text="Gangnam-gu").count() == 1
        assert v.page.locator("#alerts").is_visible()  # an admin sees the operators' panels
        screenshot(v.page, "web_map_admin")
        assert_stayed_local(v)


def test_layers_toggle(node: MapNode, browser: Browser) -> None:
    with visit(browser, node.base_url, node.tokens["planner"]) as v:
        wait_cameras(v)
        wait_layer(v, "jurisdictions")
        clusters = v.page.locator(".marker-cluster")
        assert on_map(v, "cameras") and clusters.count() > 0
        v.page.uncheck("#layer-cameras")
        assert not on_map(v, "cameras") and clusters.count() == 0
        v.page.check("#layer-cameras")
        assert on_map(v, "cameras") and clusters.count() > 0

        assert on_map(v, "jurisdictions")
        v.page.uncheck("#layer-jurisdictions")
        assert not on_map(v, "jurisdictions")
        assert layer_state(v, "jurisdictions") == "off"
        v.page.check("#layer-jurisdictions")
        assert on_map(v, "jurisdictions")

        # Fields of view load for the view once zoomed in: the shop's three sectors.
        v.page.check("#layer-fov")
        assert wait_layer(v, "fov", "ready") == "ready"
        assert "Zoom in" in note(v, "fov")
        door = SHOP_CAMERAS[0]
        v.js(f"void window.c4hubMap.map.setView([{door.lat}, {door.lon}], 18, {{animate: false}})")
        v.wait_true(
            "window.c4hubMap.layers.fov && window.c4hubMap.layers.fov.getLayers().length === 3"
        )
        assert on_map(v, "fov")
        screenshot(v.page, "web_map_fov")
        v.page.uncheck("#layer-fov")
        assert not on_map(v, "fov")
        # A planner does not get the operators' panels.
        assert not v.page.locator("#alerts").is_visible()
        assert not v.page.locator("#route").is_visible()
        assert_stayed_local(v)


def test_click_opens_details_and_health(node: MapNode, browser: Browser) -> None:
    camera_id = node.business_cameras[0]
    with visit(browser, node.base_url, node.tokens["operator"]) as v:
        wait_cameras(v)
        click_camera(v, camera_id)
        v.page.wait_for_selector("#details[data-state=ready]", timeout=TIMEOUT_MS)
        assert v.js("document.getElementById('details').dataset.cameraId") == camera_id
        fields = v.page.locator("#details-fields").inner_text()
        assert "Shop door" in fields and "gangnam-shop (private_business)" in fields
        assert "private_premises" in fields and "90°" in fields and "25 m" in fields
        health = v.page.locator("#details-health").inner_text()
        assert "online" in health and "never" in health  # registered online, never checked
        assert note(v, "details") == ""
        screenshot(v.page, "web_map_details")
        assert_stayed_local(v)


def _has_route(node: MapNode, path: str) -> bool:
    """Whether the node serves `path` (other helpers are adding the planning APIs)."""
    paths = httpx.get(node.base_url + "/openapi.json", timeout=30).json()["paths"]
    return path in paths


def test_gap_layer_renders_or_says_why(node: MapNode, browser: Browser) -> None:
    with visit(browser, node.base_url, node.tokens["planner"]) as v:
        wait_cameras(v)
        wait_layer(v, "jurisdictions")
        v.page.select_option("#gaps-org", label="Gangnam-gu")
        v.page.check("#layer-gaps")
        state = wait_layer(v, "gaps", "ready failed")
        if _has_route(node, "/api/v1/coverage/gaps"):
            assert state == "ready", note(v, "gaps")
            assert "gap polygons" in note(v, "gaps")
            assert v.js("window.c4hubMap.layers.gaps.getLayers().length") > 0
            assert on_map(v, "gaps")
        else:
            # Fails soft: the rest of the page keeps working.
            assert (state, note(v, "gaps")) == ("failed", "Not available on this node yet.")
            assert on_map(v, "cameras")
        screenshot(v.page, "web_map_gaps")
        assert_stayed_local(v)


def make_plan(node: MapNode) -> str:
    """A plan of two new cameras over three candidate sites near the shop; returns its id."""
    lon, lat = SHOP_CAMERAS[0].lon, SHOP_CAMERAS[0].lat
    d = 0.002
    square = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    sites = [[lon - d / 2, lat], [lon + d / 2, lat], [lon, lat + d / 2]]
    body = {
        "area": {"type": "Polygon", "coordinates": [[*square, square[0]]]},
        "k": 2,
        "candidates": "sites",
        "sites": [{"type": "Point", "coordinates": site} for site in sites],
        "objective": "area",
    }
    headers = {"Authorization": f"Bearer {node.tokens['planner']}"}
    made = httpx.post(f"{node.base_url}/api/v1/planning/plans", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_planning_layers_fail_soft(node: MapNode, browser: Browser) -> None:
    """Demand points and a plan: drawn when the node has them; an unknown plan is a note."""
    with visit(browser, node.base_url, node.tokens["planner"]) as v:
        wait_cameras(v)
        v.page.check("#layer-demand")
        state = wait_layer(v, "demand", "ready failed")
        if _has_route(node, "/api/v1/demand"):
            assert state == "ready" and note(v, "demand") == "0 points, 0 uncovered."
        else:
            assert note(v, "demand") == "Not available on this node yet."
        v.page.fill("#plan-id", "00000000-0000-4000-8000-000000000000")
        v.page.press("#plan-id", "Enter")
        assert wait_layer(v, "proposals", "failed") == "failed"
        unknown = note(v, "proposals")
        assert unknown != "" and "HTTP 5" not in unknown
        assert on_map(v, "cameras")
        if _has_route(node, "/api/v1/planning/plans"):
            plan_id = make_plan(node)
            v.page.fill("#plan-id", plan_id)
            v.page.press("#plan-id", "Enter")
            assert wait_layer(v, "proposals", "ready failed") == "ready", note(v, "proposals")
            assert note(v, "proposals") == "2 proposals."
            assert v.js("window.c4hubMap.layers.proposals.getLayers().length") >= 2
            v.js(f"void window.c4hubMap.map.setView([{SHOP_CAMERAS[0].lat}, "
                 f"{SHOP_CAMERAS[0].lon}], 17, {{animate: false}})")  # fmt: skip
            screenshot(v.page, "web_map_plan")
        assert_stayed_local(v)


def test_business_token_sees_only_its_cameras(node: MapNode, browser: Browser) -> None:
    with visit(browser, node.base_url, node.tokens["business"]) as v:
        assert wait_cameras(v) == len(SHOP_CAMERAS)
        shown = v.js("[...window.c4hubMap.cameraMarkers.keys()]")
        assert sorted(shown) == sorted(node.business_cameras)
        owners = v.js("[...window.c4hubMap.cameraMarkers.values()].map(m => m.camera.owner)")
        assert set(owners) == {"gangnam-shop"}
        # The same cameras as the registry and OGC APIs give this token.
        headers = {"Authorization": f"Bearer {node.tokens['business']}"}
        registry = httpx.get(f"{node.base_url}/api/v1/cameras", headers=headers, timeout=30)
        assert sorted(c["id"] for c in registry.json()["items"]) == sorted(shown)
        ogc = httpx.get(f"{node.base_url}/ogc/collections/cameras/items", headers=headers)
        assert sorted(f["id"] for f in ogc.json()["features"]) == sorted(shown)
        click_camera(v, node.business_cameras[1])
        v.page.wait_for_selector("#details[data-state=ready]", timeout=TIMEOUT_MS)
        assert "Shop car park" in v.page.locator("#details-fields").inner_text()
        # Its own organization has no jurisdiction: the layer says so instead of failing.
        assert wait_layer(v, "jurisdictions") == "ready"
        assert note(v, "jurisdictions") == "No organization has a jurisdiction yet."
        assert not v.page.locator("#alerts").is_visible()
        assert v.page.locator("#route").is_visible()  # businesses may trace plates
        screenshot(v.page, "web_map_business")
        assert_stayed_local(v)


def test_operator_traces_a_plate_and_watches_alerts(node: MapNode, browser: Browser) -> None:
    with visit(browser, node.base_url, node.tokens["operator"]) as v:
        wait_cameras(v)
        assert v.page.locator("#alerts").is_visible()
        v.page.fill("#plate", "99ZZ9999")
        v.page.click("#route-form button")
        v.page.wait_for_selector("#note-route:text('sightings')", timeout=TIMEOUT_MS)
        assert note(v, "route") == "No sightings: no route to draw."
        add_sightings(node.database_url, "12GA3456", node.business_cameras)
        v.page.fill("#plate", "12ga3456")  # the page upper-cases it
        v.page.click("#route-form button")
        v.page.wait_for_selector("#note-route:text('3 sightings.')", timeout=TIMEOUT_MS)
        # a dot per sighting and the line through them
        assert v.js("window.c4hubMap.layers.route.getLayers().length") == 4
        assert on_map(v, "route")
        v.page.wait_for_timeout(500)  # the map's zoom to the route
        screenshot(v.page, "web_map_route")
        # EventSource cannot send headers: the stream alone takes the token in its query.
        v.wait_true("document.getElementById('note-alerts').textContent !== ''")
        stream = [u for u in v.requests if "/api/v1/alerts/stream?" in u]
        assert stream and stream[0].endswith("access_token=" + node.tokens["operator"])
        if not _has_route(node, "/api/v1/alerts/stream"):
            assert note(v, "alerts") == "Live alerts are not available on this node."
        else:
            v.wait_true("document.getElementById('note-alerts').textContent === 'Live.'")
            camera_id = node.business_cameras[2]
            raise_alert(node.database_url, camera_id, "34NA5678")
            alert = v.page.locator("#alert-list li.new", has_text="34NA5678")
            alert.wait_for(timeout=TIMEOUT_MS)
            assert "wanted" in alert.inner_text() and "map test" in alert.inner_text()
            alert.click()  # goes to the camera and opens it
            v.page.wait_for_selector("#details[data-state=ready]", timeout=TIMEOUT_MS)
            assert v.js("document.getElementById('details').dataset.cameraId") == camera_id
            screenshot(v.page, "web_map_alert")
        assert_stayed_local(v)
