// Live refresh of the charts without a full reload: bars are redrawn from numbers with DOM calls, and every
// label is set with textContent only.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 700, HEIGHT = 160;

  function figure(chart) {
    const fig = document.createElement("figure");
    const svg = document.createElementNS(SVG, "svg");
    svg.id = chart.id;
    svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + HEIGHT);
    svg.setAttribute("role", "img");
    svg.setAttribute("preserveAspectRatio", "none");
    const caption = document.createElement("figcaption");
    caption.id = chart.id + "-caption";
    fig.appendChild(svg);
    fig.appendChild(caption);
    return fig;
  }

  function draw(chart) {
    const svg = document.getElementById(chart.id);
    if (!svg) return;
    const bars = document.createDocumentFragment();
    chart.bars.forEach(function (bar) {
      const rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("x", String(bar.x));
      rect.setAttribute("y", String(bar.y));
      rect.setAttribute("width", String(bar.width));
      rect.setAttribute("height", String(bar.height));
      const title = document.createElementNS(SVG, "title");
      title.textContent = bar.tip;
      rect.appendChild(title);
      bars.appendChild(rect);
    });
    svg.replaceChildren(bars);
    const caption = document.getElementById(chart.id + "-caption");
    if (caption) caption.textContent = chart.caption;
  }

  // The wait charts, one per tier that had waits: a tier may appear, so this part is rebuilt each time.
  function waits(state) {
    const box = document.getElementById("wait-charts");
    if (!box) return;
    const parts = [];
    state.tiers.forEach(function (tier) {
      const heading = document.createElement("h3");
      heading.textContent = tier;
      parts.push(heading, figure(state.charts["wait-" + tier]));
    });
    if (!parts.length) {
      const empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = box.dataset.empty || "";
      parts.push(empty);
    }
    box.replaceChildren.apply(box, parts);
  }

  async function refresh() {
    try {
      const response = await fetch("/dashboard/api/charts", { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) return;
      const state = await response.json();
      waits(state);
      Object.keys(state.charts).forEach(function (id) { draw(state.charts[id]); });
      document.getElementById("first-reply-summary").textContent = state.first_reply_summary;
      document.getElementById("updated").textContent = state.updated;
    } catch (error) {
      // offline for a moment: the next tick tries again
    }
  }

  setInterval(refresh, 5000);
})();
