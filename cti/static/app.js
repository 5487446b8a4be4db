// hotline agent console: log in, watch the CTI websocket, send commands (docs/cti-protocol.md).
// No framework and no build step: the page is served as is by hotline.
"use strict";

const $ = (id) => document.getElementById(id);
const store = window.sessionStorage; // a refresh keeps the session; closing the tab ends it
const ui = { ws: null, token: null, lastId: 0, call: null, lastCall: null, refs: 0, pending: {}, retry: 1000 };

function say(text, isError) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

function fmtTime(iso) {
  return iso ? new Date(iso).toLocaleTimeString("id-ID", { hour12: false }) : "–";
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  const body = JSON.stringify({ username: $("username").value, password: $("password").value });
  try {
    const response = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || data.error || `login failed (${response.status})`);
    store.setItem("token", data.token);
    store.setItem("lastId", "0");
    $("password").value = "";
    start();
  } catch (error) {
    $("login-error").textContent = error.message;
  }
}

function logout() {
  store.clear();
  if (ui.ws) ui.ws.close(1000);
  location.reload();
}

function start() {
  ui.token = store.getItem("token");
  ui.lastId = Number(store.getItem("lastId") || 0);
  $("login-view").hidden = Boolean(ui.token);
  $("console-view").hidden = !ui.token;
  $("logout").hidden = !ui.token;
  if (ui.token) connect();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/cti/ws`);
  ui.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: ui.token, last_id: ui.lastId }));
  ws.onmessage = (frame) => receive(JSON.parse(frame.data));
  ws.onclose = (close) => {
    document.body.dataset.connected = "0";
    $("link").textContent = `offline (${close.code})`;
    if (close.code === 4401 || close.code === 4403) {
      store.removeItem("token");
      say("Session ended: log in again.", true);
      setTimeout(start, 500);
    } else if (ui.ws === ws) {
      setTimeout(connect, ui.retry); // Wi-Fi blip or restart: come back with the last id seen
      ui.retry = Math.min(ui.retry * 2, 15000);
    }
  };
}

function send(type, body) {
  if (!ui.ws || ui.ws.readyState !== WebSocket.OPEN) return say("Not connected.", true);
  const ref = ++ui.refs;
  ui.pending[ref] = type;
  ui.ws.send(JSON.stringify({ type, ref, ...(body || {}) }));
}

function receive(message) {
  if (typeof message.id === "number" && message.id > ui.lastId) {
    ui.lastId = message.id;
    store.setItem("lastId", String(message.id));
  }
  const handler = handlers[message.type];
  if (handler) handler(message);
}

const handlers = {
  hello(m) {
    document.body.dataset.connected = "1";
    ui.retry = 1000;
    $("link").textContent = "online";
    ui.iface = m.iface;
    $("who").textContent = `${m.agent} · ${m.iface || m.role}${m.team ? " · " + m.team : ""}`;
    fill($("reason"), m.pause_reasons || []);
    fill($("disp-category"), m.dispositions || []);
    fill($("transfer-queue"), m.transfer_queues || [], "number…");
    send("calls.recent");
  },
  "agent.state"(m) {
    if (m.iface !== ui.iface) return; // a team leader's socket also carries the team's states
    const badge = $("state");
    badge.textContent = m.state.replace("_", " ") + (m.reason ? `: ${m.reason}` : "");
    badge.className = `badge state-${m.state}`;
    document.body.dataset.state = m.state;
    const rows = (m.queues || []).map((q) => `<tr><td>${esc(q.queue)}</td><td>${q.paused ? "paused" + (q.reason ? ": " + esc(q.reason) : "") : "ready"}</td></tr>`);
    $("queues").tBodies[0].innerHTML = rows.join("") || '<tr><td colspan="2" class="muted">not in any queue</td></tr>';
  },
  "call.ringing"(m) {
    ui.call = { id: m.call_id, number: m.caller.number, name: m.caller.name, queue: m.queue };
    showPop(m, "ringing");
  },
  "call.updated"(m) { if (sameCall(m) || (!ui.call && ui.lastCall && ui.lastCall.id === m.call_id)) showEnrichment(m); },
  "call.answered"(m) { if (sameCall(m)) setCallState("talking"); },
  "call.held"(m) { if (sameCall(m)) setCallState("held"); },
  "call.resumed"(m) { if (sameCall(m)) setCallState("talking"); },
  "call.transferred"(m) { say(`Transferred to ${m.to || "?"} (${m.kind}).`); },
  "call.cancelled"(m) { if (sameCall(m)) endCall(`missed: ${m.reason}`); },
  "call.ended"(m) { if (sameCall(m)) endCall(`ended by ${m.reason || "?"}`); send("calls.recent"); },
  "wrapup.started"() { say("Wrap-up: file the disposition."); },
  "replay.gap"() { say("Some events were too old to replay; the state shown is current.", true); },
  result(m) {
    delete ui.pending[m.ref];
    if (m.command === "calls.recent") return showRecent(m.calls || []);
    if (m.ok) say(m.message || `${m.command}: done`);
    else say(`${m.command}: ${m.message || m.code}`, true);
  },
  error(m) { say(`${m.code}: ${m.message}`, true); },
};

function esc(text) {
  return String(text ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function fill(select, values, first) {
  select.innerHTML = (first ? `<option value="">${esc(first)}</option>` : "") + values.map((v) => `<option>${esc(v)}</option>`).join("");
}

function sameCall(m) { return ui.call && ui.call.id === m.call_id; }

function showPop(m, state) {
  $("pop-number").textContent = m.caller.number || "unknown";
  $("pop-name").textContent = m.caller.name || "–";
  $("pop-queue").textContent = m.queue || "–";
  $("pop-ivr").textContent = m.ivr && (m.ivr.path || m.ivr.choice) ? `${m.ivr.choice || ""} (${m.ivr.path || ""})` : "–";
  $("pop-waited").textContent = m.waited_s == null ? "–" : `${m.waited_s} s`;
  $("pop-call").textContent = m.call_id || "–";
  $("pop").dataset.call = m.call_id || "";
  $("disp-call").textContent = `${m.caller.number || "unknown"} · ${m.call_id}`;
  showEnrichment(m);
  setCallState(state);
}

// The pop's enrichment, and each call.updated after it: only the parts a message carries change.
function showEnrichment(m) {
  if ("site" in m) $("pop-site").textContent = m.site ? `· ${m.site}` : "";
  if ("customer" in m) showCustomer(m.customer);
  if ("tickets" in m) {
    const tickets = (m.tickets || []).map((t) => `<span class="badge" title="${esc(t.summary)}">${esc(t.key)}${t.status ? ": " + esc(t.status) : ""}</span>`);
    $("pop-tickets").innerHTML = tickets.length ? "Open tickets: " + tickets.join(" ") : "";
  }
  if ("history" in m) showHistory(m.history);
  const e = m.enrichment || {};
  const waiting = Object.keys(e).filter((part) => e[part] === "pending");
  const failed = Object.keys(e).filter((part) => e[part] === "unavailable");
  $("enrich-state").textContent = [waiting.length ? `looking up ${waiting.join(", ")}…` : "", failed.length ? `${failed.join(", ")} unavailable` : ""].filter(Boolean).join(" · ");
}

function showCustomer(c) {
  if (!c) { $("pop-customer").textContent = "–"; $("pop-products").textContent = ""; return; }
  const check = c.verified === true ? "verified" : c.verified === false ? "NOT verified" : "not asked";
  $("pop-customer").textContent = `${c.name || "?"} · ${c.number || "?"} (${check})`;
  $("pop-products").textContent = (c.products || []).map((p) => `${p.product} ${p.contract} ${p.status}`).join(" · ");
}

function showHistory(contacts) {
  if (!contacts) {
    $("pop-history").tBodies[0].innerHTML = '<tr><td colspan="6" class="muted">history not known (yet)</td></tr>';
    return;
  }
  const rows = contacts.map((c) => {
    const notes = (c.dispositions || []).map((d) => `${esc(d.category)}: ${esc(d.notes)}`).join("; ");
    return `<tr><td>${esc(new Date(c.at).toLocaleString("id-ID", { hour12: false }))}</td><td>${esc(c.queue)}</td><td>${esc(c.agent || "–")}</td><td>${esc(c.outcome)}</td><td>${c.handle_s == null ? "–" : Math.round(c.handle_s) + " s"}</td><td>${notes || "–"}</td></tr>`;
  });
  $("pop-history").tBodies[0].innerHTML = rows.join("") || '<tr><td colspan="6" class="muted">first contact</td></tr>';
}

function setCallState(state) {
  $("pop").className = `card ${state}`;
  $("call-state").textContent = state;
  document.body.dataset.call = state;
}

function endCall(text) {
  ui.lastCall = ui.call;
  ui.call = null;
  setCallState(text.startsWith("missed") ? "missed" : "ended");
  $("call-state").textContent = text;
  if (ui.lastCall) $("disp-call").textContent = `${ui.lastCall.number || "unknown"} · ${ui.lastCall.id}`;
}

function showRecent(calls) {
  const rows = calls.map((c) => `<tr><td>${fmtTime(c.at)}</td><td>${esc(c.caller && c.caller.number)}</td><td>${esc(c.queue || "–")}</td><td>${c.talk_s == null ? "–" : c.talk_s + " s"}</td></tr>`);
  $("recent").tBodies[0].innerHTML = rows.join("") || '<tr><td colspan="4" class="muted">no calls yet</td></tr>';
}

function callId() { return (ui.call || {}).id; }

function wire() {
  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("ready").addEventListener("click", () => send("state.ready"));
  $("not-ready").addEventListener("click", () => send("state.not_ready", { reason: $("reason").value }));
  $("end-wrapup").addEventListener("click", () => send("wrapup.end"));
  $("queue-login").addEventListener("click", () => send("queue.login"));
  $("queue-logout").addEventListener("click", () => send("queue.logout"));
  $("hold").addEventListener("click", () => send("call.hold", { call_id: callId() }));
  $("resume").addEventListener("click", () => send("call.resume", { call_id: callId() }));
  $("hangup").addEventListener("click", () => send("call.hangup", { call_id: callId() }));
  $("transfer").addEventListener("submit", (event) => {
    event.preventDefault();
    const queue = $("transfer-queue").value;
    const target = queue ? { queue } : { to: $("transfer-to").value.trim() };
    send("call.transfer", { call_id: callId(), kind: $("transfer-kind").value, ...target });
  });
  $("dial").addEventListener("submit", (event) => {
    event.preventDefault();
    send("call.dial", { number: $("dial-number").value.trim() });
  });
  $("disposition").addEventListener("submit", (event) => {
    event.preventDefault();
    const call = ui.call || ui.lastCall;
    if (!call) return say("No call to file yet.", true);
    send("call.disposition", { call_id: call.id, category: $("disp-category").value, notes: $("disp-notes").value });
  });
}

wire();
start();
