// Draws each chart of a page with ECharts from its JSON block (<script type="application/json">):
// the server hands over data, never markup or code, and the page runs no inline script (its
// Content-Security-Policy forbids it). Labels are drawn on a canvas, as text.
(function () {
  "use strict";

  function axes(spec) {
    return {
      animation: false,
      tooltip: { trigger: spec.kind === "heatmap" ? "item" : "axis" },
      grid: { left: 24, right: 24, top: 72, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: spec.x, name: spec.x_title, nameLocation: "middle", nameGap: 32 },
    };
  }

  function heatmap(spec) {
    var option = axes(spec), cells = [], highest = 0;
    spec.series.forEach(function (row, y) {
      row.data.forEach(function (value, x) {
        if (value !== null) { cells.push([x, y, value]); highest = Math.max(highest, value); }
      });
    });
    option.yAxis = { type: "category", data: spec.series.map(function (s) { return s.name; }), name: spec.y_title };
    option.visualMap = { min: 0, max: highest || 1, calculable: true, orient: "vertical", right: 0, top: "middle", inRange: { color: ["#eef4fb", "#2b6cb0"] } };
    option.grid.right = 96;
    option.series = [{ type: "heatmap", data: cells, label: { show: true } }];
    return option;
  }

  function series(spec) {
    var option = axes(spec);
    option.legend = { type: "scroll", top: 0 };
    option.yAxis = { type: "value", name: spec.y_title };
    option.series = spec.series.map(function (s) {
      return { name: s.name, type: spec.kind === "lines" ? "line" : "bar", stack: spec.kind === "stacked" ? "all" : undefined, data: s.data, connectNulls: true };
    });
    return option;
  }

  function draw() {
    document.querySelectorAll(".chart[data-source]").forEach(function (element) {
      var spec = JSON.parse(document.getElementById(element.dataset.source).textContent);
      var chart = echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(spec.kind === "heatmap" ? heatmap(spec) : series(spec));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.echarts) { draw(); }
  });
})();
