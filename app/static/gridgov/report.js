// The incident report form on a phone: the location when the user allows it, a photo made small
// enough to send, and what was typed kept (sessionStorage) until the report is made.
(function () {
  var KEPT = "gridgov-report-fields";
  var LONGEST_SIDE = 1600;
  var QUALITIES = [0.85, 0.7, 0.55];
  var MARGIN = 64 * 1024;  // the form's text fields and the multipart framing
  var form = document.querySelector("form[data-gridgov-report]");

  if (!form) {  // an incident's page: reached from the report form, the report was made
    var script = document.currentScript, from = document.referrer;
    if (script && from && new URL(from).pathname === script.getAttribute("data-report-url")) {
      sessionStorage.removeItem(KEPT);
    }
    return;
  }

  locate(form.querySelector("[data-report-location]"));

  var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
  var photo = form.querySelector("input[type=file][name=photo]");
  var status = document.getElementById("photo-status");
  var ready = null;  // the photo that was checked (and shrunk): sent as it is
  var pending = null;  // the chosen photo being made ready: a promise of "it may be sent"

  function typedFields() {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && field.name !== "csrf_token" && ["file", "hidden", "submit", "button"].indexOf(field.type) < 0;
    });
  }

  function keep() {
    var values = {};
    typedFields().forEach(function (field) {
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) { values[field.name] = field.value; }
      } else {
        values[field.name] = field.value;
      }
    });
    try { sessionStorage.setItem(KEPT, JSON.stringify(values)); } catch (e) { /* private mode: nothing kept */ }
  }

  function restore() {
    var values;
    try { values = JSON.parse(sessionStorage.getItem(KEPT) || "null"); } catch (e) { values = null; }
    if (!values) { return; }
    typedFields().forEach(function (field) {
      if (!(field.name in values)) { return; }
      var value = values[field.name];
      if (field.type === "radio" || field.type === "checkbox") {
        if (!form.querySelector("[name='" + field.name + "']:checked")) { field.checked = field.value === value; }
      } else if (field.tagName === "SELECT") {
        if (Array.prototype.some.call(field.options, function (o) { return o.value === value; })) { field.value = value; }
      } else if (!field.value) {
        field.value = value;
      }
    });
  }

  function say(text, problem) {
    status.textContent = text;
    status.classList.toggle("text-danger", !!problem);
  }

  function encode(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  // The photo as a JPEG of at most LONGEST_SIDE pixels, in the first quality that fits; null when
  // the browser cannot read it (the photo is then sent as it is, if it fits).
  function shrink(file) {
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file), image = new Image();
      image.addEventListener("error", function () { URL.revokeObjectURL(url); resolve(null); });
      image.addEventListener("load", function () {
        URL.revokeObjectURL(url);
        var scale = Math.min(1, LONGEST_SIDE / Math.max(image.naturalWidth, image.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(image.naturalWidth * scale);
        canvas.height = Math.round(image.naturalHeight * scale);
        canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
        var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
        (function attempt(i) {
          encode(canvas, QUALITIES[i]).then(function (blob) {
            if (!blob) { resolve(null); return; }
            if (blob.size + MARGIN > limit && i + 1 < QUALITIES.length) { attempt(i + 1); return; }
            resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
          });
        })(0);
      });
      image.src = url;
    });
  }

  // Resolves true when the form may be sent: no photo, or one (shrunk) below the limit.
  function preparePhoto() {
    var file = photo && photo.files[0];
    if (!file || file === ready) { return Promise.resolve(true); }
    say(form.getAttribute("data-shrinking"), false);
    return shrink(file).then(function (small) {
      if (small && small.size < file.size) {
        var chosen = new DataTransfer();
        chosen.items.add(small);
        photo.files = chosen.files;
        file = photo.files[0];
      }
      if (file.size + MARGIN > limit) {
        say(form.getAttribute("data-too-large"), true);
        return false;
      }
      say("", false);
      ready = file;
      return true;
    });
  }

  function prepared() {
    if (!pending) { pending = preparePhoto(); }
    return pending;
  }

  // The location: the phone's, when the user allows it, shown as a pin on a small map over the grid's
  // outline; dragging the pin or tapping the map sets it by hand; without either, none is sent.
  function locate(box) {
    var latitude = document.getElementById("latitude"), longitude = document.getElementById("longitude");
    if (!box || !latitude || !longitude) { return; }
    var status = box.querySelector("[data-location-status]"), canvas = box.querySelector("[data-location-map]");
    var clear = box.querySelector("[data-location-clear]"), grid = document.getElementById("grid");
    var map = null, pin = null, outline = null;

    function tell(name, metres) {
      status.textContent = (box.getAttribute("data-" + name) || "").replace("{metres}", metres);
    }

    function place(lat, lng, how, metres) {
      latitude.value = lat.toFixed(6);
      longitude.value = lng.toFixed(6);
      clear.hidden = false;
      tell(how, metres);
      if (!map) { return; }
      if (pin) {
        pin.setLatLng([lat, lng]);
      } else {
        pin = L.marker([lat, lng], { draggable: true, autoPan: true, keyboard: true }).addTo(map);
        pin.on("dragend", function () {
          var at = pin.getLatLng();
          place(at.lat, at.lng, "moved");
        });
      }
      if (how !== "moved") { show(); }
    }

    // The grid's outline and the pin together, or whichever is known.
    function show() {
      var bounds = outline ? outline.getBounds() : null;
      if (pin) { bounds = bounds ? bounds.extend(pin.getLatLng()) : null; }
      if (bounds) { map.fitBounds(bounds, { padding: [12, 12], animate: false }); } else if (pin) { map.setView(pin.getLatLng(), 16, { animate: false }); }
    }

    function drawOutline() {
      var template = box.getAttribute("data-outline");
      if (!map || !template || !grid || !grid.value) { return; }
      fetch(template.replace("{id}", grid.value).replace("%7Bid%7D", grid.value), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { geometry: null }; })
        .then(function (data) {
          if (outline) { map.removeLayer(outline); outline = null; }
          if (!data.geometry) { return; }
          outline = L.geoJSON(data.geometry, { style: { color: "#2c3e50", weight: 2, fillOpacity: 0.08 }, interactive: false })
            .addTo(map);
          show();
        })
        .catch(function () { /* the outline is a help, not a need */ });
    }

    if (typeof L !== "undefined") {
      canvas.hidden = false;
      map = L.map(canvas, { zoomSnap: 0.5, maxZoom: 19 }).setView([35.74, 114.29], 12);
      var tiles = box.getAttribute("data-tiles");
      if (tiles) { L.tileLayer(tiles, { attribution: box.getAttribute("data-attribution") || "", maxZoom: 19 }).addTo(map); }
      map.on("click", function (event) { place(event.latlng.lat, event.latlng.lng, "moved"); });
      drawOutline();
      if (grid) {
        if (window.jQuery) { window.jQuery(grid).on("change", drawOutline); } else { grid.addEventListener("change", drawOutline); }
      }
    }
    clear.addEventListener("click", function () {
      latitude.value = "";
      longitude.value = "";
      if (pin) { map.removeLayer(pin); pin = null; }
      clear.hidden = true;
      tell("refused");
    });
    var kept = [parseFloat(latitude.value), parseFloat(longitude.value)];
    if (!isNaN(kept[0]) && !isNaN(kept[1])) {  // a refused form keeps the place that was given
      place(kept[0], kept[1], "moved");
    } else if (navigator.geolocation) {
      tell("finding");
      navigator.geolocation.getCurrentPosition(function (position) {
        if (latitude.value) { return; }  // placed by hand meanwhile
        place(position.coords.latitude, position.coords.longitude, "captured", Math.round(position.coords.accuracy || 0));
      }, function () { if (!latitude.value) { tell("refused"); } }, { timeout: 8000, maximumAge: 600000 });
    } else {
      tell("unavailable");
    }
  }

  restore();
  if (photo) {
    photo.addEventListener("change", function () { ready = null; pending = null; say("", false); prepared(); });
  }
  form.addEventListener("submit", function (event) {
    keep();
    if (!photo || !photo.files[0] || photo.files[0] === ready) { return; }
    event.preventDefault();
    prepared().then(function (fits) { if (fits) { form.submit(); } });
  });
})();
