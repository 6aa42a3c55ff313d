// The new follow-up plan: choosing a schedule preset fills the days and sets the end to the
// start plus the preset's weeks (the server does the same for fields left empty).
(function () {
  "use strict";

  var data = document.getElementById("followup-presets");
  var preset = document.getElementById("id_preset");
  if (!data || !preset) { return; }
  var presets = JSON.parse(data.textContent);

  function field(name) { return document.getElementById("id_" + name); }

  function isoDate(day) {
    var month = String(day.getMonth() + 1).padStart(2, "0");
    return day.getFullYear() + "-" + month + "-" + String(day.getDate()).padStart(2, "0");
  }

  function endFrom(weeks) {
    var start = field("start_on");
    var end = field("end_on");
    if (!start || !end || !start.value || !weeks) { return; }
    var parts = start.value.split("-");
    var day = new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
    day.setDate(day.getDate() + 7 * weeks);
    end.value = isoDate(day);
  }

  preset.addEventListener("change", function () {
    var chosen = presets[preset.value];
    if (!chosen) { return; }
    ["first_interval_days", "first_period_days", "interval_days"].forEach(function (name) {
      var input = field(name);
      if (input) { input.value = chosen[name]; }
    });
    endFrom(chosen.weeks);
  });

  var start = field("start_on");
  if (start) {
    start.addEventListener("change", function () {
      var chosen = presets[preset.value];
      if (chosen) { endFrom(chosen.weeks); }
    });
  }
}());
