/*
 * aftersales website chat widget. Embed with one tag:
 *   <script src="https://desk.example/chat/widget.js" data-channel="<public key>" data-lang="zh-hans" async></script>
 * Plain JavaScript, no dependencies, no downloads; everything lives in a shadow root so the host
 * page's styles and ours never mix. Texts come from the server in the visitor's language.
 */
(function () {
  "use strict";
  var script = document.currentScript || (function () {
    var found = document.querySelectorAll("script[data-channel]");
    return found[found.length - 1];
  })();
  if (!script || !script.getAttribute("data-channel")) return;
  var channelKey = script.getAttribute("data-channel");
  if (window.__aftersalesChat && window.__aftersalesChat[channelKey]) return;
  window.__aftersalesChat = window.__aftersalesChat || {};
  window.__aftersalesChat[channelKey] = true;

  var base = new URL(script.src, document.baseURI).origin;
  var lang = (script.getAttribute("data-lang") || navigator.language || "zh-hans").toLowerCase();
  lang = lang.indexOf("en") === 0 ? "en" : "zh-hans";
  var api = base + "/chat/w/" + encodeURIComponent(channelKey) + "/";
  var storeKey = "aftersales-chat:" + channelKey;

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI','PingFang SC','Hiragino Sans GB','Microsoft YaHei','WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif}",
    ".wrap{position:fixed;right:20px;bottom:20px;z-index:2147483000;font-size:14px;line-height:1.45;color:#1f2937}",
    ".launcher{display:flex;align-items:center;gap:8px;background:#1f6feb;color:#fff;border:0;border-radius:999px;padding:12px 18px;font-size:15px;font-weight:600;cursor:pointer;box-shadow:0 6px 20px rgba(16,42,90,.28)}",
    ".launcher:hover{background:#1558c7}",
    ".launcher svg{width:20px;height:20px;fill:#fff}",
    ".dot{width:9px;height:9px;border-radius:50%;background:#9ca3af;display:inline-block}",
    ".dot.on{background:#22c55e}",
    ".panel{display:none;flex-direction:column;width:360px;max-width:calc(100vw - 24px);height:540px;max-height:calc(100vh - 40px);background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 12px 40px rgba(16,42,90,.25);border:1px solid #dde2ea}",
    ".open .panel{display:flex}.open .launcher{display:none}",
    ".head{background:#1f6feb;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:10px}",
    ".head .t{flex:1;min-width:0}.head .n{font-weight:600;font-size:15px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".head .s{font-size:12px;opacity:.9;display:flex;align-items:center;gap:6px}",
    ".head button{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px;border-radius:6px}",
    ".head button:hover{background:rgba(255,255,255,.15)}",
    ".body{flex:1;overflow-y:auto;padding:12px;background:#f4f6f9;display:flex;flex-direction:column;gap:8px}",
    ".msg{max-width:82%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #e5e7eb}",
    ".msg .who{display:block;font-size:11px;color:#6b7280;margin-bottom:2px}",
    ".msg.visitor{align-self:flex-end;background:#1f6feb;color:#fff;border-color:#1f6feb}",
    ".msg.visitor .who{display:none}",
    ".msg.agent{align-self:flex-start;border-left:3px solid #22c55e}",
    ".msg.bot{align-self:flex-start;border-left:3px solid #8b5cf6}",
    ".msg.system{align-self:center;background:transparent;border:0;color:#6b7280;font-size:12px;text-align:center;max-width:95%}",
    ".src{margin-top:6px;font-size:12px;white-space:normal}.src a{display:block;color:#1f6feb;text-decoration:none;margin-top:2px}.src a:hover{text-decoration:underline}",
    ".opts{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".chip{background:#eef2ff;color:#3730a3;border:1px solid #c7d2fe;border-radius:999px;padding:4px 10px;font-size:12px;cursor:pointer}",
    ".chip:hover{background:#e0e7ff}",
    ".actions{display:flex;gap:6px;padding:8px 12px 0;background:#fff;flex-wrap:wrap}",
    ".btn{background:#1f6feb;color:#fff;border:0;border-radius:8px;padding:8px 14px;font-size:14px;cursor:pointer}",
    ".btn:hover{background:#1558c7}.btn[disabled]{opacity:.6;cursor:default}",
    ".btn.ghost{background:#fff;color:#1f3b6e;border:1px solid #b9c7de}.btn.ghost:hover{background:#eef4ff}",
    ".btn.ok{background:#15803d}.btn.ok:hover{background:#166534}",
    ".foot{padding:10px 12px;background:#fff;border-top:1px solid #e5e7eb;display:flex;gap:8px;align-items:flex-end}",
    "textarea,input{width:100%;border:1px solid #cbd2dc;border-radius:8px;padding:8px 10px;font-size:14px;color:#111827;background:#fff;outline:none;resize:none}",
    "textarea:focus,input:focus{border-color:#1f6feb;box-shadow:0 0 0 3px #dbe7ff}",
    ".foot textarea{height:42px;max-height:120px;flex:1}",
    ".foot .btn{white-space:nowrap;flex-shrink:0;height:42px}",
    ".form{padding:14px;display:flex;flex-direction:column;gap:8px;background:#fff;overflow-y:auto}",
    ".form label{font-size:12px;color:#4b5563}",
    ".form p{margin:0 0 4px;color:#374151}",
    ".form textarea{height:84px}",
    ".greet{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:10px 12px;color:#374151}",
    ".err{color:#b42318;font-size:12px;min-height:0}",
    ".note{background:#fff7e0;border:1px solid #f0c36d;color:#7a5200;border-radius:8px;padding:8px 10px;font-size:13px}",
    ".done{background:#ecfdf3;border:1px solid #abefc6;color:#05603a;border-radius:8px;padding:10px 12px}",
    ".hidden{display:none !important}",
    ".brand{font-size:11px;color:#9ca3af;text-align:center;padding:4px 0 8px;background:#fff}"
  ].join("\n");

  var ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2zm3 6v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2z"/></svg>';

  var host = document.createElement("div");
  host.setAttribute("data-aftersales-chat", channelKey);
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = CSS;
  root.appendChild(style);
  var wrap = el("div", "wrap");
  root.appendChild(wrap);

  var cfg = null, S = {}, token = null, state = null, lastId = 0, source = null, retryTimer = null, seen = {};
  var askingContact = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function fmt(text, data) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (_, k) { return data[k] !== undefined ? data[k] : ""; });
  }
  function store(value) {
    try { if (value) localStorage.setItem(storeKey, value); else localStorage.removeItem(storeKey); } catch (e) { /* private mode */ }
  }
  function stored() {
    try { return localStorage.getItem(storeKey); } catch (e) { return null; }
  }
  function call(method, path, body) {
    var headers = { "X-Chat-Lang": lang };
    if (token) headers["X-Chat-Token"] = token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(api + path + (path.indexOf("?") < 0 ? "?" : "&") + "lang=" + lang, {
      method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", mode: "cors"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { var error = new Error(data.message || S.error); error.data = data; error.status = response.status; throw error; }
        return data;
      });
    });
  }
  function errorText(error) {
    var data = error && error.data;
    if (data && data.details) {
      var parts = [];
      Object.keys(data.details).forEach(function (k) { if (typeof data.details[k] === "string") parts.push(data.details[k]); });
      if (parts.length) return parts.join(" ");
    }
    return (error && error.message) || S.error;
  }

  // ---- structure
  var launcher = el("button", "launcher");
  launcher.type = "button";
  var panel = el("div", "panel");
  panel.setAttribute("role", "dialog");
  var head = el("div", "head");
  var headText = el("div", "t");
  var headName = el("div", "n");
  var headStatus = el("div", "s");
  var statusDot = el("span", "dot");
  var statusText = el("span");
  headStatus.appendChild(statusDot); headStatus.appendChild(statusText);
  headText.appendChild(headName); headText.appendChild(headStatus);
  var minimise = el("button", "", "\u2013");
  minimise.type = "button";
  head.appendChild(headText); head.appendChild(minimise);
  var body = el("div", "body");
  body.setAttribute("aria-live", "polite");
  var startForm = el("div", "form");
  var leaveForm = el("div", "form hidden");
  var actions = el("div", "actions hidden");
  var foot = el("div", "foot hidden");
  var input = el("textarea");
  input.rows = 1;
  var send = el("button", "btn");
  send.type = "button";
  foot.appendChild(input); foot.appendChild(send);
  var brand = el("div", "brand");
  panel.appendChild(head); panel.appendChild(body); panel.appendChild(startForm); panel.appendChild(leaveForm);
  panel.appendChild(actions); panel.appendChild(foot); panel.appendChild(brand);
  wrap.appendChild(launcher); wrap.appendChild(panel);

  function field(form, labelText, tag, name) {
    var label = el("label", "", labelText);
    var control = el(tag);
    control.name = name;
    var id = "as-" + name + "-" + Math.random().toString(36).slice(2, 8);
    control.id = id; label.htmlFor = id;
    form.appendChild(label); form.appendChild(control);
    return control;
  }

  function buildStartForm() {
    startForm.innerHTML = "";
    var greet = el("div", "greet", cfg.greeting || S.intro);
    startForm.appendChild(greet);
    startForm.nameInput = field(startForm, S.name, "input", "name");
    startForm.contactInput = field(startForm, S.contact_optional, "input", "contact");
    startForm.messageInput = field(startForm, S.message, "textarea", "body");
    startForm.err = el("div", "err");
    startForm.appendChild(startForm.err);
    var go = el("button", "btn", S.start);
    go.type = "button"; go.name = "start";
    go.addEventListener("click", startChat);
    startForm.appendChild(go);
    startForm.messageInput.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); startChat(); }
    });
  }

  function buildLeaveForm(prefill) {
    leaveForm.innerHTML = "";
    leaveForm.appendChild(el("p", "note", S.leave_intro));
    leaveForm.nameInput = field(leaveForm, S.name, "input", "name");
    leaveForm.contactInput = field(leaveForm, S.contact, "input", "contact");
    leaveForm.messageInput = field(leaveForm, S.message, "textarea", "body");
    if (prefill) leaveForm.messageInput.value = prefill;
    leaveForm.err = el("div", "err");
    leaveForm.appendChild(leaveForm.err);
    var go = el("button", "btn", S.leave_send);
    go.type = "button"; go.name = "leave";
    go.addEventListener("click", leaveMessage);
    leaveForm.appendChild(go);
  }

  function splitContact(value) {
    value = (value || "").trim();
    if (!value) return { email: "", phone: "" };
    return value.indexOf("@") >= 0 ? { email: value, phone: "" } : { email: "", phone: value };
  }

  function show(view) {
    startForm.classList.toggle("hidden", view !== "start");
    leaveForm.classList.toggle("hidden", view !== "leave");
    body.classList.toggle("hidden", view === "start" || view === "leave");
    foot.classList.toggle("hidden", view !== "chat");
    if (view !== "chat") actions.classList.add("hidden");
  }

  function setHeader() {
    headName.textContent = cfg.name || S.title;
    var online = state ? state.agents_online : cfg.agents_online;
    statusDot.className = "dot" + (online ? " on" : "");
    if (state && (state.status === "closed" || state.status === "offline_message")) statusText.textContent = S.ended;
    else if (state && state.status === "active" && state.agent_name) statusText.textContent = fmt(S.agent_joined, { agent: state.agent_name });
    else if (state && state.status === "waiting") statusText.textContent = online ? S.waiting : S.offline;
    else if ((!state || state.status === "bot") && cfg.bot) statusText.textContent = online ? S.online : S.bot_status;
    else statusText.textContent = online ? S.online : S.offline;
  }

  // ---- lines
  function addLine(m) {
    if (seen[m.id]) return;
    seen[m.id] = true;
    if (m.id > lastId) lastId = m.id;
    var node = el("div", "msg " + m.author);
    node.setAttribute("data-id", m.id);
    if (m.author === "agent" || m.author === "bot") node.appendChild(el("span", "who", m.author_name || (m.author === "bot" ? S.bot : S.agent)));
    node.appendChild(document.createTextNode(m.body));
    if (m.sources && m.sources.length) {
      var src = el("div", "src", S.sources);
      m.sources.forEach(function (s) {
        var a = el("a", "", s.title);
        try {
          var href = new URL(s.url, base);
          a.href = /^https?:$/.test(href.protocol) ? href.href : base;
        } catch (e) { a.href = base; }
        a.target = "_blank"; a.rel = "noopener";
        src.appendChild(a);
      });
      node.appendChild(src);
    }
    if (m.options && m.options.length) {
      var opts = el("div", "opts");
      m.options.forEach(function (option) {
        var chip = el("button", "chip", option);
        chip.type = "button";
        chip.addEventListener("click", function () { sendText(option); });
        opts.appendChild(chip);
      });
      node.appendChild(opts);
    }
    body.appendChild(node);
    body.scrollTop = body.scrollHeight;
  }

  function renderActions() {
    if (askingContact && state && state.status === "bot") return;  // keep the visitor's half-filled form
    askingContact = false;
    actions.innerHTML = "";
    if (!state) { actions.classList.add("hidden"); return; }
    var buttons = [];
    if (state.status === "bot") {
      var answered = body.querySelector(".msg.bot");
      if (answered) buttons.push(["ok", S.solved, "solved", function () { act("feedback", { solved: true }); }]);
      buttons.push(["ghost", S.person, "person", askPerson]);
    } else if (state.status === "waiting" && !state.agents_online) {
      buttons.push(["", S.leave_message, "leave", function () { openLeave(true); }]);
    }
    if (state.status === "waiting" || state.status === "active") {
      buttons.push(["ghost", S.end_chat, "end", function () { act("close", {}); }]);
    }
    if (state.status === "closed" || state.status === "offline_message") {
      if (state.close_reason === "deflected") actions.appendChild(el("div", "done", S.deflected));
      else if (state.status === "offline_message" && state.ticket_number) actions.appendChild(el("div", "done", fmt(S.left_message, { ticket: state.ticket_number })));
      else actions.appendChild(el("div", "note", S.ended));
      buttons.push(["ghost", S.new_chat, "new", resetChat]);
    }
    buttons.forEach(function (b) {
      var button = el("button", "btn " + b[0], b[1]);
      button.type = "button"; button.name = b[2];
      button.addEventListener("click", b[3]);
      actions.appendChild(button);
    });
    actions.classList.toggle("hidden", !actions.childNodes.length);
    body.scrollTop = body.scrollHeight;
  }

  function applyState(next) {
    state = next;
    setHeader();
    var open = state.status === "bot" || state.status === "waiting" || state.status === "active";
    foot.classList.toggle("hidden", !open);
    renderActions();
    if (!open) stopStream();
  }

  function load(data) {
    (data.messages || []).forEach(addLine);
    if (data.state) applyState(data.state);
  }

  // ---- live updates (Server-Sent Events read with fetch, so the token travels in the
  // X-Chat-Token header and never in a URL, where access logs would keep it; we reconnect
  // ourselves with the last id seen)
  function stopStream() {
    if (source) { source.abort(); source = null; }
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
  }
  function dispatch(name, data) {
    var payload;
    try { payload = JSON.parse(data); } catch (e) { return; }
    if (name === "message") { addLine(payload); renderActions(); }
    else if (name === "state") applyState(payload);
    else if (name === "gone") resetChat();
    else if (name === "bye") return payload.reconnect !== false ? "again" : "stop";
  }
  function startStream() {
    stopStream();
    if (!token || !window.fetch || !window.AbortController || !window.TextDecoder) return;
    var controller = new AbortController(), decoder = new TextDecoder(), buffer = "", ended = null;
    source = controller;
    function lost() {
      if (source !== controller) return;
      source = null;
      if (state && (state.status === "closed" || state.status === "offline_message")) return;
      statusText.textContent = S.connection_lost;
      retryTimer = setTimeout(startStream, 2000);
    }
    function parse() {
      var at;
      while ((at = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, at), name = "message", data = [];
        buffer = buffer.slice(at + 2);
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event:") === 0) name = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
        });
        if (data.length) { var outcome = dispatch(name, data.join("\n")); if (outcome) ended = outcome; }
      }
    }
    fetch(api + "stream?since=" + lastId + "&lang=" + lang, {
      headers: { "X-Chat-Token": token, "X-Chat-Lang": lang, "Accept": "text/event-stream" },
      credentials: "omit", mode: "cors", cache: "no-store", signal: controller.signal
    }).then(function (response) {
      if (!response.ok || !response.body) throw new Error("stream " + response.status);
      var reader = response.body.getReader();
      function pump() {
        return reader.read().then(function (chunk) {
          if (source !== controller) return;
          if (chunk.done) {
            source = null;
            if (ended === "again") startStream();
            else if (ended !== "stop") lost();
            return;
          }
          buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
          parse();
          return pump();
        });
      }
      return pump();
    }).catch(lost);
  }

  // ---- actions
  function startChat() {
    var text = startForm.messageInput.value.trim();
    var contact = splitContact(startForm.contactInput.value);
    startForm.err.textContent = "";
    if (!text) { startForm.messageInput.focus(); return; }
    call("POST", "start", { body: text, name: startForm.nameInput.value.trim(), email: contact.email, phone: contact.phone, page_url: location.href.slice(0, 500) })
      .then(function (data) {
        token = data.token; store(token);
        show("chat"); load(data); startStream(); input.focus();
      })
      .catch(function (error) { startForm.err.textContent = errorText(error); });
  }
  function sendText(text) {
    text = (text || "").trim();
    if (!text || !token) return;
    send.disabled = true;
    call("POST", "messages", { body: text })
      .then(function (data) { input.value = ""; addLine(data.message); renderActions(); })
      .catch(function (error) { addLine({ id: "e" + Date.now(), author: "system", body: errorText(error) }); if (error.status === 409) refresh(); })
      .then(function () { send.disabled = false; });
  }
  function act(path, payload) {
    askingContact = false;
    call("POST", path, payload).then(load).catch(function (error) {
      addLine({ id: "e" + Date.now(), author: "system", body: errorText(error) });
      refresh();
    });
  }
  function askPerson() {
    if (state && state.has_contact) { act("person", {}); return; }
    // Ask for a way to reach the visitor before a person (and a ticket) takes over.
    askingContact = true;
    actions.innerHTML = "";
    var box = el("div", "form");
    box.style.padding = "0"; box.style.width = "100%";
    box.appendChild(el("p", "", S.ask_contact));
    var nameInput = field(box, S.name, "input", "name");
    var contactInput = field(box, S.contact, "input", "contact");
    var err = el("div", "err");
    box.appendChild(err);
    var row = el("div", "opts");
    var go = el("button", "btn", S["continue"]);
    go.type = "button"; go.name = "contact-continue";
    var skip = el("button", "btn ghost", S.skip);
    skip.type = "button"; skip.name = "contact-skip";
    go.addEventListener("click", function () {
      var contact = splitContact(contactInput.value);
      if (!contact.email && !contact.phone && !nameInput.value.trim()) { act("person", {}); return; }
      call("POST", "contact", { name: nameInput.value.trim(), email: contact.email, phone: contact.phone })
        .then(function () { act("person", {}); })
        .catch(function (error) { err.textContent = errorText(error); });
    });
    skip.addEventListener("click", function () { act("person", {}); });
    row.appendChild(go); row.appendChild(skip);
    box.appendChild(row);
    actions.appendChild(box);
    actions.classList.remove("hidden");
    contactInput.focus();
  }
  function refresh() {
    if (!token) return Promise.resolve();
    return call("GET", "conversation?since=" + lastId).then(load).catch(function (error) {
      if (error.status === 404) resetChat();
    });
  }
  function openLeave(fromChat) {
    var lastVisitor = body.querySelectorAll(".msg.visitor");
    buildLeaveForm(fromChat && lastVisitor.length ? lastVisitor[lastVisitor.length - 1].textContent : "");
    leaveForm.fromChat = !!fromChat;
    show("leave");
  }
  function leaveMessage() {
    var contact = splitContact(leaveForm.contactInput.value);
    leaveForm.err.textContent = "";
    var saved = token;
    if (!leaveForm.fromChat) token = null;
    call("POST", "leave-message", { name: leaveForm.nameInput.value.trim(), email: contact.email, phone: contact.phone, body: leaveForm.messageInput.value, page_url: location.href.slice(0, 500) })
      .then(function (data) {
        stopStream();
        token = null; store(null);
        show("chat"); body.innerHTML = ""; seen = {}; lastId = 0;
        load(data);
      })
      .catch(function (error) { token = saved; leaveForm.err.textContent = errorText(error); });
  }
  function resetChat() {
    stopStream();
    token = null; state = null; store(null); lastId = 0; seen = {};
    body.innerHTML = "";
    setHeader(); buildStartForm();
    if (!cfg.agents_online && !cfg.bot) openLeave(false); else show("start");
  }

  send.addEventListener("click", function () { sendText(input.value); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); sendText(input.value); }
  });
  launcher.addEventListener("click", function () { wrap.classList.add("open"); if (!token) (startForm.messageInput || input).focus(); });
  minimise.addEventListener("click", function () { wrap.classList.remove("open"); });

  fetch(api + "config?lang=" + lang, { credentials: "omit", mode: "cors" })
    .then(function (r) { if (!r.ok) throw new Error("config " + r.status); return r.json(); })
    .then(function (data) {
      cfg = data; S = data.strings || {};
      launcher.innerHTML = ICON;
      launcher.appendChild(el("span", "", S.launcher));
      launcher.setAttribute("aria-label", S.launcher);
      minimise.setAttribute("aria-label", S.close_panel); minimise.title = S.close_panel;
      send.textContent = S.send;
      input.placeholder = S.placeholder;
      brand.textContent = S.powered;
      setHeader();
      token = stored();
      if (token) {
        show("chat");
        refresh().then(function () {
          if (!token) return;
          if (state && (state.status === "bot" || state.status === "waiting" || state.status === "active")) { startStream(); }
        });
      } else {
        resetChat();
      }
      document.body.appendChild(host);
    })
    .catch(function () { /* the chat is unavailable: show nothing rather than a broken button */ });
})();
