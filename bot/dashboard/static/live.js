// Live refresh of the dashboard's tables without a full reload. Values are set with textContent only.
// The words this script adds (an empty table's sentence, the Acknowledge button) come from the tables' data-
// attributes, in the organisation's language, as the server rendered them.
// A table is rebuilt only when its rows changed, and the button that had keyboard focus gets it back, so that
// someone moving through the page with the keyboard or a screen reader is not thrown to the top every 2 s.
"use strict";
(function () {
  const csrf = document.body.dataset.csrf || "";
  const shown = {};  // the rows each table shows now, as JSON: unchanged rows are not rebuilt
  // escalations already on the page: only ones that arrive after it loaded are announced
  const known = new Set(Array.from(document.querySelectorAll("#escalations tr[data-esc]"), (tr) => tr.dataset.esc));

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function emptyRow(table, columns) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = cell(table.dataset.empty || "");
    td.colSpan = columns;
    tr.appendChild(td);
    return tr;
  }

  function ackButton(id, label) {
    const td = document.createElement("td");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.ack = id;
    button.addEventListener("click", function () { acknowledge(id, button); });
    td.appendChild(button);
    return td;
  }

  function fill(name, rows) {
    const table = document.getElementById(name);
    if (!table) return;
    const json = JSON.stringify(rows);
    if (shown[name] === json) return;
    shown[name] = json;
    const focused = document.activeElement;
    const focusedAck = focused && table.contains(focused) ? focused.dataset.ack : undefined;
    const columns = table.tHead.rows[0].cells.length;
    const body = document.createElement("tbody");
    rows.forEach(function (row) {
      const tr = document.createElement("tr");
      const cells = Array.isArray(row) ? row : row.cells;
      cells.forEach(function (text) { tr.appendChild(cell(text)); });
      if (!Array.isArray(row)) {
        tr.className = "tier-" + row.tier + " state-" + row.state;
        tr.dataset.esc = row.id;
        tr.appendChild(row.ack ? ackButton(row.ack, table.dataset.ackLabel || "") : cell(""));
      }
      body.appendChild(tr);
    });
    if (!rows.length) body.appendChild(emptyRow(table, columns));
    table.replaceChild(body, table.tBodies[0]);
    const count = document.getElementById(name + "-count");
    if (count) count.textContent = String(rows.length);
    if (focusedAck) {
      const again = table.querySelector('button[data-ack="' + CSS.escape(focusedAck) + '"]');
      if (again) again.focus();
    }
  }

  function announce(escalations) {
    const table = document.getElementById("escalations");
    const region = document.getElementById("announce");
    if (!table || !region) return;
    const fresh = escalations.filter((e) => !known.has(e.id));
    fresh.forEach((e) => known.add(e.id));
    const open = fresh.filter((e) => e.state === "open");
    if (!open.length) return;
    region.textContent = open.map((e) => (table.dataset.announce || "")
      .replace("{escalation}", e.id).replace("{tier}", e.tier).replace("{pseudonym}", e.pseudonym)).join(" ");
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
      announce(state.escalations);
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
