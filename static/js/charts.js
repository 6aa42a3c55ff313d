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
      tooltip: { trigger: "axis" },
      xAxis: { type: "time" },
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

  function drawAll() {
    document.querySelectorAll('[data-chart="trend"]').forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
