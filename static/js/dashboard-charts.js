// The dashboard's charts: bars by region, risk stacked by region, and the 12-month trend. The
// data comes from json_script blocks (no inline scripts); the tables beside each chart hold the
// same numbers for screen readers and printing.
(function () {
  "use strict";
  var riskColours = ["#198754", "#0d6efd", "#ffc107", "#dc3545", "#842029"];

  function init(element, height) {
    element.style.height = height + "px";
    var chart = echarts.init(element, null, { renderer: "svg" });
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  function byRegion(element, spec) {
    // Horizontal bars: region names stay readable on a 375 px screen.
    var chart = init(element, Math.max(160, spec.regions.length * 28 + 60));
    var stacked = spec.kind === "stacked";
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: stacked ? 32 : 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: stacked ? { top: 0, type: "scroll" } : undefined,
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: spec.regions, inverse: true,
               axisLabel: { width: 90, overflow: "truncate" } },
      series: spec.series.map(function (s) {
        return { name: s.name, type: "bar", stack: stacked ? "all" : undefined, data: s.data,
                 itemStyle: stacked ? { color: riskColours[s.risk] } : undefined };
      })
    });
  }

  function trend(element, data) {
    var chart = init(element, 240);
    var names = JSON.parse(element.dataset.names || "{}");
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", minInterval: 1 },
      series: ["assessments", "visits", "referrals"].map(function (key) {
        return { name: names[key] || key, type: "line", data: data[key], symbolSize: 6 };
      })
    });
  }

  function drawAll() {
    if (typeof echarts === "undefined") { return; }
    var source = document.getElementById("chart-data");
    var specs = source ? JSON.parse(source.textContent) : [];
    var byId = {};
    specs.forEach(function (spec) { byId[spec.id] = spec; });
    document.querySelectorAll("[data-dashboard-chart]").forEach(function (element) {
      if (element.dataset.dashboardChart === "trend") {
        var data = document.getElementById(element.dataset.source);
        if (data) { trend(element, JSON.parse(data.textContent)); }
      } else if (byId[element.dataset.chartId]) {
        byRegion(element, byId[element.dataset.chartId]);
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
