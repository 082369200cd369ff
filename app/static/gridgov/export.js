// An export button (导出 Excel / 导出 CSV) shows that the file is being made: the request carries a
// token, the file's answer sets the cookie gridgov_download to it (app/downloads.py), and the
// button comes back when the cookie arrives. A refused export reloads the page with its message.
(function () {
  var COOKIE = "gridgov_download";

  function cookie() {
    var found = document.cookie.split("; ").filter(function (part) { return part.indexOf(COOKIE + "=") === 0; })[0];
    return found ? found.slice(COOKIE.length + 1) : "";
  }

  document.querySelectorAll("[data-gridgov-export]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (link.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
      event.preventDefault();
      var token = Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
      var url = new URL(link.href, window.location.href);
      url.searchParams.set("download", token);
      // the form the file follows (the figures' grouping and period) as it is now, even when
      // changed without pressing Show
      var form = link.getAttribute("data-form") && document.getElementById(link.getAttribute("data-form"));
      if (form) {
        new FormData(form).forEach(function (value, name) {
          if (value) { url.searchParams.set(name, value); } else { url.searchParams.delete(name); }
        });
      }
      var label = link.innerHTML, waited = 0;
      link.setAttribute("aria-busy", "true");
      link.classList.add("disabled");
      link.innerHTML = '<i class="fa fa-spinner fa-spin" aria-hidden="true"></i> ';
      link.appendChild(document.createTextNode(link.getAttribute("data-busy")));
      var timer = window.setInterval(function () {
        waited += 500;
        if (cookie() === token || waited > 300000) {
          window.clearInterval(timer);
          link.innerHTML = label;
          link.removeAttribute("aria-busy");
          link.classList.remove("disabled");
        }
      }, 500);
      window.location.href = url.toString();
    });
  });
})();
