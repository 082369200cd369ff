// Live total and balance after on the redeem screen; the server checks everything again.
(function () {
  var form = document.getElementById("redeem-form");
  if (!form) { return; }
  var balance = parseInt(document.getElementById("balance").getAttribute("data-balance"), 10);
  function update() {
    var total = 0;
    form.querySelectorAll("input[type=number]").forEach(function (input) {
      var quantity = parseInt(input.value, 10);
      if (quantity > 0) { total += quantity * parseInt(input.getAttribute("data-price"), 10); }
    });
    document.getElementById("total").textContent = total;
    document.getElementById("after").textContent = balance - total;
    document.getElementById("too-much").classList.toggle("hidden", total <= balance);
  }
  form.addEventListener("input", update);
  update();
})();
