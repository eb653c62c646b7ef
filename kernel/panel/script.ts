// The Runtime panel's script (served as /app.js; the page's CSP forbids inline script).
import { MASKED } from "../../redaction/sensitive.js";

export const SCRIPT = `"use strict";
const MASKED = ${JSON.stringify(MASKED)};
let state = null;
let dirty = false;
/** The revision of the values on screen: a save based on an older one is refused (409). */
let shown = null;
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const res = await fetch(path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.error || res.statusText), { state: data.state, status: res.status });
  return data;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const c of children) node.append(c);
  return node;
}

function rowElement(key, value, row) {
  const fetched = row && row.source !== "manual";
  const hidden = value === MASKED || !!(row && row.refused);
  const secret = (row && row.hidden) || hidden;
  const tr = el("tr");
  tr.dataset.key = key;
  tr.dataset.masked = hidden ? "1" : "";
  const name = el("input", { value: key, readOnly: !!row, "aria-label": "Name" });
  name.className = "name";
  const input = el("input", { type: secret ? "password" : "text", value: hidden ? "" : value, placeholder: hidden ? "set — hidden" : "", autocomplete: "off" });
  input.className = "val";
  input.setAttribute("aria-label", "Value of " + (key || "new variable"));
  input.addEventListener("input", () => { tr.dataset.masked = ""; markDirty(); });
  name.addEventListener("input", markDirty);
  const badge = el("span", { textContent: fetched ? row.source.toUpperCase() : "manual" });
  badge.className = "badge" + (fetched ? " fetched" : "");
  const source = el("td", {}, badge);
  if (row && row.stale) source.append(" ", el("span", { className: "note", textContent: "stale" }));
  if (row && row.refused) source.append(" ", el("span", { className: "note refused", textContent: "refused: " + row.refused }));
  const remove = el("button", { type: "button", textContent: "Remove" });
  remove.setAttribute("aria-label", "Remove " + (key || "new variable"));
  remove.addEventListener("click", () => { tr.remove(); markDirty(); });
  tr.append(el("td", {}, name), el("td", { className: "value" }, input), source, el("td", {}, remove));
  return tr;
}

function markDirty() { dirty = true; }

function render() {
  if (!state) return;
  const rows = $("rows");
  rows.replaceChildren();
  const byKey = new Map(state.rows.map((r) => [r.key, r]));
  for (const r of state.rows) rows.append(rowElement(r.key, state.env[r.key] ?? "", r));
  for (const [k, v] of Object.entries(state.env)) if (!byKey.has(k)) rows.append(rowElement(k, v, null));
  const sm = state.secretManager;
  renderProvider(sm.config || {});
  const status = $("sm-status");
  status.className = sm.error ? "error" : "ok";
  status.textContent = sm.fetching ? "Fetching…" : sm.error ? sm.error : sm.fetchedAt ? "Last refreshed " + new Date(sm.fetchedAt).toLocaleString() : sm.config ? "Not fetched yet" : "Not connected";
  status.dataset.fetchedAt = sm.fetchedAt || "";
  dirty = false;
  shown = state.revision;
  $("banner").style.display = "none";
  renderStale(state.stale || []);
}

/** Cells that ran with a value that has since changed: "cell-2 ran with an older API_KEY". */
function renderStale(stale) {
  $("stale").hidden = stale.length === 0;
  $("stale-list").replaceChildren(...stale.map((c) => el("li", { className: "stale-cell", textContent: c.id + " ran with an older " + c.keys.join(", ") })));
}

function show(next) {
  state = next;
  render();
}

async function saveEnv() {
  const env = {};
  for (const tr of $("rows").querySelectorAll("tr")) {
    const key = tr.querySelector(".name").value.trim();
    if (!key) continue;
    env[key] = tr.dataset.masked ? MASKED : tr.querySelector(".val").value;
  }
  $("env-msg").textContent = "Saving…";
  try {
    show(await api("PUT", "/api/env", { env, revision: shown }));
    $("env-msg").textContent = "Saved";
    $("env-msg").className = "ok";
  } catch (e) {
    if (e.status === 409 && e.state) {
      // Someone changed notebook.toml meanwhile: show what is there now; nothing was saved.
      show(e.state);
      $("env-msg").textContent = "Not saved: notebook.toml changed meanwhile. These are the current values; make your change again.";
    } else {
      $("env-msg").textContent = e.message;
    }
    $("env-msg").className = "error";
  }
}

/** The form of the selected provider, built from its fields (the provider's config schema). */
function renderProvider(cfg) {
  const select = $("provider");
  if (select.options.length !== state.providers.length) select.replaceChildren(...state.providers.map((p) => el("option", { value: p.name, textContent: p.badge })));
  select.value = cfg.provider || (state.providers[0] && state.providers[0].name) || "";
  fillFields(cfg);
}

function fillFields(cfg) {
  const provider = state.providers.find((p) => p.name === $("provider").value);
  $("sm-fields").replaceChildren(...(provider ? provider.fields : []).map((f) => fieldElement(f, cfg[f.key])));
}

function fieldElement(f, value) {
  const id = "sm-" + f.key;
  const parts = [el("label", { htmlFor: id, textContent: f.title })];
  let input;
  if (f.type === "choice") {
    input = el("select", { id }, el("option", { value: "", textContent: "(default)" }), ...f.choices.map((c) => el("option", { value: c, textContent: c })));
    input.value = value === undefined ? "" : String(value);
  } else if (f.type === "boolean") {
    input = el("input", { id, type: "checkbox", checked: value === true });
  } else {
    input = el("input", { id, type: f.type === "integer" ? "number" : "text", value: value === undefined ? "" : String(value), autocomplete: "off" });
  }
  parts.push(input);
  if (f.examples && input.tagName === "INPUT") {
    const list = el("datalist", { id: id + "-list" }, ...f.examples.map((x) => el("option", { value: x })));
    input.setAttribute("list", list.id);
    parts.push(list);
  }
  parts.push(hint(f));
  return el("div", {}, ...parts);
}

function hint(f) {
  return el("small", { className: "note", textContent: f.description || "" });
}

function formConfig() {
  const body = { provider: $("provider").value };
  for (const input of $("sm-fields").querySelectorAll("input, select")) {
    const key = input.id.slice(3);
    if (input.type === "checkbox") body[key] = input.checked;
    else body[key] = input.type === "number" && input.value !== "" ? Number(input.value) : input.value;
  }
  return body;
}

async function saveSecretManager(disconnect) {
  const body = disconnect ? {} : formConfig();
  $("sm-status").textContent = disconnect ? "Disconnecting…" : "Saving and fetching…";
  try { show(await api("PUT", "/api/secret-manager", body)); } catch (e) { $("sm-status").textContent = e.message; $("sm-status").className = "error"; }
}

async function runAll(onlyStale) {
  $("cells").textContent = "Running…";
  try {
    const { cells, state: next } = await api("POST", onlyStale ? "/api/run-stale" : "/api/run");
    if (next) show(next);
    if (cells.length === 0) { $("cells").textContent = "This notebook has no cells."; return; }
    $("cells").replaceChildren(...cells.map((c) => el("div", {},
      el("h3", { textContent: c.id + (c.ok ? "" : " — failed"), className: c.ok ? "" : "error" }),
      el("pre", { textContent: (c.stdout || "") + (c.stderr || "") || "(no output)" }))));
  } catch (e) { $("cells").textContent = e.message; }
}

$("add").addEventListener("click", () => { const tr = rowElement("", "", null); $("rows").append(tr); tr.querySelector(".name").focus(); markDirty(); });
$("save-env").addEventListener("click", saveEnv);
$("save-sm").addEventListener("click", () => saveSecretManager(false));
$("disconnect").addEventListener("click", () => saveSecretManager(true));
$("refresh").addEventListener("click", async () => { $("sm-status").textContent = "Fetching…"; show(await api("POST", "/api/secret-manager/refresh")); });
$("run").addEventListener("click", () => runAll(false));
$("rerun-stale").addEventListener("click", () => runAll(true));
$("reload").addEventListener("click", render);
// Another provider's keys mean other things (Vault's path is not Infisical's): start empty.
$("provider").addEventListener("change", () => fillFields({}));
$("sm").addEventListener("submit", (e) => { e.preventDefault(); saveSecretManager(false); });

const events = new EventSource("/api/events");
events.addEventListener("state", (e) => {
  state = JSON.parse(e.data);
  if (dirty) $("banner").style.display = "block";
  else render();
});
`;
