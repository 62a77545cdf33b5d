// The Charts page: draws each chart with Chart.js (vendored, /dashboard/static/vendor/chart.umd.min.js, loaded
// before this file) from the numbers /dashboard/api/charts gives, and keeps the numbers' tables and captions in
// step, without a reload. Every text comes from the server in the staff language and is set with textContent
// only; nothing is evaluated, so the page's Content-Security-Policy stays strict.
"use strict";
(function () {
  // A colour per tier, answer and single series; a tier's colour grows warmer with its risk.
  const COLOURS = {
    none: "#6b7280", review: "#0ea5e9", elevated: "#d97706", high: "#dc2626", imminent: "#7f1d1d",
    better: "#15803d", same: "#6b7280", worse: "#b91c1c",
    missed: "#dc2626", false_alarm: "#6b7280",
  };
  const DEFAULT_COLOUR = "#2563eb";

  function datasets(chart) {
    return chart.series.map(function (series) {
      const colour = COLOURS[series.key] || DEFAULT_COLOUR;
      return { label: series.name, data: series.values, backgroundColor: colour, borderColor: colour };
    });
  }

  function options(chart, language) {
    const counts = chart.id !== "wait" && chart.id !== "first-reply" && chart.id !== "ack";
    return {
      locale: language, // the axes' numbers in the staff language ("1,5" in Spanish)
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { title: { display: true, text: chart.x_axis } },
        y: { beginAtZero: true, title: { display: true, text: chart.y_axis }, ticks: counts ? { precision: 0 } : {} },
      },
      plugins: {
        legend: { display: true, position: "bottom" },
        tooltip: {
          callbacks: {
            // the table's own words for the bar ("4 min"), not the axis number
            label: function (item) {
              return item.dataset.label + ": " + chart.series[item.datasetIndex].cells[item.dataIndex];
            },
          },
        },
      },
    };
  }

  function draw(chart, language) {
    const canvas = document.getElementById(chart.id);
    if (!canvas || typeof window.Chart !== "function") return;
    const drawn = window.Chart.getChart(canvas);
    if (!drawn) {
      new window.Chart(canvas, { type: "bar", data: { labels: chart.labels, datasets: datasets(chart) },
                                 options: options(chart, language) });
      return;
    }
    drawn.data.labels = chart.labels;
    drawn.data.datasets = datasets(chart);
    drawn.options.plugins.tooltip.callbacks.label = options(chart, language).plugins.tooltip.callbacks.label;
    drawn.update("none");
  }

  // heading: the column's, kept as data-label so a phone shows the table as cards (dashboard.css)
  function cell(tag, text, heading) {
    const element = document.createElement(tag);
    element.textContent = text;
    if (heading !== undefined) element.dataset.label = heading;
    return element;
  }

  // The numbers under the chart: a tier may appear, so the whole table is rebuilt from the chart.
  function numbers(chart) {
    const table = document.querySelector("#" + chart.id + "-section table");
    const caption = document.getElementById(chart.id + "-caption");
    if (caption) caption.textContent = chart.caption;
    // rebuilt only when a number changed: a screen-reader user reading the table keeps their place
    const shown = JSON.stringify([chart.labels, chart.series.map(function (s) { return [s.name, s.cells]; })]);
    if (!table || table.dataset.shown === shown) return;
    table.dataset.shown = shown;
    const head = document.createElement("tr");
    [chart.x_axis].concat(chart.series.map(function (s) { return s.name; })).forEach(function (text) {
      head.appendChild(cell("th", text));
    });
    const rows = chart.series.length ? chart.labels.map(function (label, i) {
      const row = document.createElement("tr");
      row.appendChild(cell("td", label, chart.x_axis));
      chart.series.forEach(function (s) { row.appendChild(cell("td", s.cells[i], s.name)); });
      return row;
    }) : [];
    if (!rows.length) {
      const empty = cell("td", chart.caption);
      empty.colSpan = chart.series.length + 1;
      const row = document.createElement("tr");
      row.className = "empty";
      row.appendChild(empty);
      rows.push(row);
    }
    table.tHead.replaceChildren(head);
    table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
  }

  function show(state) {
    Object.keys(state.charts).forEach(function (id) {
      draw(state.charts[id], state.language);
      numbers(state.charts[id]);
    });
    document.getElementById("first-reply-summary").textContent = state.first_reply_summary;
    document.getElementById("updated").textContent = state.updated;
  }

  async function refresh() {
    try {
      const response = await fetch("/dashboard/api/charts", { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) return;
      show(await response.json());
    } catch (error) {
      // offline for a moment: the next tick tries again
    }
  }

  // a printout gets the numbers too: every table under its chart is opened for printing
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("main details").forEach(function (details) { details.open = true; });
  });

  refresh(); // the canvases are drawn at once; the tables were already on the page
  setInterval(refresh, 5000);
})();
