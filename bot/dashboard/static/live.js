// Live refresh of the dashboard's tables without a full reload. Values are set with textContent only.
"use strict";
(function () {
  const csrf = document.body.dataset.csrf || "";
  const EMPTY = { queue: "Nobody is waiting.", active: "No conversations right now.", escalations: "No escalations." };

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function emptyRow(name, columns) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = cell(EMPTY[name]);
    td.colSpan = columns;
    tr.appendChild(td);
    return tr;
  }

  function ackButton(id) {
    const td = document.createElement("td");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Acknowledge";
    button.dataset.ack = id;
    button.addEventListener("click", function () { acknowledge(id, button); });
    td.appendChild(button);
    return td;
  }

  function fill(name, rows) {
    const table = document.getElementById(name);
    if (!table) return;
    const columns = table.tHead.rows[0].cells.length;
    const body = document.createElement("tbody");
    rows.forEach(function (row) {
      const tr = document.createElement("tr");
      const cells = Array.isArray(row) ? row : row.cells;
      cells.forEach(function (text) { tr.appendChild(cell(text)); });
      if (!Array.isArray(row)) {
        tr.className = "tier-" + row.tier;
        tr.appendChild(row.ack ? ackButton(row.ack) : cell(""));
      }
      body.appendChild(tr);
    });
    if (!rows.length) body.appendChild(emptyRow(name, columns));
    table.replaceChild(body, table.tBodies[0]);
    const count = document.getElementById(name + "-count");
    if (count) count.textContent = String(rows.length);
  }

  async function refresh() {
    try {
      const response = await fetch("/dashboard/api/live", { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) return;
      const state = await response.json();
      fill("queue", state.queue);
      fill("active", state.active);
      fill("escalations", state.escalations);
      document.getElementById("updated").textContent = state.updated;
    } catch (error) {
      // offline for a moment: the next tick tries again
    }
  }

  async function acknowledge(id, button) {
    button.disabled = true;
    const body = new URLSearchParams({ csrf: csrf });
    await fetch("/dashboard/escalations/" + encodeURIComponent(id) + "/ack", {
      method: "POST", body: body, credentials: "same-origin", headers: { "X-Requested-With": "fetch" },
    });
    refresh();
  }

  document.querySelectorAll("button[data-ack]").forEach(function (button) {
    button.type = "button";
    button.addEventListener("click", function () { acknowledge(button.dataset.ack, button); });
  });
  setInterval(refresh, 2000);
})();
