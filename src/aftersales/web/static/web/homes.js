// Draws the charts of the role homes with the vendored Apache ECharts (shell/vendor/echarts.min.js).
// The page puts the figures and every label in <script type="application/json" id="home-charts">
// (Django's json_script), so this file holds no text and no data, and no inline script is needed
// under the Content-Security-Policy.
(function () {
  var COLORS = { on_track: "#5b8def", at_risk: "#f79009", breached: "#d92d20" };
  var TARGET_COLORS = ["#d92d20", "#f79009", "#9b59b6", "#1f6feb", "#15803d", "#0e7490", "#b45309", "#6b7280"];
  var charts = [];

  function stateSeries(block, labels, horizontal) {
    return ["on_track", "at_risk", "breached"].map(function (key) {
      return {
        name: labels[key], type: "bar", stack: "open", data: block[key],
        itemStyle: { color: COLORS[key] }, barMaxWidth: 28,
        emphasis: { focus: "series" }
      };
    });
  }

  function stacked(el, block, labels, horizontal) {
    var narrow = el.clientWidth < 480;
    var category = { type: "category", data: block.categories, axisLabel: { interval: 0, width: horizontal ? (narrow ? 72 : 120) : (narrow ? 56 : 90), overflow: "truncate", rotate: 0 } };
    var value = { type: "value", minInterval: 1 };
    if (horizontal) category.inverse = true;
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 12, top: 32, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: stateSeries(block, labels, horizontal)
    };
  }

  function breaches(block) {
    var option = {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 12, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: block.categories, axisLabel: { interval: 2 } },
      yAxis: { type: "value", minInterval: 1 },
      series: block.series.map(function (series, index) {
        return { name: series.name, type: "bar", stack: "breaches", data: series.data, barMaxWidth: 18,
                 itemStyle: { color: TARGET_COLORS[index % TARGET_COLORS.length] } };
      })
    };
    if (!block.series.length) {
      option.series = [{ type: "bar", data: block.categories.map(function () { return 0; }) }];
      option.yAxis.max = 1;
      option.graphic = { type: "text", left: "center", top: "middle", style: { text: block.empty, fill: "#6b7280", fontSize: 14 } };
    }
    return option;
  }

  function draw() {
    var source = document.getElementById("home-charts");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var name = el.getAttribute("data-chart"), option = null;
      if (name === "teams") option = stacked(el, data.teams, data.labels, false);
      else if (name === "people") option = stacked(el, data.people, data.labels, true);
      else if (name === "breaches") option = breaches(data.breaches);
      if (!option) return;
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      charts.push(chart);
      el.setAttribute("data-rendered", "true");
    });
  }

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) window.clearTimeout(pending);
    pending = window.setTimeout(function () { charts.forEach(function (chart) { chart.resize(); }); }, 150);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
