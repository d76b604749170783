// Monthly trend charts of the savings report (/reports/savings): bars of
// savings or premium in 万元, a line of the rate in %. The figures come
// rounded from the server in data-series; without JavaScript the table
// above says everything.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  document.querySelectorAll(".trend-chart[data-series]").forEach(function (el) {
    var s = JSON.parse(el.getAttribute("data-series"));
    var chart = window.echarts.init(el, null, { locale: "ZH", renderer: "canvas" });
    chart.setOption({
      // richText tooltips draw on the canvas: no inline styles, which the
      // page's Content-Security-Policy refuses.
      tooltip: { trigger: "axis", renderMode: "richText" },
      // The legend has its own band below the month labels (ECharts 6
      // puts it at the bottom, where it covered them).
      legend: { data: [s.amountName, s.rateName], bottom: 0 },
      grid: { left: 60, right: 60, top: 40, bottom: 64 },
      xAxis: { type: "category", data: s.months },
      yAxis: [
        { type: "value", name: "万元" },
        { type: "value", name: "%", splitLine: { show: false } }
      ],
      series: [
        { name: s.amountName, type: "bar", data: s.amounts },
        { name: s.rateName, type: "line", yAxisIndex: 1, data: s.rates }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
