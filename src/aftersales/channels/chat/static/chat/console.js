// The console's Chat page: the live queue, one conversation's pane, presence. Server-Sent Events
// bring news; actions are POSTed with fetch. No framework, no build step.
(function () {
  "use strict";
  var root = document.getElementById("chat-console");
  if (!root) return;
  var S = JSON.parse(document.getElementById("chat-strings").textContent);
  var base = root.dataset.base, streamUrl = root.dataset.stream, presenceUrl = root.dataset.presence;
  var me = parseInt(root.dataset.me, 10), csrf = root.dataset.csrf;
  var ticketBase = root.dataset.ticketBase;
  // One clock everywhere: the site's time zone (TIME_ZONE), not the browser's.
  var timeZone = root.dataset.timeZone || "Asia/Shanghai", lang = root.dataset.lang || "zh-hans";
  function clock(iso) {
    var when = new Date(iso);
    try {
      return when.toLocaleTimeString(lang === "en" ? "en-GB" : "zh-CN", { timeZone: timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
    } catch (e) {
      return when.toISOString().slice(11, 19);
    }
  }
  var selected = null, current = null, lastId = 0, source = null, retry = null, seen = {}, rows = [];
  var baseTitle = document.title;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function fmt(text, data) { return String(text).replace(/%\((\w+)\)s/g, function (_, k) { return data[k] !== undefined ? data[k] : ""; }); }
  function post(url, payload) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { var error = new Error(data.message || S.error); error.data = data; throw error; }
        return data;
      });
    });
  }
  function showError(error) {
    var box = $("pane-error");
    var text = (error && error.message) || S.error;
    if (error && error.data && error.data.details) {
      Object.keys(error.data.details).forEach(function (k) { if (typeof error.data.details[k] === "string") text += " " + error.data.details[k]; });
    }
    box.textContent = text;
    box.classList.remove("hidden");
    setTimeout(function () { box.classList.add("hidden"); }, 6000);
  }

  // ---- the queue
  function minutesSince(iso) {
    if (!iso) return 0;
    return Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  }
  function renderQueue(data) {
    rows = data.conversations || [];
    setPresence(data.me_online);
    var waitingCount = rows.filter(function (c) { return c.status === "waiting"; }).length;
    document.title = (waitingCount ? "(" + waitingCount + ") " : "") + baseTitle;
    ["waiting", "active", "bot"].forEach(function (status) {
      var list = $("list-" + status);
      var items = rows.filter(function (c) { return c.status === status; });
      $("count-" + status).textContent = items.length;
      list.innerHTML = "";
      if (!items.length) { list.appendChild(el("li", "empty", S.none)); return; }
      items.forEach(function (c) {
        var li = el("li");
        var button = el("button", "chat-row " + c.status + (c.agent_id === me ? " mine" : "") + (c.id === selected ? " selected" : ""));
        button.type = "button";
        button.setAttribute("data-conversation", c.id);
        var line1 = el("span", "line1");
        line1.appendChild(el("span", c.visitor_online ? "" : "muted", c.visitor));
        line1.appendChild(el("span", "muted small", c.language === "en" ? "EN" : "中"));
        var detail = c.status === "active" ? fmt(S.taken_by, { agent: c.agent_name }) :
          (c.status === "waiting" ? fmt(S.waiting_for, { minutes: minutesSince(c.waiting_since || c.created_at) }) : c.channel);
        button.appendChild(line1);
        button.appendChild(el("span", "line2", detail + (c.ticket_number ? " · " + c.ticket_number : "")));
        button.addEventListener("click", function () { select(c.id); });
        li.appendChild(button);
        list.appendChild(li);
      });
    });
  }

  // ---- the pane
  function renderConversation(c) {
    current = c;
    $("pane-empty").classList.add("hidden");
    $("pane-body").classList.remove("hidden");
    $("pane-visitor").textContent = c.visitor;
    var status = $("pane-status");
    status.textContent = c.status_label;
    status.className = "badge chat-status-" + c.status;
    var meta = [c.visitor_email, c.visitor_phone, c.channel].filter(Boolean);
    if (open && !c.visitor_online) meta.unshift(S.visitor_left);
    if (c.page_url) meta.push(S.page + ": " + c.page_url);
    $("pane-meta").textContent = meta.join(" · ");
    var ticket = $("pane-ticket");
    if (c.ticket_number) {
      ticket.href = ticketBase.replace("NUMBER", encodeURIComponent(c.ticket_number));
      ticket.textContent = S.ticket + " " + c.ticket_number;
      ticket.classList.remove("hidden");
    } else ticket.classList.add("hidden");
    var open = c.status === "bot" || c.status === "waiting" || c.status === "active";
    $("pane-accept").classList.toggle("hidden", !(c.status === "waiting" || c.status === "bot"));
    $("pane-close").classList.toggle("hidden", !open);
    var mine = c.status === "active" && c.agent_id === me;
    $("pane-composer").classList.toggle("hidden", !mine);
    var note = $("pane-note");
    if (!open) { note.textContent = S.closed; note.classList.remove("hidden"); }
    else if (c.status === "active" && !mine) { note.textContent = fmt(S.taken_by, { agent: c.agent_name }); note.classList.remove("hidden"); }
    else note.classList.add("hidden");
  }
  function addLine(m) {
    if (seen[m.id]) return;
    seen[m.id] = true;
    if (m.id > lastId) lastId = m.id;
    var thread = $("pane-thread");
    var node = el("div", "chat-line " + m.author);
    node.setAttribute("data-id", m.id);
    if (m.author !== "system") {
      var who = m.author === "visitor" ? (current ? current.visitor : S.visitor) : (m.author_name || (m.author === "bot" ? S.bot_author : S.agent));
      node.appendChild(el("span", "who", who + " · " + clock(m.created_at)));
    }
    node.appendChild(document.createTextNode(m.body));
    if (m.sources && m.sources.length) {
      var src = el("div", "src", S.sources);
      m.sources.forEach(function (s) {
        var a = el("a", "", s.title);
        try { var href = new URL(s.url, location.href); if (/^https?:$/.test(href.protocol)) a.href = href.href; } catch (e) { /* no link */ }
        a.target = "_blank"; a.rel = "noopener";
        src.appendChild(a);
      });
      node.appendChild(src);
    }
    thread.appendChild(node);
    thread.scrollTop = thread.scrollHeight;
  }
  function loadDetail(data) {
    renderConversation(data.conversation);
    (data.messages || []).forEach(addLine);
  }
  function select(id) {
    selected = id; lastId = 0; seen = {};
    $("pane-thread").innerHTML = "";
    renderQueue({ conversations: rows, me_online: root.dataset.online === "1" });
    fetch(base + id + "/", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (selected === id && data.conversation) loadDetail(data); openStream(); })
      .catch(showError);
  }

  // ---- live updates
  function openStream() {
    if (source) source.close();
    if (retry) { clearTimeout(retry); retry = null; }
    var url = streamUrl + "?since=" + lastId + (selected ? "&conversation=" + selected : "");
    var es = new EventSource(url);
    source = es;
    es.addEventListener("queue", function (ev) { renderQueue(JSON.parse(ev.data)); });
    es.addEventListener("conversation", function (ev) { var c = JSON.parse(ev.data); if (c.id === selected) renderConversation(c); });
    es.addEventListener("message", function (ev) { if (selected) addLine(JSON.parse(ev.data)); });
    es.addEventListener("bye", function () { if (source === es) openStream(); });
    es.onerror = function () {
      if (source !== es) return;
      es.close(); source = null;
      $("presence-label").textContent = S.reconnecting;
      retry = setTimeout(openStream, 2000);
    };
  }

  // ---- actions
  function setPresence(online) {
    root.dataset.online = online ? "1" : "0";
    $("presence-dot").classList.toggle("on", !!online);
    var label = $("presence-label");
    label.textContent = online ? label.dataset.online : label.dataset.offline;
    var toggle = $("presence-toggle");
    toggle.textContent = online ? toggle.dataset.goOffline : toggle.dataset.goOnline;
    toggle.classList.toggle("secondary", !!online);
  }
  $("presence-toggle").addEventListener("click", function () {
    post(presenceUrl, { online: root.dataset.online !== "1" }).then(function (data) { setPresence(data.online); }).catch(showError);
  });
  $("pane-accept").addEventListener("click", function () {
    if (!selected) return;
    post(base + selected + "/accept").then(function (data) { loadDetail(data); $("pane-input").focus(); }).catch(showError);
  });
  $("pane-close").addEventListener("click", function () {
    if (!selected) return;
    post(base + selected + "/close").then(loadDetail).catch(showError);
  });
  function sendAnswer() {
    var input = $("pane-input");
    var text = input.value.trim();
    if (!text || !selected) return;
    $("pane-send").disabled = true;
    post(base + selected + "/messages", { body: text })
      .then(function (data) { input.value = ""; addLine(data.message); })
      .catch(showError)
      .then(function () { $("pane-send").disabled = false; input.focus(); });
  }
  $("pane-composer").addEventListener("submit", function (ev) { ev.preventDefault(); sendAnswer(); });
  $("pane-input").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); sendAnswer(); }
  });

  setPresence($("presence-dot").classList.contains("on"));
  var wanted = new URLSearchParams(location.search).get("c");
  if (wanted && /^\d+$/.test(wanted)) select(parseInt(wanted, 10)); else openStream();
})();
