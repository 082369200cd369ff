// A "Back" link goes to the page before (a refused form keeps what was typed there); without a
// page before it, or without scripts, it leads home.
(function () {
  document.querySelectorAll("[data-gridgov-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
})();
