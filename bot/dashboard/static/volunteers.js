// Live refresh of the volunteers page without a full reload. Values are set with textContent only.
"use strict";
(function () {
  const table = document.getElementById("volunteers");
  if (!table) return;

  function row(data) {
    const tr = document.createElement("tr");
    tr.className = data.flags.join(" ");
    tr.dataset.volunteer = data.volunteer;
    const headings = table.tHead.rows[0].cells;
    data.cells.forEach(function (text, i) {
      const td = document.createElement("td");
      td.textContent = text;
      if (headings[i]) td.dataset.label = headings[i].textContent;
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(state) {
    const body = document.createElement("tbody");
    state.rows.forEach(function (data) { body.appendChild(row(data)); });
    if (!state.rows.length) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = document.createElement("td");
      td.colSpan = table.tHead.rows[0].cells.length;
      td.textContent = state.empty;
      tr.appendChild(td);
      body.appendChild(tr);
    }
    table.replaceChild(body, table.tBodies[0]);
    const summary = document.getElementById("volunteers-summary");
    if (summary) summary.textContent = state.summary;
    document.getElementById("week").textContent = state.week;
    document.getElementById("updated").textContent = state.updated;
  }

  async function refresh() {
    try {
      const response = await fetch("/dashboard/api/volunteers", { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { window.location.reload(); return; }
      if (response.ok) fill(await response.json());
    } catch (error) {
      // offline for a moment: the next tick tries again
    }
  }

  setInterval(refresh, 3000);
})();
