// The dashboard's charts (Apache ECharts), drawn from the JSON the page carries; the tables beside
// them say the same, so the page reads without this script. Clicking a sub-area's bar opens its
// dashboard, as its link in the table does.
(function () {
  var source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var words = data.labels;
  var charts = [];
  var narrow = window.matchMedia("(max-width: 575px)").matches;

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
    return chart;
  }

  draw("chart-trend", {
    tooltip: { trigger: "axis" },
    legend: { data: [words.received, words.resolved], top: 0 },
    grid: { left: 8, right: 12, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.months, axisLabel: { formatter: function (v) { return narrow ? v.slice(2) : v; } } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: words.received, type: "bar", data: data.received, itemStyle: { color: "#5470c6" } },
      { name: words.resolved, type: "line", data: data.resolved, itemStyle: { color: "#3ba272" } }
    ]
  });

  if (data.categories.length) {
    draw("chart-categories", {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["30%", "58%"], center: ["50%", "40%"], data: data.categories,
                 label: { formatter: "{d}%" } }]
    });
  }

  var ranking = null;
  function rank(by) {
    var areas = data.areas.slice().sort(function (a, b) {
      var x = a[by], y = b[by];
      if (x === null && y === null) { return 0; }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      return y - x;
    }).reverse();  // ECharts draws a category axis bottom-up: the best ends on top
    var percent = by !== "satisfaction";
    var option = {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: percent ? 100 : 5, axisLabel: { formatter: percent ? "{value}%" : "{value}" } },
      yAxis: { type: "category", data: areas.map(function (a) { return a.name; }),
               axisLabel: { width: narrow ? 90 : 160, overflow: "truncate" }, triggerEvent: true },
      series: [{ name: words[by], type: "bar", cursor: "pointer",
                 data: areas.map(function (a) { return { value: a[by], url: a.url }; }),
                 label: { show: true, position: "right", formatter: function (p) {
                   return p.value === null || p.value === undefined ? "—" : (percent ? p.value + "%" : p.value);
                 } },
                 itemStyle: { color: "#5470c6" } }]
    };
    var element = document.getElementById("chart-areas");
    if (element) { element.style.height = Math.max(160, 34 * areas.length + 24) + "px"; }
    if (ranking === null) {
      ranking = draw("chart-areas", option);
      if (ranking) {
        ranking.on("click", function (params) {
          var url = params.data && params.data.url;
          if (!url && params.componentType === "yAxis") {
            var named = data.areas.filter(function (a) { return a.name === params.value; });
            url = named.length ? named[0].url : null;
          }
          if (url) { window.location.href = url; }
        });
      }
    } else {
      ranking.setOption(option, { replaceMerge: ["series", "yAxis"] });
      ranking.resize();
    }
  }
  if (data.areas.length) { rank("completion"); }
  document.querySelectorAll(".gridgov-rank-by [data-rank]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.querySelectorAll(".gridgov-rank-by [data-rank]").forEach(function (other) {
        other.classList.toggle("active", other === button);
        other.setAttribute("aria-pressed", other === button ? "true" : "false");
      });
      rank(button.getAttribute("data-rank"));
    });
  });

  if (data.emergency.length) {
    var element = document.getElementById("chart-emergency");
    if (element) { element.style.height = Math.max(140, 30 * data.emergency.length + 60) + "px"; }
    draw("chart-emergency", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: [words.checked_in, words.waiting], top: 0 },
      grid: { left: 8, right: 12, top: 28, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.emergency.map(function (p) { return p.name; }).reverse(),
               axisLabel: { width: narrow ? 90 : 160, overflow: "truncate" } },
      series: [
        { name: words.checked_in, type: "bar", stack: "tasks", itemStyle: { color: "#3ba272" },
          data: data.emergency.map(function (p) { return p.done; }).reverse() },
        { name: words.waiting, type: "bar", stack: "tasks", itemStyle: { color: "#fac858" },
          data: data.emergency.map(function (p) { return p.waiting; }).reverse() }
      ]
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
