// The grid map (templates/gridgov/map_macros.html, grid_map): a grid's children coloured by the
// figure chosen in the select, the located incidents as clustered pins, a click on a child drills
// down. The data comes from /map/grid/<id> (app/views/maps.py); no tile is drawn unless the
// deployment names an intranet tile server (GRIDGOV_MAP_TILES).
(function () {
  if (typeof L === "undefined") { return; }
  var HEBI = [35.74, 114.29];
  // five steps light to dark; the completion rate reads the other way (low is bad)
  var STEPS = ["#fff5d6", "#fdd49e", "#fc8d59", "#e34a33", "#b30000"];
  var GOOD_STEPS = ["#b30000", "#e34a33", "#fc8d59", "#a6d96a", "#1a9641"];
  var PIN = { open: "#e67e22", overdue: "#c0392b", done: "#27ae60" };
  var DONE = ["resolved", "closed", "rejected"];

  function text(value) { return document.createTextNode(value == null ? "" : String(value)); }

  function element(tag, className, children) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? text(child) : child);
    });
    return node;
  }

  function fill(template, id) {
    return template.replace("{id}", id).replace("%7Bid%7D", id);
  }

  function GridMap(container) {
    this.container = container;
    this.labels = JSON.parse(container.getAttribute("data-labels") || "{}");
    this.source = container.getAttribute("data-source");
    this.top = container.getAttribute("data-top");
    this.drill = container.getAttribute("data-drill") || "";
    this.navigate = container.getAttribute("data-navigate") === "1";
    this.select = container.querySelector("[data-map-figure]");
    this.title = container.querySelector("[data-map-title]");
    this.upButton = container.querySelector("[data-map-up]");
    this.openLink = container.querySelector("[data-map-open]");
    this.note = container.querySelector("[data-map-note]");
    this.legend = container.querySelector("[data-map-legend]");
    this.map = L.map(container.querySelector("[data-map-canvas]"), { zoomSnap: 0.25, maxZoom: 19 });
    this.map.setView(HEBI, 11);
    var tiles = container.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { attribution: container.getAttribute("data-attribution") || "", maxZoom: 19 }).addTo(this.map);
    }
    this.outline = null;
    this.children = null;
    this.pins = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
    this.map.addLayer(this.pins);
    this.data = null;
    var self = this;
    this.select.addEventListener("change", function () { self.colour(); });
    this.upButton.addEventListener("click", function () {
      if (self.data && self.data.up) { self.load(self.data.up); }
    });
    this.load(container.getAttribute("data-grid") || null);
  }

  GridMap.prototype.say = function (message, problem) {
    this.note.textContent = message || "";
    this.note.classList.toggle("text-danger", !!problem);
  };

  GridMap.prototype.load = function (gridId) {
    var self = this;
    self.say(self.labels.loading, false);
    fetch(gridId ? fill(self.source, gridId) : self.top, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) { self.draw(data); })
      .catch(function () { self.say(self.labels.failed, true); });
  };

  GridMap.prototype.value = function (properties) {
    return properties[this.select.value];
  };

  GridMap.prototype.shown = function (value) {
    if (value == null) { return this.labels.none; }
    if (this.select.value === "completion_rate") { return (value * 100).toFixed(1) + "%"; }
    return String(value);
  };

  // Five equal steps from 0 to the largest value (0–100 % for the completion rate).
  GridMap.prototype.breaks = function () {
    if (this.select.value === "completion_rate") { return [0.2, 0.4, 0.6, 0.8]; }
    var self = this, most = 0;
    (this.data ? this.data.children.features : []).forEach(function (f) {
      most = Math.max(most, self.value(f.properties) || 0);
    });
    most = Math.max(most, 5);
    return [0.2, 0.4, 0.6, 0.8].map(function (b) { return Math.ceil(most * b); });
  };

  GridMap.prototype.colourOf = function (value, breaks) {
    var steps = this.select.value === "completion_rate" ? GOOD_STEPS : STEPS;
    if (value == null) { return "#dddddd"; }
    var i = 0;
    while (i < breaks.length && value >= breaks[i]) { i += 1; }
    return steps[i];
  };

  GridMap.prototype.colour = function () {
    if (!this.children) { return; }
    var self = this, breaks = this.breaks();
    this.children.setStyle(function (feature) {
      return { color: "#34495e", weight: 1.5, fillOpacity: 0.65, fillColor: self.colourOf(self.value(feature.properties), breaks) };
    });
    this.children.eachLayer(function (layer) {
      var p = layer.feature.properties;
      layer.setTooltipContent(self.tooltip(p));
    });
    this.drawLegend(breaks);
  };

  GridMap.prototype.tooltip = function (p) {
    var figure = this.select.options[this.select.selectedIndex].text;
    return element("div", "", [
      element("strong", "", [p.name]), " ", element("span", "text-muted", [p.level_label]),
      element("br"), figure + ": " + this.shown(this.value(p))
    ]);
  };

  GridMap.prototype.drawLegend = function (breaks) {
    var steps = this.select.value === "completion_rate" ? GOOD_STEPS : STEPS, self = this;
    var rate = this.select.value === "completion_rate";
    this.legend.textContent = "";
    steps.forEach(function (colour, i) {
      var low = i === 0 ? 0 : breaks[i - 1], high = breaks[i];
      var label = rate ? Math.round(low * 100) + "%" + (high != null ? "–" + Math.round(high * 100) + "%" : "+")
        : high == null ? low + "+" : high - 1 > low ? low + "–" + (high - 1) : String(low);
      var swatch = element("span", "gridgov-map-swatch");
      swatch.style.backgroundColor = colour;
      self.legend.appendChild(element("span", "gridgov-map-key", [swatch, label]));
    });
  };

  GridMap.prototype.drillDown = function (properties) {
    var event = new CustomEvent("gridgov:drill", { bubbles: true, detail: { id: properties.id, name: properties.name } });
    this.container.dispatchEvent(event);
    if (this.drill && this.navigate) {
      window.location.href = fill(this.drill, properties.id);
      return;
    }
    this.load(properties.id);
  };

  GridMap.prototype.draw = function (data) {
    var self = this;
    this.data = data;
    if (this.outline) { this.map.removeLayer(this.outline); }
    if (this.children) { this.map.removeLayer(this.children); }
    this.pins.clearLayers();
    var grid = data.grid;
    this.title.textContent = grid ? grid.properties.name + "（" + grid.properties.level_label + "）" : this.labels.everything;
    this.upButton.hidden = !data.up;
    if (this.drill && grid && String(grid.properties.id) !== this.container.getAttribute("data-grid")) {
      this.openLink.href = fill(this.drill, grid.properties.id);
      this.openLink.hidden = false;
    } else {
      this.openLink.hidden = true;
    }
    this.outline = grid && grid.geometry ? L.geoJSON(grid, {
      style: { color: "#2c3e50", weight: 3, fill: false, dashArray: "6 4" }, interactive: false
    }).addTo(this.map) : null;
    var drawn = data.children.features.filter(function (f) { return f.geometry; });
    this.children = L.geoJSON({ type: "FeatureCollection", features: drawn }, {
      onEachFeature: function (feature, layer) {
        layer.bindTooltip("", { sticky: true });
        layer.on("click", function () {
          if (feature.properties.has_children) { self.drillDown(feature.properties); }
          else if (self.drill) { window.location.href = fill(self.drill, feature.properties.id); }
        });
      }
    }).addTo(this.map);
    this.colour();
    data.pins.features.forEach(function (f) {
      var p = f.properties, c = f.geometry.coordinates;
      var colour = p.overdue ? PIN.overdue : DONE.indexOf(p.status) >= 0 ? PIN.done : PIN.open;
      var marker = L.circleMarker([c[1], c[0]], { radius: 7, color: "#1b2631", weight: 2, fillColor: colour, fillOpacity: 1 });
      var link = element("a", "", [p.title]);
      link.href = p.url;
      marker.bindPopup(element("div", "", [link, element("br"), p.status_label + (p.overdue ? " · " + self.labels.overdue : "")]));
      self.pins.addLayer(marker);
    });
    this.children.bringToBack();
    var bounds = this.outline ? this.outline.getBounds() : this.children.getBounds();
    if (!bounds.isValid() && this.pins.getLayers().length) { bounds = this.pins.getBounds(); }
    if (bounds.isValid()) { this.map.fitBounds(bounds, { padding: [12, 12] }); }
    var notes = [];
    if (data.capped) { notes.push(this.labels.capped.replace("{limit}", data.limit)); }
    if (drawn.length < data.children.features.length) {
      notes.push(this.labels.unmapped + data.children.features.filter(function (f) { return !f.geometry; })
        .map(function (f) { return f.properties.name; }).join("、"));
    }
    if (!data.children.features.length && !(grid && grid.geometry)) { notes.push(this.labels.empty); }
    this.say(notes.join(" "), false);
  };

  document.querySelectorAll("[data-grid-map]").forEach(function (container) {
    container.gridMap = new GridMap(container);
  });
})();
