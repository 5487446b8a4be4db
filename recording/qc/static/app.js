// The QC page: the day's sample, one call's audio and scoring form, submit and amend.
// Plain browser JavaScript, no build step. Everything shown from the server goes through
// textContent (never innerHTML), so a name in the data cannot become markup.
"use strict";

const CHOICES = [["100", "Yes"], ["50", "Partly"], ["0", "No"], ["", "n/a"]];
const state = { token: sessionStorage.getItem("qc.token"), me: null, form: null, call: null };
const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  if (state.token) headers.Authorization = "Bearer " + state.token;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401 && path !== "/api/login") logout();
  const body = (response.headers.get("Content-Type") || "").includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error((body && body.message) || response.statusText);
  return body;
}

function localTime(epoch) {
  return new Date(epoch * 1000).toLocaleString("en-GB", { timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit", day: "2-digit", month: "short" });
}

function scoreBadge(total) {
  if (total === null || total === undefined) return el("span", "not scored", "badge");
  const target = state.form ? state.form.target : 90;
  return el("span", total.toFixed(1), "badge " + (total >= target ? "good" : "bad"));
}

// -- session ---------------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const body = await api("/api/login", { method: "POST", body: { username: $("username").value, password: $("password").value } });
    state.token = body.token;
    sessionStorage.setItem("qc.token", body.token);
    await start();
  } catch (error) {
    $("login-error").textContent = error.message;
  }
}

function logout() {
  state.token = null;
  sessionStorage.removeItem("qc.token");
  $("qc-view").hidden = true;
  $("logout").hidden = true;
  $("login-view").hidden = false;
  $("who").textContent = "";
}

async function start() {
  state.me = await api("/api/me");
  state.form = await api("/api/qc/form");
  $("who").textContent = state.me.username + " · " + state.me.role.replace("_", " ") + (state.me.team ? " · team " + state.me.team : "");
  $("login-view").hidden = true;
  $("qc-view").hidden = false;
  $("logout").hidden = false;
  $("draw").hidden = !["qc", "admin"].includes(state.me.role);
  if (!$("day").value) $("day").value = new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Jakarta" });
  await loadSample();
}

// -- the sample ------------------------------------------------------------------------------

async function loadSample(event) {
  if (event) event.preventDefault();
  const body = await api("/api/qc/samples?date=" + encodeURIComponent($("day").value));
  const rows = $("sample").querySelector("tbody");
  rows.replaceChildren();
  for (const call of body.items) {
    const tr = el("tr");
    tr.dataset.id = call.id;
    tr.append(el("td", call.agent_name ? call.agent_name + " (" + call.agent + ")" : call.agent), el("td", localTime(call.started_at)), el("td", call.queue));
    const hours = el("td");
    hours.append(el("span", call.stratum === "peak" ? "peak" : "off-peak", "badge " + call.stratum));
    const qm = el("td", null, "num");
    qm.append(scoreBadge(call.review ? call.review.total : null));
    tr.append(hours, qm);
    tr.addEventListener("click", () => openCall(call.id));
    if (state.call && state.call.id === call.id) tr.classList.add("selected");
    rows.append(tr);
  }
  const scored = body.items.filter((c) => c.review).length;
  $("sample-note").textContent = body.items.length
    ? body.items.length + " calls, " + scored + " scored · target " + body.target
    : "No sample for this day yet.";
}

async function draw() {
  const summary = await api("/api/qc/samples", { method: "POST", body: { date: $("day").value } });
  $("sample-note").textContent = "Drew " + summary.drawn + " calls (" + summary.peak_calls + " peak, " + summary.offpeak_calls + " off-peak).";
  await loadSample();
}

// -- one call --------------------------------------------------------------------------------

function renderFacts(call) {
  const facts = $("call-facts");
  facts.replaceChildren();
  const duration = call.handle_s ? Math.round(call.handle_s) + " s" : "–";
  for (const [term, value] of [["Agent", (call.agent_name || call.agent) + (call.team ? " · team " + call.team : "")], ["Answered", localTime(call.started_at)], ["Queue", call.queue], ["Handling", duration], ["Caller", call.caller_number || "–"], ["Call id", call.call_key]]) {
    facts.append(el("dt", term), el("dd", value));
  }
}

async function loadAudio(call) {
  const audio = $("audio");
  audio.removeAttribute("src");
  audio.hidden = !call.listen_url;
  $("audio-note").textContent = call.listen_url ? "" : "No recording in the archive for this call (" + (call.recording_status || "not recorded") + ").";
  if (!call.listen_url) return;
  // An <audio> element cannot send the bearer token: ask for a short-lived URL scoped to this one
  // recording, so the browser streams it with Range requests (seek without downloading it whole).
  try {
    const grant = await api(call.listen_url, { method: "POST" });
    audio.src = grant.url;
  } catch (error) {
    $("audio-note").textContent = "The recording cannot be played (" + error.message + ").";
  }
}

function renderCriteria(ratings) {
  const box = $("criteria");
  box.replaceChildren();
  for (const criterion of state.form.criteria) {
    const row = el("div", null, "criterion");
    const label = el("div", criterion.label, "label");
    label.append(el("small", "weight " + criterion.weight));
    const choices = el("div", null, "choices");
    for (const [value, text] of CHOICES) {
      const option = el("label", text);
      const input = el("input");
      input.type = "radio";
      input.name = "c-" + criterion.key;
      input.value = value;
      input.dataset.criterion = criterion.key;
      const current = ratings ? ratings[criterion.key] : undefined;
      input.checked = current === undefined ? value === "100" : (current === null ? value === "" : String(current) === value);
      input.addEventListener("change", updateTotal);
      option.prepend(input);
      choices.append(option);
    }
    row.append(label, choices);
    box.append(row);
  }
  updateTotal();
}

function collectRatings() {
  const ratings = {};
  for (const criterion of state.form.criteria) {
    const checked = document.querySelector('input[name="c-' + criterion.key + '"]:checked');
    ratings[criterion.key] = checked && checked.value !== "" ? Number(checked.value) : null;
  }
  return ratings;
}

function updateTotal() {
  const ratings = collectRatings();
  let weights = 0;
  let points = 0;
  for (const criterion of state.form.criteria) {
    if (ratings[criterion.key] === null) continue;
    weights += criterion.weight;
    points += criterion.weight * ratings[criterion.key];
  }
  const total = weights ? Math.round((points / weights) * 10) / 10 : null;
  const shown = $("total");
  shown.textContent = total === null ? "–" : total.toFixed(1);
  shown.className = total === null ? "" : total >= state.form.target ? "good" : "bad";
  $("target").textContent = "target " + state.form.target;
}

function renderHistory(scores) {
  const box = $("history");
  box.replaceChildren();
  if (!scores.length) return;
  box.append(el("h3", "Scores"));
  const newest = {};
  for (const score of scores) newest[score.kind] = score.id;
  for (const score of scores) {
    const entry = el("div", null, "entry" + (newest[score.kind] === score.id ? " current" : ""));
    const what = score.amends_id ? "amendment of #" + score.amends_id : score.kind;
    entry.append(el("div", "#" + score.id + " · " + what + " · " + score.total.toFixed(1) + " by " + score.scorer + " (" + score.scorer_role.replace("_", " ") + "), " + localTime(score.created_at)));
    if (score.reason) entry.append(el("div", "Reason: " + score.reason, "muted"));
    if (score.comment) entry.append(el("div", score.comment, "muted"));
    box.append(entry);
  }
}

function currentScore(call, kind) {
  const own = call.scores.filter((s) => s.kind === kind);
  return own.length ? own[own.length - 1] : null;
}

function scoringKind(call) {
  if (state.me.role === "qc" && call.calibration_pick && call.review) return "calibration";
  return "review";
}

async function openCall(id) {
  const call = await api("/api/qc/calls/" + id);
  state.call = call;
  for (const tr of $("sample").querySelectorAll("tbody tr")) tr.classList.toggle("selected", Number(tr.dataset.id) === id);
  $("call-empty").hidden = true;
  $("call-body").hidden = false;
  $("call-title").textContent = "Call #" + call.id;
  const badge = $("call-badge");
  badge.textContent = call.stratum === "peak" ? "peak hours" : "off-peak";
  badge.className = "badge " + call.stratum;
  renderFacts(call);
  const kind = scoringKind(call);
  const existing = currentScore(call, kind);
  const canScore = ["qc", "team_leader"].includes(state.me.role);
  renderCriteria(existing ? existing.ratings : null);
  $("comment").value = existing ? existing.comment : "";
  $("reason-label").hidden = true;
  $("reason").value = "";
  $("submit").hidden = !canScore || Boolean(existing);
  $("submit").textContent = kind === "calibration" ? "Submit calibration score" : "Submit score";
  $("amend").hidden = !canScore || !existing;
  $("score-status").textContent = existing ? "Scored " + existing.total.toFixed(1) + "; a change is an amendment with a reason." : "";
  $("score-status").className = "";
  renderHistory(call.scores);
  await loadAudio(call);
}

async function submitScore(event) {
  event.preventDefault();
  const call = state.call;
  const kind = scoringKind(call);
  const amending = !$("reason-label").hidden;
  const body = { ratings: collectRatings(), comment: $("comment").value };
  const status = $("score-status");
  try {
    let saved;
    if (amending) {
      body.reason = $("reason").value;
      saved = await api("/api/qc/scores/" + currentScore(call, kind).id + "/amendments", { method: "POST", body });
    } else {
      body.kind = kind;
      saved = await api("/api/qc/calls/" + call.id + "/scores", { method: "POST", body });
    }
    await loadSample();
    await openCall(call.id);
    status.textContent = (amending ? "Amended: " : "Submitted: ") + saved.total.toFixed(1);
    status.className = "ok";
  } catch (error) {
    status.textContent = error.message;
    status.className = "error";
  }
}

function startAmend() {
  $("reason-label").hidden = false;
  $("submit").hidden = false;
  $("submit").textContent = "Submit amendment";
  $("amend").hidden = true;
  $("reason").focus();
}

$("login").addEventListener("submit", login);
$("logout").addEventListener("click", logout);
$("day-form").addEventListener("submit", loadSample);
$("draw").addEventListener("click", () => draw().catch((e) => { $("sample-note").textContent = e.message; }));
$("score-form").addEventListener("submit", submitScore);
$("amend").addEventListener("click", startAmend);
if (state.token) start().catch(logout);
