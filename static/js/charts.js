// Trend charts of assessment totals, with the instrument's bands drawn behind the line.
// Each chart element names the JSON data block it draws: <div data-chart="trend"
// data-source="trend-PHQ-9">; the data comes from Django's json_script (no inline scripts).
(function () {
  "use strict";
  var riskColours = ["rgba(25,135,84,0.10)", "rgba(13,110,253,0.10)", "rgba(255,193,7,0.18)",
                     "rgba(220,53,69,0.16)", "rgba(132,32,41,0.25)"];

  function label(labels) {
    var lang = (document.documentElement.lang || "zh-hans").toLowerCase();
    return labels[lang] || labels["zh-hans"] || labels.en || "";
  }

  // Results are dated, not timed: the axis and the tooltip speak in days, never clock hours.
  var DAY = 24 * 3600 * 1000;

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function day(value) {
    var d = new Date(value);
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate());
  }

  function tooltip(params) {
    var rows = params.map(function (p) {
      return p.marker + echarts.format.encodeHTML(p.seriesName) + ": " + p.value[1];
    });
    return params.length ? day(params[0].value[0]) + "<br>" + rows.join("<br>") : "";
  }

  function draw(element) {
    var source = document.getElementById(element.dataset.source);
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(element, null, { renderer: "svg" });
    var bands = data.bands.map(function (band) {
      return [{ yAxis: band.min, name: label(band.label),
                itemStyle: { color: riskColours[band.risk] || riskColours[0] } },
              { yAxis: band.max }];
    });
    chart.setOption({
      animation: false,
      grid: { left: 36, right: 12, top: 16, bottom: 28 },
      tooltip: { trigger: "axis", formatter: tooltip },
      xAxis: { type: "time", minInterval: DAY,
               axisLabel: { formatter: day, hideOverlap: true },
               axisPointer: { label: { formatter: function (p) { return day(p.value); } } } },
      yAxis: { type: "value",
               min: data.bands.length ? data.bands[0].min : null,
               max: data.bands.length ? data.bands[data.bands.length - 1].max : null },
      series: [{
        name: data.code, type: "line", data: data.points, symbolSize: 8,
        markArea: { silent: true, label: { show: true, position: "insideRight", fontSize: 10 },
                    data: bands }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  // ECharts (1 MB) is fetched only when a page has a chart, and only once the chart comes
  // into view: the file of a child without results, or read on a phone, never loads it.
  var library = document.currentScript && document.currentScript.dataset.echarts;
  var loading = null;

  function withEcharts(then) {
    if (typeof echarts !== "undefined" || !library) { then(); return; }
    if (!loading) {
      loading = [];
      var script = document.createElement("script");
      script.src = library;
      script.onload = function () { loading.forEach(function (f) { f(); }); };
      document.head.appendChild(script);
    }
    loading.push(then);
  }

  function drawAll() {
    var charts = document.querySelectorAll('[data-chart="trend"]');
    if (!charts.length) { return; }
    if (!("IntersectionObserver" in window)) {
      withEcharts(function () { charts.forEach(draw); });
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) { return; }
        observer.unobserve(entry.target);
        withEcharts(function () { draw(entry.target); });
      });
    }, { rootMargin: "200px" });
    charts.forEach(function (element) { observer.observe(element); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
