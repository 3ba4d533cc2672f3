// Draws each chart of the page with Chart.js (vendor/chartjs) from the JSON
// block the server put beside its canvas (<script type="application/json"
// id="ID-data">): axes with titles, dates or names on the category axis,
// money on the value axis, tooltips. The table beside each chart holds the
// same figures, so a browser without script loses nothing but the drawing.
(function () {
  "use strict";
  if (typeof Chart === "undefined") {
    return;
  }
  var palette = ["#0b6bcb", "#e07b00", "#067647", "#8e44ad", "#b42318", "#5b6570"];

  // Whole-dollar ticks, formatted as the server's money(): NT$80,000, -NT$4.
  function moneyTick(v) {
    var n = Number(v);
    var s = "NT$" + Math.abs(n).toLocaleString("en-US", { maximumFractionDigits: 2 });
    return n < 0 ? "-" + s : s;
  }

  function draw(canvas) {
    var block = document.getElementById(canvas.id + "-data");
    if (!block) {
      return;
    }
    var d = JSON.parse(block.textContent);
    var horizontal = d.kind === "hbar";
    var datasets = d.series.map(function (s, i) {
      return {
        label: s.name,
        data: s.values.map(Number),
        text: s.text,
        backgroundColor: palette[i % palette.length],
        borderColor: palette[i % palette.length],
        borderWidth: d.kind === "line" ? 2 : 0,
        pointRadius: d.kind === "line" ? 2 : 0,
        maxBarThickness: 40
      };
    });
    var category = { title: { display: true, text: d.x }, ticks: { autoSkip: true, maxRotation: 60 }, grid: { display: false } };
    var value = { beginAtZero: true, title: { display: true, text: d.y }, ticks: { callback: moneyTick } };
    new Chart(canvas, {
      type: d.kind === "line" ? "line" : "bar",
      data: { labels: d.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: d.series.length > 1 },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                return ctx.dataset.label + ": " + ctx.dataset.text[ctx.dataIndex];
              },
              footer: function (items) {
                if (!items.length) {
                  return [];
                }
                var i = items[0].dataIndex;
                return d.counts.map(function (c) {
                  return c.name + ": " + c.values[i].toLocaleString("en-US");
                });
              }
            }
          }
        },
        scales: horizontal ? { y: category, x: value } : { x: category, y: value }
      }
    });
    canvas.setAttribute("data-drawn", "true"); // for tests and tools that wait for it
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
