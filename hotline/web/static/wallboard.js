// The wallboard page: renders each snapshot hotline pushes over /wallboard/ws (it never polls).
// Between snapshots only the clock and the longest waits tick, computed here from the join times.
// The websocket needs a login token (team leader, QA, QC, admin): without one the page shows a
// login form (POST /api/login) and keeps the token in sessionStorage, so it dies with the tab.
"use strict";

const TOKEN_KEY = "hotline.wallboard.token";
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;
let snapshot = null;
let skew = 0; // server clock - browser clock, seconds
let retry = 1000;

function get(obj, path) {
  return path.split(".").reduce((v, k) => (v == null ? v : v[k]), obj);
}

function duration(seconds) {
  if (seconds == null) return "–";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
}

function percent(value) {
  return value == null ? "–" : value.toFixed(1) + " %";
}

function formatHtml(value, how) {
  // The unit smaller than the number, so a big figure fits its tile on one line.
  if (how === "percent" && value != null) return value.toFixed(1) + '<span class="unit"> %</span>';
  return format(value, how);
}

function format(value, how) {
  if (how === "percent") return percent(value);
  if (how === "duration") return duration(value);
  return value == null ? "–" : String(value);
}

function now() {
  return Date.now() / 1000 + skew;
}

function waitClass(seconds) {
  const target = snapshot ? snapshot.targets.service_level_s : 20;
  if (seconds == null) return "";
  if (seconds > 3 * target) return "wait-bad";
  return seconds > target ? "wait-warn" : "";
}

function longest(oldestJoin) {
  return oldestJoin == null ? null : now() - oldestJoin;
}

function localTime(epoch, withSeconds) {
  const options = { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: snapshot.timezone };
  if (withSeconds) options.second = "2-digit";
  return new Intl.DateTimeFormat("en-GB", options).format(new Date(epoch * 1000));
}

function statusOf(flag) {
  return flag === true ? "ok" : flag === false ? "off" : "";
}

function cell(value, how, cls) {
  return `<td class="${cls || ""}">${format(value, how)}</td>`;
}

function siteHtml(site) {
  const states = ["available", "ringing", "talking", "paused", "offline"];
  const agents = states
    .map((s) => `<div class="agent ${s}"><div class="n" data-site-agents="${site.site}.${s}">${site.agents[s]}</div><div class="t">${s}</div></div>`)
    .join("");
  const rows = site.queues
    .map((q) => {
      const wait = longest(q.oldest_join);
      return `<tr>
        <td>${q.queue}</td>
        <td class="waiting" data-queue-waiting="${q.queue}">${q.waiting}</td>
        <td class="${waitClass(wait)}" data-wait-since="${q.oldest_join == null ? "" : q.oldest_join}">${duration(wait)}</td>
        ${cell(q.day.offered)}${cell(q.day.answered)}${cell(q.day.abandoned)}
        ${cell(q.day.scr, "percent", statusOf(q.day.scr_ok))}
        ${cell(q.day.aht, "duration", statusOf(q.day.aht_ok))}
        ${cell(q.day.service_level, "percent")}
      </tr>`;
    })
    .join("");
  const table = site.queues.length
    ? `<table><thead><tr><th>Queue</th><th>Waiting</th><th>Longest</th><th>Offered</th><th>Answered</th>
        <th>Abandoned</th><th>SCR</th><th>AHT</th><th>SL</th></tr></thead><tbody>${rows}</tbody></table>`
    : `<div class="empty">No queue activity yet</div>`;
  const d = site.day;
  return `<div class="site" data-site="${site.site}">
    <h2><span>${site.site.charAt(0).toUpperCase() + site.site.slice(1)}</span>
      <span class="kpis">24 h: <b>${d.offered}</b> offered · SCR <b>${percent(d.scr)}</b> · AHT <b>${duration(d.aht)}</b></span></h2>
    <div class="agents">${agents}</div>${table}</div>`;
}

function render() {
  if (!snapshot) return;
  document.querySelectorAll("[data-bind]").forEach((el) => {
    const path = el.dataset.bind;
    if (path === "clock" || path === "interval" || path === "total.longest") return;
    el.innerHTML = formatHtml(get(snapshot, path), el.dataset.format);
  });
  document.querySelectorAll("[data-status]").forEach((el) => {
    el.dataset.state = statusOf(get(snapshot, el.dataset.status));
  });
  const start = snapshot.interval_start;
  document.querySelector('[data-bind="interval"]').textContent =
    localTime(start, false) + "–" + localTime(start + snapshot.interval_s, false);
  document.getElementById("sites").innerHTML = snapshot.sites.map(siteHtml).join("");
  tick();
}

function tick() {
  if (!snapshot) return;
  document.querySelector('[data-bind="clock"]').textContent = localTime(now(), true);
  const wait = longest(snapshot.total.oldest_join);
  const total = document.querySelector('[data-bind="total.longest"]');
  total.textContent = duration(wait);
  total.className = waitClass(wait);
  document.querySelectorAll("[data-wait-since]").forEach((el) => {
    const since = el.dataset.waitSince;
    const seconds = since === "" ? null : now() - Number(since);
    el.textContent = duration(seconds);
    el.className = waitClass(seconds);
  });
}

function showLogin(message) {
  document.getElementById("login-message").textContent = message || "";
  document.getElementById("login").hidden = false;
  document.getElementById("login-username").focus();
}

async function logIn(event) {
  event.preventDefault();
  const button = document.getElementById("login-submit");
  const message = document.getElementById("login-message");
  button.disabled = true;
  message.textContent = "";
  try {
    const response = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        username: document.getElementById("login-username").value,
        password: document.getElementById("login-password").value,
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.token) {
      message.textContent = body.message || `Login failed (${response.status})`;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, body.token);
    document.getElementById("login-password").value = "";
    document.getElementById("login").hidden = true;
    retry = 1000;
    connect();
  } catch (error) {
    message.textContent = "hotline cannot be reached; try again";
  } finally {
    button.disabled = false;
  }
}

function connect() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    showLogin("");
    return;
  }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/wallboard/ws`);
  const link = document.getElementById("link");
  // The token goes in the first message, not the URL, so it stays out of access logs.
  ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: token }));
  ws.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type !== "wallboard") return;
    retry = 1000;
    link.className = "link up";
    skew = data.now - Date.now() / 1000;
    snapshot = data;
    window.wallboardUpdates = (window.wallboardUpdates || 0) + 1;
    render();
  };
  ws.onclose = (event) => {
    link.className = "link down";
    if (event.code === CLOSE_UNAUTHORIZED || event.code === CLOSE_FORBIDDEN) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(
        event.code === CLOSE_FORBIDDEN
          ? "This account may not see the wallboard (team leaders, QA, QC and admins may)."
          : "Your session has ended: please log in again."
      );
      return;
    }
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 15000);
  };
}

document.getElementById("login-form").addEventListener("submit", logIn);
setInterval(tick, 1000);
connect();
