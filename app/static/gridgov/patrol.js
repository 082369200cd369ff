// 巡查 on a phone: the clock-in's location, and a patrol's track — the location every few seconds
// while the page is open, sent in batches; points the signal could not carry are kept in
// localStorage and sent when it returns (the server stores each point once, however often sent).
(function () {
  var SEND_EVERY_MS = 5000;
  // at most this many points a request (the server takes 2000 a batch: a phone long without signal
  // holds more, sent a batch after another)
  var BATCH = 1000;

  var clockIn = document.querySelector("form[data-gridgov-clock-in]");
  if (clockIn) {
    clockIn.addEventListener("submit", function (event) {
      if (clockIn.elements.latitude.value || !navigator.geolocation) { return; }  // no location: the server says so
      event.preventDefault();
      var status = document.getElementById("clock-in-status");
      status.textContent = "…";
      navigator.geolocation.getCurrentPosition(function (position) {
        clockIn.elements.latitude.value = position.coords.latitude;
        clockIn.elements.longitude.value = position.coords.longitude;
        clockIn.elements.accuracy.value = Math.round(position.coords.accuracy || 0);
        clockIn.submit();
      }, function () {
        clockIn.submit();
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }

  var box = document.getElementById("patrol");
  var pendingKey = "gridgov-patrol-points";
  if (!box) {
    sendLeftOver();
    return;
  }
  var patrolId = box.getAttribute("data-patrol");
  var started = parseInt(box.getAttribute("data-started"), 10);
  var pointsUrl = box.getAttribute("data-points-url");
  var csrf = box.getAttribute("data-csrf");
  var status = document.getElementById("patrol-status");
  var flag = document.getElementById("patrol-flag");
  var timeShown = document.getElementById("patrol-time");
  var distanceShown = document.getElementById("patrol-distance");
  var sending = false;

  function kept() {
    try {
      var stored = JSON.parse(localStorage.getItem(pendingKey) || "null");
      return stored && stored.patrol === patrolId ? stored.points : [];
    } catch (e) { return []; }
  }
  function keep(points) {
    try { localStorage.setItem(pendingKey, JSON.stringify({patrol: patrolId, url: pointsUrl, csrf: csrf, points: points})); }
    catch (e) { /* private mode: the points live as long as the page */ }
  }
  var queue = kept();
  if (!queue.length) { sendLeftOver(); }  // an earlier patrol's points, before this one's replace them

  function say(template, count) {
    status.textContent = status.getAttribute(template).replace("__N__", count);
  }

  function tick() {
    var seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    timeShown.textContent = (h ? h + ":" + (m < 10 ? "0" : "") + m : m) + ":" + (s < 10 ? "0" : "") + s;
  }

  function send() {
    if (sending || !queue.length) { return; }
    sending = true;
    var batch = queue.slice(0, BATCH);
    fetch(pointsUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({points: batch})
    }).then(function (response) {
      return response.json().then(function (answer) { return {ok: response.ok, answer: answer}; });
    }).then(function (result) {
      sending = false;
      // a batch refused is left out; the points taken meanwhile are kept
      queue = queue.slice(batch.length);
      keep(queue);
      if (!result.ok) { status.textContent = result.answer.error || ""; return; }
      if (queue.length) { setTimeout(send, 0); }
      distanceShown.textContent = result.answer.distance;
      flag.textContent = result.answer.flag || "";
      if (queue.length) { say("data-unsent", queue.length); } else { say("data-sent", result.answer.points); }
    }).catch(function () {
      sending = false;
      say("data-unsent", queue.length);
    });
  }

  if (navigator.geolocation) {
    status.textContent = status.getAttribute("data-waiting");
    navigator.geolocation.watchPosition(function (position) {
      queue.push({lat: position.coords.latitude, lon: position.coords.longitude,
                  t: position.timestamp || Date.now(), acc: position.coords.accuracy});
      keep(queue);
    }, function (error) {
      if (error.code === 1) { status.textContent = status.getAttribute("data-denied"); }
    }, {enableHighAccuracy: true, maximumAge: 0, timeout: 30000});
  } else {
    status.textContent = status.getAttribute("data-denied");
  }
  tick();
  setInterval(tick, 1000);
  setInterval(send, SEND_EVERY_MS);
  window.addEventListener("online", send);

  // stopping sends what is left with the stop; the points stay kept until the server has them (the
  // next page sends them again should the stop not have reached it: each is stored once)
  var stop = document.querySelector("form[data-gridgov-patrol-stop]");
  stop.addEventListener("submit", function () {
    // the first points go with the stop; any beyond a batch stay kept, sent by the next page
    stop.elements.points.value = JSON.stringify(queue.slice(0, BATCH));
  });

  // a stopped patrol's points still on this phone (the signal was lost): sent when it returns
  function sendLeftOver() {
    var stored;
    try { stored = JSON.parse(localStorage.getItem(pendingKey) || "null"); } catch (e) { stored = null; }
    if (!stored || !stored.points || !stored.points.length) { return; }
    var batch = stored.points.slice(0, BATCH);
    fetch(stored.url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": stored.csrf},
      body: JSON.stringify({points: batch})
    }).then(function (response) {
      if (response.status >= 500) { return; }
      var now = JSON.parse(localStorage.getItem(pendingKey) || "null");
      if (!now || now.patrol !== stored.patrol) { return; }
      now.points = (now.points || []).slice(batch.length);
      if (now.points.length) {
        localStorage.setItem(pendingKey, JSON.stringify(now));
        sendLeftOver();
      } else {
        localStorage.removeItem(pendingKey);
      }
    }).catch(function () { /* still no signal: next time */ });
  }
})();
