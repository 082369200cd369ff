// Fill the incident's coordinates from the phone's location when the user allows it (optional).
(function () {
  if (!navigator.geolocation || !document.getElementById("latitude")) { return; }
  navigator.geolocation.getCurrentPosition(function (position) {
    document.getElementById("latitude").value = position.coords.latitude.toFixed(6);
    document.getElementById("longitude").value = position.coords.longitude.toFixed(6);
  }, function () {}, { timeout: 5000, maximumAge: 600000 });
})();
