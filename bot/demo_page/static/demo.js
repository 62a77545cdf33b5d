// The demo page: the person's phone (Telegram or Discord) and the volunteers' workspace, kept live by
// long-polling the page's own server (which forwards to the sandboxes). Text is always set with textContent,
// never as markup.
"use strict";
(function () {
  const messages = new Map(); // "pane:id" -> newest version seen
  let topics = [];
  let current = null; // the staff thread shown; null is General
  let follow = null; // a conversation id whose topic to open once it exists ("" for the next new topic)
  let since = 0;
  let discordAfter = 0; // Discord sandbox actions seen
  const known = new Set(); // topic threads seen, to notice new ones

  function status(text, bad) {
    const el = document.getElementById("status");
    el.textContent = text;
    el.classList.toggle("bad", !!bad);
  }

  async function call(path, body) {
    const response = await fetch(path, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json().catch(function () { return {}; });
    if (!response.ok) status(answer.error || "that did not work", true);
    return answer;
  }

  function merge(list) {
    list.forEach(function (m) {
      const key = m.pane + ":" + m.id;
      const old = messages.get(key);
      if (!old || m.version >= old.version) messages.set(key, m);
    });
  }

  // Whom the newcomer plays in the workspace (the role switch; the volunteer when there is none).
  function role() {
    const select = document.getElementById("staff-role");
    return select ? select.value : "volunteer";
  }

  function nameOf(staffRole) {
    const option = document.querySelector('#staff-role option[value="' + staffRole + '"]');
    return option ? option.dataset.name : staffRole;
  }

  function bubble(m) {
    const div = document.createElement("div");
    div.className = "bubble from-" + (m.from === "you" || m.from === "bot" || m.from === "service" ? m.from : "other");
    div.dataset.id = String(m.id);
    if (m.pane === "direct" && m.to) {
      const to = document.createElement("span");
      to.className = "who";
      to.textContent = (m.from === "bot" ? "peerbridge bot to " : "") + (m.to === "professional" ? "on call" : nameOf(m.to));
      div.appendChild(to);
    } else if (m.pane !== "phone" && m.pane !== "discord" && m.from !== "you" && m.from !== "service") {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = m.from === "bot" ? "peerbridge bot" : m.from;
      div.appendChild(who);
    }
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = m.text;
    div.appendChild(text);
    if (m.buttons.length && m.pane !== "direct") {
      const row = document.createElement("div");
      row.className = "buttons";
      m.buttons.forEach(function (pair) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = pair[0];
        button.dataset.data = pair[1];
        button.addEventListener("click", function () { press(m, pair[1], button); });
        row.appendChild(button);
      });
      div.appendChild(row);
    }
    return div;
  }

  // Telegram message ids are numbers; Discord's are snowflake strings, too large for a JS number.
  function order(a, b) {
    if (typeof a.id === "string" || typeof b.id === "string") {
      const x = BigInt(a.id), y = BigInt(b.id);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a.id - b.id;
  }

  function draw(pane, filter) {
    const box = document.getElementById(pane + "-chat");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const list = Array.from(messages.values())
      .filter(function (m) { return m.pane === pane && (!filter || filter(m)); })
      .sort(order);
    box.replaceChildren.apply(box, list.map(bubble));
    if (!list.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = pane === "phone" || pane === "discord" ? "Say hello to the bot." : "Nothing here yet.";
      box.appendChild(empty);
    }
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function drawTopics() {
    const nav = document.getElementById("topics");
    const tabs = [{ thread: null, name: "General", closed: false }].concat(topics);
    nav.replaceChildren.apply(nav, tabs.map(function (t) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "topic" + (t.thread === current ? " current" : "") + (t.closed ? " closed" : "");
      button.textContent = t.name + (t.closed ? " (closed)" : "");
      button.dataset.thread = t.thread === null ? "" : String(t.thread);
      button.addEventListener("click", function () { current = t.thread; render(); });
      return button;
    }));
  }

  function render() {
    drawTopics();
    draw("phone");
    if (document.getElementById("discord-chat")) draw("discord");
    draw("staff", function (m) {
      const threads = topics.map(function (t) { return t.thread; });
      return current === null ? !m.thread || threads.indexOf(m.thread) < 0 : m.thread === current;
    });
    draw("alerts");
    draw("direct");
    const input = document.getElementById("staff-input");
    const topic = topics.find(function (t) { return t.thread === current; });
    const playing = nameOf(role());
    input.placeholder = topic ? "Reply in " + topic.name + " as " + playing + " (or /end, /release <note>)"
      : "Write in General as " + playing + " (try /next, /dashboard)";
  }

  function noticeTopics(list) {
    topics = list;
    list.forEach(function (t) {
      if (known.has(t.thread)) return;
      known.add(t.thread);
      if (follow !== null && (follow === "" || t.name.endsWith("· " + follow))) { current = t.thread; follow = null; }
    });
  }

  async function press(m, data, button) {
    button.disabled = true;
    if (m.pane === "staff" && /^take /.test(data)) follow = data.slice(5);
    await call("/demo/api/press", { pane: m.pane, message_id: m.id, data: data, as: role() });
  }

  async function say(form) {
    const pane = form.dataset.pane;
    const input = form.querySelector("input");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    if (pane === "staff" && current === null && /^\/next\b/.test(text)) follow = "";
    const body = { pane: pane, text: text, thread: pane === "staff" ? current : null, as: role() };
    const answer = await call("/demo/api/say", body);
    if (answer.message) { merge([answer.message]); render(); }
    else input.value = text;
  }

  function lastStaff() {
    let last = 0;
    messages.forEach(function (m) { if (m.pane === "staff" && m.id > last) last = m.id; });
    return last;
  }

  function chooseApp(app) {
    document.querySelectorAll("button.app").forEach(function (button) {
      const on = button.dataset.app === app;
      button.classList.toggle("current", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
    document.getElementById("telegram-app").hidden = app !== "telegram";
    document.getElementById("discord-app").hidden = app !== "discord";
    const title = document.getElementById("phone-title");
    title.textContent = title.textContent.replace(/· .*$/, "· " + (app === "discord" ? "Discord" : "Telegram"));
  }

  async function pollDiscord() {
    for (;;) {
      try {
        const response = await fetch("/demo/api/discord/updates?timeout=20&after=" + discordAfter, { cache: "no-store" });
        if (!response.ok) throw new Error("status " + response.status);
        const update = await response.json();
        discordAfter = update.next;
        merge(update.messages);
        render();
      } catch (error) {
        status("reconnecting…", true);
        await new Promise(function (resolve) { setTimeout(resolve, 1500); });
      }
    }
  }

  async function poll() {
    for (;;) {
      try {
        const query = "timeout=20&since=" + since + "&staff_after=" + lastStaff();
        const response = await fetch("/demo/api/updates?" + query, { cache: "no-store" });
        if (!response.ok) throw new Error("status " + response.status);
        const update = await response.json();
        since = update.next;
        merge(update.messages);
        noticeTopics(update.topics);
        render();
        status("live", false);
      } catch (error) {
        status("reconnecting…", true);
        await new Promise(function (resolve) { setTimeout(resolve, 1500); });
      }
    }
  }

  async function start() {
    document.querySelectorAll("form.composer").forEach(function (form) {
      form.addEventListener("submit", function (event) { event.preventDefault(); say(form); });
    });
    try {
      const response = await fetch("/demo/api/state", { cache: "no-store" });
      const state = await response.json();
      merge(state.messages);
      state.topics.forEach(function (t) { known.add(t.thread); });
      topics = state.topics;
      status("live", false);
    } catch (error) {
      status("the demo server is not answering", true);
    }
    document.querySelectorAll("button.app").forEach(function (button) {
      button.addEventListener("click", function () { chooseApp(button.dataset.app); });
    });
    const select = document.getElementById("staff-role");
    if (select) select.addEventListener("change", render);
    render();
    if (document.getElementById("discord-chat")) pollDiscord();
    poll();
  }

  start();
})();
