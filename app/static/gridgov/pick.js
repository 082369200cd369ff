// Typed pickers (app/fab/pickers.py): a <select class="gridgov-pick"> holds the chosen rows
// only; Select2 asks its data-pick URL for the rows the typed text names, 20 at a time.
$(function () {
  $("select.gridgov-pick").each(function () {
    var select = $(this);
    select.select2({
      theme: "bootstrap",
      width: "100%",
      placeholder: select.data("placeholder"),
      allowClear: select.data("blank") === 1 && !select.prop("multiple"),
      ajax: {
        url: select.data("pick"),
        dataType: "json",
        delay: 250,
        data: function (params) { return { q: params.term || "", page: params.page || 1 }; }
      }
    });
  });
});
