// The c4hub map: signs in with an API token, then draws the node's layers with Leaflet.
// Every layer loads on its own and fails soft: an API this node lacks, or a role may not read,
// becomes a note in the layer panel, never a broken page. Text from the API is only ever set
// with textContent (never innerHTML): camera names come from imported files.
"use strict";

(() => {
  const TOKEN_KEY = "c4hub.token";
  const PAGE_SIZE = 10000; // the OGC API's largest page
  const FOV_MIN_ZOOM = 15; // fields of view are loaded for the view, from this zoom on
  const OWNER_COLOURS = {
    municipality: "#1f77b4",
    district: "#2ca02c",
    regional_centre: "#17becf",
    national_agency: "#9467bd",
    police: "#283593",
    operator: "#ff7f0e",
    private_business: "#e377c2",
  };
  const STATUS_COLOURS = {
    online: "#2e7d32",
    offline: "#c62828",
    degraded: "#f9a825",
    tampered: "#6a1b9a",
    unknown: "#9e9e9e",
    decommissioned: "#000000",
  };
  const OPERATORS = ["admin", "operator"];
  const ROUTE_COLOUR = "#4a148c";

  const $ = (id) => document.getElementById(id);

  // Shared with tests and bench/parts/map_render.py, which read the layers' states and timings.
  const state = {
    token: null,
    session: null,
    map: null,
    layers: {},
    cameraMarkers: new Map(),
    timings: {},
    alerts: null,
  };
  window.c4hubMap = state;

  class ApiError extends Error {
    constructor(status, message, missing) {
      super(message);
      this.status = status;
      this.missing = missing; // the node has no such endpoint
    }
  }

  async function api(path, options = {}) {
    // Plain JSON: the registry answers GeoJSON Features instead when geo+json is accepted.
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const response = await fetch(path, { ...options, headers });
    if (!response.ok) {
      let body = {};
      try {
        body = (await response.json()) || {};
      } catch (_) {
        // not JSON: the status line says enough
      }
      const detail = body.detail || body.title;
      const message = typeof detail === "string" ? detail : "HTTP " + response.status;
      // The node answers a path it has no route for with the generic "Not found" problem;
      // a missing record has a titled one ("Plan not found").
      const missing = response.status === 404 && body.title === "Not found";
      throw new ApiError(response.status, message, missing);
    }
    return response.json();
  }

  function failureText(error) {
    if (error instanceof ApiError) {
      if (error.missing) return "Not available on this node yet.";
      if (error.status === 403) return "Your role may not see this layer: " + error.message;
      return error.message + " (HTTP " + error.status + ")";
    }
    return "Could not load: " + (error && error.message ? error.message : String(error));
  }

  // --- layer panel ------------------------------------------------------------------------

  function setLayerState(name, value, note = "") {
    const row = document.querySelector(`.layer[data-layer="${name}"]`);
    if (row) row.dataset.state = value;
    const noteEl = $("note-" + name);
    if (noteEl) noteEl.textContent = note;
  }

  // Runs one layer's loader; whatever it throws becomes the layer's note.
  async function loadLayer(name, loader) {
    setLayerState(name, "loading", "Loading…");
    try {
      const note = await loader();
      setLayerState(name, "ready", note || "");
    } catch (error) {
      if (error && error.name === "AbortError") return;
      console.warn("layer " + name + ":", error);
      setLayerState(name, "failed", failureText(error));
    }
  }

  function replaceLayer(name, layer) {
    if (state.layers[name]) state.map.removeLayer(state.layers[name]);
    state.layers[name] = layer;
    if (layer && $("layer-" + name).checked) layer.addTo(state.map);
  }

  function toggle(name, onShow) {
    $("layer-" + name).addEventListener("change", (event) => {
      const layer = state.layers[name];
      if (!event.target.checked) {
        if (layer) state.map.removeLayer(layer);
        const row = document.querySelector(`.layer[data-layer="${name}"]`);
        if (row && row.dataset.state !== "failed") setLayerState(name, "off");
        return;
      }
      if (onShow) onShow();
      else if (layer) {
        layer.addTo(state.map);
        setLayerState(name, "ready");
      }
    });
  }

  function textElement(text, tag = "span") {
    const el = document.createElement(tag);
    el.textContent = text;
    return el;
  }

  function fields(dl, pairs) {
    dl.replaceChildren();
    for (const [label, value] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      dl.append(textElement(label, "dt"), textElement(String(value), "dd"));
    }
  }

  function legend() {
    const rows = (target, title, colours, style) => {
      target.replaceChildren(textElement(title, "h3"));
      for (const [key, colour] of Object.entries(colours)) {
        const row = textElement("", "div");
        row.className = "legend-row";
        const swatch = textElement("");
        swatch.className = "swatch";
        style(swatch.style, colour);
        row.append(swatch, document.createTextNode(key.replace("_", " ")));
        target.append(row);
      }
    };
    rows($("legend-owner"), "Fill: owner kind", OWNER_COLOURS, (s, c) => (s.background = c));
    rows($("legend-status"), "Ring: status", STATUS_COLOURS, (s, c) => (s.borderColor = c));
  }

  // --- cameras ----------------------------------------------------------------------------

  const itemsUrl = (collection, offset, extra = "") =>
    `/ogc/collections/${collection}/items?limit=${PAGE_SIZE}&offset=${offset}${extra}`;

  function cameraMarker([id, lon, lat, owner, ownerKind, status]) {
    const marker = L.circleMarker([lat, lon], {
      radius: 6,
      weight: 2,
      color: STATUS_COLOURS[status] || STATUS_COLOURS.unknown,
      fillColor: OWNER_COLOURS[ownerKind] || "#777777",
      fillOpacity: 0.9,
    });
    marker.camera = { id, owner, owner_kind: ownerKind, status };
    return marker;
  }

  function boundsOf(rows) {
    let [south, west, north, east] = [90, 180, -90, -180];
    for (const [, lon, lat] of rows) {
      if (lat < south) south = lat;
      if (lat > north) north = lat;
      if (lon < west) west = lon;
      if (lon > east) east = lon;
    }
    return L.latLngBounds([south, west], [north, east]);
  }

  // One compact list (GET /map/cameras): paging 50,000 full camera documents through the
  // registry or OGC API took several seconds; this takes a fraction of one.
  async function loadCameras() {
    const { cameras, shown, total } = await (state.camerasRequest || api("/map/cameras"));
    state.camerasRequest = null;
    state.timings.camerasFetched = performance.now();
    $("camera-count").textContent =
      "(" + (shown < total ? `${shown.toLocaleString()} of ` : "") + total.toLocaleString() + ")";
    if (cameras.length) state.map.fitBounds(boundsOf(cameras), { maxZoom: 16 });
    const markers = cameras.map(cameraMarker);
    state.cameraMarkers = new Map(markers.map((m) => [m.camera.id, m]));
    const group = L.markerClusterGroup({
      chunkedLoading: true,
      showCoverageOnHover: false,
      disableClusteringAtZoom: 18,
    });
    group.on("click", (event) => showCamera(event.layer.camera));
    const added = new Promise((resolve) => {
      group.options.chunkProgress = (done, all) => {
        if (done >= all) resolve();
      };
    });
    replaceLayer("cameras", group);
    group.addLayers(markers);
    if (markers.length) await added;
    state.timings.camerasReady = performance.now();
    document.body.dataset.cameras = String(markers.length);
    if (shown < total) return `The first ${shown.toLocaleString()} are shown (web_max_cameras).`;
    return cameras.length ? "" : "No cameras visible to this token.";
  }

  // --- camera details ---------------------------------------------------------------------

  function select(camera) {
    const marker = state.cameraMarkers.get(camera.id);
    if (state.layers.selected) state.map.removeLayer(state.layers.selected);
    state.layers.selected = marker
      ? L.circleMarker(marker.getLatLng(), {
          radius: 13, color: "#000000", weight: 3, fill: false, interactive: false,
        })
          .addTo(state.map)
      : null;
  }

  async function showCamera(camera) {
    select(camera);
    $("details").hidden = false;
    $("details").dataset.cameraId = camera.id;
    $("note-details").textContent = "Loading…";
    fields($("details-fields"), [["Id", camera.id], ["Owner", camera.owner]]);
    $("details-health").replaceChildren();
    const [one, health] = await Promise.allSettled([
      api(`/api/v1/cameras/${camera.id}`),
      api(`/api/v1/cameras/${camera.id}/health?history=5`),
    ]);
    if ($("details").dataset.cameraId !== camera.id) return; // another click came first
    const notes = [];
    if (one.status === "fulfilled") {
      const c = one.value;
      fields($("details-fields"), [
        ["Name", c.name],
        ["Id", c.id],
        ["External id", c.external_id],
        ["Owner", `${camera.owner} (${camera.owner_kind})`],
        ["Purpose", c.purpose],
        ["Status", c.status],
        ["Position", c.location.coordinates.map((v) => v.toFixed(6)).join(", ")],
        ["Heading", c.heading_deg !== null ? c.heading_deg + "°" : "unknown (taken as 360°)"],
        ["Field of view", c.fov_deg !== null ? c.fov_deg + "°" : null],
        ["Range", c.range_m !== null ? c.range_m + " m" : null],
        ["Units", c.units],
        ["Installed", c.install_year],
        ["Make", [c.vendor, c.model].filter(Boolean).join(" ")],
        ["AI capable", c.ai_capable ? "yes" : "no"],
        ["PTZ", c.ptz ? "yes" : "no"],
        ["Retention", c.retention_days !== null ? c.retention_days + " days" : null],
        ["Tags", c.tags.join(", ")],
        ["Last seen", c.last_seen_at],
      ]);
    } else {
      notes.push("Details: " + failureText(one.reason));
    }
    if (health.status === "fulfilled") {
      const h = health.value;
      const last = h.last_check;
      fields($("details-health"), [
        ["Status", h.status],
        ["Since", h.since],
        ["Checks", h.enabled ? `every ${h.interval_s} s` : "off"],
        ["Last check", last ? `${last.checked_at}: ${last.observed}` : "never"],
        ["Message", last ? last.message : null],
        ["Changes", h.history.map((c) => `${c.occurred_at}: ${c.status}`).join("; ")],
      ]);
    } else {
      notes.push("Health: " + failureText(health.reason));
    }
    $("note-details").textContent = notes.join(" ");
    $("details").dataset.state = "ready";
  }

  // --- jurisdictions, fields of view ------------------------------------------------------

  async function loadJurisdictions() {
    const page = await api(itemsUrl("organizations", 0));
    const withArea = page.features.filter((f) => f.geometry);
    withArea.sort((a, b) => a.properties.name.localeCompare(b.properties.name));
    const select = $("gaps-org");
    select.replaceChildren();
    for (const f of withArea) {
      const option = textElement(f.properties.name, "option");
      option.value = f.properties.slug;
      select.append(option);
    }
    const layer = L.geoJSON(withArea, {
      style: { color: "#37474f", weight: 2, fill: false, dashArray: "6 4" },
      onEachFeature: (f, l) => l.bindTooltip(textElement(f.properties.name), { sticky: true }),
    });
    replaceLayer("jurisdictions", layer);
    return withArea.length ? "" : "No organization has a jurisdiction yet.";
  }

  let fovRequest = null;

  async function loadFov() {
    if (fovRequest) fovRequest.abort();
    if (state.map.getZoom() < FOV_MIN_ZOOM) {
      replaceLayer("fov", null);
      return `Zoom in (to level ${FOV_MIN_ZOOM}) to see fields of view.`;
    }
    fovRequest = new AbortController();
    const b = state.map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6));
    const page = await api(itemsUrl("camera-fov", 0, "&bbox=" + bbox.join(",")), {
      signal: fovRequest.signal,
    });
    replaceLayer(
      "fov",
      L.geoJSON(page.features, {
        style: (f) => ({
          color: OWNER_COLOURS[f.properties.owner_kind] || "#777777",
          weight: 1,
          fillOpacity: 0.15,
        }),
        interactive: false,
      }),
    );
    return page.features.length ? "" : "No known fields of view in this view.";
  }

  // --- planning layers (coverage gaps, demand, relocation proposals) ----------------------

  async function loadGaps() {
    const slug = $("gaps-org").value;
    if (!slug) throw new Error("no organization with a jurisdiction to compute gaps for");
    const gaps = await api(`/api/v1/coverage/gaps?organization=${encodeURIComponent(slug)}`);
    replaceLayer(
      "gaps",
      L.geoJSON(gaps, { style: { color: "#d32f2f", weight: 1, fillOpacity: 0.35 } }),
    );
    const area = gaps.features.reduce((sum, f) => sum + (f.properties.area_m2 || 0), 0);
    return `${gaps.features.length} gap polygons, ${(area / 1e6).toFixed(2)} km² uncovered.`;
  }

  async function loadDemand() {
    const points = await api("/api/v1/demand");
    const layer = L.geoJSON(points, {
      pointToLayer: (f, latlng) =>
        L.circleMarker(latlng, {
          radius: 4 + Math.min(8, Math.sqrt(f.properties.weight || 1)),
          color: f.properties.covered ? "#1b5e20" : "#b71c1c",
          fillOpacity: 0.6,
          weight: 1,
        }),
      style: (f) => ({ color: f.properties.covered ? "#1b5e20" : "#b71c1c", weight: 1 }),
      onEachFeature: (f, l) => {
        const p = f.properties;
        const text = `${p.name || p.kind} (weight ${p.weight}): ` +
          (p.covered ? `covered by ${p.cameras} cameras of ${p.owners} owners` : "uncovered");
        l.bindTooltip(textElement(text));
      },
    });
    replaceLayer("demand", layer);
    const uncovered = points.features.filter((f) => !f.properties.covered).length;
    return `${points.features.length} points, ${uncovered} uncovered.`;
  }

  async function loadProposals() {
    const id = $("plan-id").value.trim();
    if (!id) return "Enter a plan id (from POST /api/v1/planning/plans).";
    const plan = await api(`/api/v1/planning/plans/${encodeURIComponent(id)}`);
    const layer = L.featureGroup();
    for (const f of plan.features) {
      if (!f.geometry) continue;
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties;
      const site = L.circleMarker([lat, lon], { radius: 8, color: "#0d47a1", weight: 3 });
      const text = `#${p.rank} ${p.action}: +${Math.round(p.gain_area_m2 || 0)} m²` +
        `, demand +${p.gain_demand ?? 0}, saves ${p.saved_cost ?? 0}`;
      site.bindTooltip(textElement(text), { permanent: false });
      layer.addLayer(site);
      if (p.range_m) {
        // The view it would add: its range around the site (direction aside).
        const reach = { radius: p.range_m, color: "#0d47a1", weight: 1, dashArray: "3 3" };
        layer.addLayer(L.circle([lat, lon], { ...reach, fillOpacity: 0.05, interactive: false }));
      }
      const moved = p.camera_id && state.cameraMarkers.get(p.camera_id);
      if (moved) {
        layer.addLayer(L.polyline([moved.getLatLng(), [lat, lon]], { dashArray: "4 4" }));
      }
    }
    replaceLayer("proposals", layer);
    return `${plan.features.length} proposals.`;
  }

  // --- operators: plate route and live alerts ---------------------------------------------

  async function traceRoute(plate) {
    const route = await api(`/api/v1/plates/${encodeURIComponent(plate)}/route`);
    const layer = L.featureGroup();
    for (const s of route.properties.sightings) {
      const [lon, lat] = s.position; // [longitude, latitude]
      const dot = L.circleMarker([lat, lon], { radius: 5, color: ROUTE_COLOUR, weight: 2 });
      dot.bindTooltip(textElement(`${s.plate} at ${s.read_at}`));
      layer.addLayer(dot);
    }
    if (route.geometry) {
      const line = route.geometry.coordinates.map(([lon, lat]) => [lat, lon]);
      layer.addLayer(L.polyline(line, { color: ROUTE_COLOUR, weight: 3, opacity: 0.8 }));
    }
    if (state.layers.route) state.map.removeLayer(state.layers.route);
    state.layers.route = layer.addTo(state.map);
    if (layer.getLayers().length) state.map.fitBounds(layer.getBounds(), { maxZoom: 16 });
    const n = route.properties.sightings.length;
    if (n < 2) return `${n ? "One sighting" : "No sightings"}: no route to draw.`;
    return `${n} sightings.`;
  }

  function showAlert(alert, fresh) {
    const item = textElement(
      `${alert.read_at || alert.created_at} ${alert.plate} (${alert.category}): ${alert.reason}`,
      "li",
    );
    if (fresh) item.className = "new";
    const marker = state.cameraMarkers.get(alert.camera_id);
    if (marker) {
      item.addEventListener("click", () => {
        state.map.setView(marker.getLatLng(), 18);
        showCamera(marker.camera);
      });
    }
    const list = $("alert-list");
    list.prepend(item);
    while (list.children.length > 50) list.lastChild.remove();
  }

  async function startAlerts() {
    const note = $("note-alerts");
    try {
      const recent = await api("/api/v1/alerts?limit=10");
      recent.items.reverse().forEach((a) => showAlert(a, false));
    } catch (error) {
      note.textContent = "Recent alerts: " + failureText(error);
    }
    // EventSource cannot send headers: the stream alone takes the token as a query parameter.
    const url = "/api/v1/alerts/stream?access_token=" + encodeURIComponent(state.token);
    const source = new EventSource(url);
    state.alerts = source;
    const onAlert = (event) => {
      try {
        showAlert(JSON.parse(event.data), true);
      } catch (error) {
        console.warn("alert event:", error);
      }
    };
    source.addEventListener("alert", onAlert);
    source.onmessage = onAlert;
    source.onopen = () => (note.textContent = "Live.");
    source.onerror = () => {
      note.textContent = source.readyState === EventSource.CLOSED
        ? "Live alerts are not available on this node."
        : "Live alerts: reconnecting…";
    };
  }

  // --- sign-in and start ------------------------------------------------------------------

  function wireControls() {
    toggle("cameras");
    toggle("jurisdictions");
    toggle("fov", () => loadLayer("fov", loadFov));
    toggle("gaps", () => loadLayer("gaps", loadGaps));
    toggle("demand", () => loadLayer("demand", loadDemand));
    toggle("proposals", () => loadLayer("proposals", loadProposals));
    $("gaps-org").addEventListener("change", () => {
      if ($("layer-gaps").checked) loadLayer("gaps", loadGaps);
    });
    $("plan-id").addEventListener("change", () => {
      $("layer-proposals").checked = true;
      loadLayer("proposals", loadProposals);
    });
    state.map.on("moveend", () => {
      if ($("layer-fov").checked) loadLayer("fov", loadFov);
    });
    $("route-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const plate = $("plate").value.trim().toUpperCase();
      $("note-route").textContent = "Tracing…";
      try {
        $("note-route").textContent = await traceRoute(plate);
      } catch (error) {
        $("note-route").textContent = failureText(error);
      }
    });
    $("details-close").addEventListener("click", () => {
      $("details").hidden = true;
      if (state.layers.selected) state.map.removeLayer(state.layers.selected);
    });
  }

  function startMap(config) {
    // markercluster needs a maximum zoom even when there are no tiles to take it from.
    const map = L.map("map", { preferCanvas: true, maxZoom: 19 }).setView([20, 0], 2);
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { attribution: config.tile_attribution, maxZoom: 19 }).addTo(map);
    }
    state.map = map;
    legend();
    wireControls();
    loadLayer("cameras", loadCameras);
    loadLayer("jurisdictions", loadJurisdictions);
    if (OPERATORS.includes(state.session.role)) startAlerts();
  }

  async function signIn(token) {
    state.token = token;
    // The settings and the cameras are asked for with the session check, not after it: the
    // map is drawn a round trip sooner. With a bad token the cameras answer 401, unused.
    const settings = api("/map/config.json").catch(() => ({ tile_url: null }));
    state.camerasRequest = api("/map/cameras");
    state.camerasRequest.catch(() => {});
    try {
      state.session = await api("/map/session");
    } catch (error) {
      state.token = null;
      state.camerasRequest = null;
      sessionStorage.removeItem(TOKEN_KEY);
      $("signin-error").textContent = error.status === 401
        ? "That token is unknown or revoked."
        : "Sign-in failed: " + failureText(error);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    document.body.dataset.state = "signed-in";
    document.body.dataset.role = state.session.role;
    if (OPERATORS.includes(state.session.role)) document.body.dataset.operator = "";
    $("who").textContent = state.session.role;
    startMap(await settings);
  }

  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    signIn($("token").value.trim());
  });
  $("signout").addEventListener("click", () => {
    if (state.alerts) state.alerts.close();
    sessionStorage.removeItem(TOKEN_KEY);
    window.location.reload();
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
})();
