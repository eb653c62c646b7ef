// The Runtime panel page, served from the package (no CDN): one HTML document and one script.
import { MASKED } from "../../redaction/sensitive.js";

export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Runtime — strata-secrets</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d232b; background: #f6f7f9; }
  body { margin: 0 auto; max-width: 60rem; padding: 1rem; }
  h1 { font-size: 1.25rem; margin: 0 0 1rem; }
  h2 { font-size: 1.05rem; margin: 0 0 .75rem; }
  section { background: #fff; border: 1px solid #d8dde3; border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: .35rem .25rem; border-bottom: 1px solid #eef0f3; vertical-align: middle; }
  input, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid #b8c0ca; border-radius: 6px; max-width: 100%; box-sizing: border-box; }
  input { width: 100%; }
  button { background: #fff; cursor: pointer; }
  button.primary { background: #1f6feb; border-color: #1f6feb; color: #fff; }
  button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #8cb6ff; outline-offset: 1px; }
  .badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .1rem .45rem; border-radius: 999px; background: #e7eaee; color: #39424e; }
  .badge.fetched { background: #d8f5df; color: #116329; }
  .note { font-size: .8rem; color: #8a5a00; }
  .refused { color: #b42318; }
  .error { color: #b42318; }
  .ok { color: #116329; }
  .row-actions, .actions { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: .75rem; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .75rem; }
  label { display: block; font-size: .85rem; margin-bottom: .2rem; }
  pre { background: #0f1419; color: #e6e6e6; padding: .5rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; }
  .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  #banner { display: none; background: #fff8e1; border: 1px solid #f0c36d; padding: .5rem; border-radius: 6px; margin-bottom: .75rem; }
  @media (max-width: 600px) {
    thead { display: none; }
    tr { display: grid; grid-template-columns: 1fr 1fr; gap: .25rem; padding: .5rem 0; border-bottom: 1px solid #eef0f3; }
    td { border: 0; }
    td.value { grid-column: 1 / -1; }
  }
</style>
</head>
<body>
<h1>Runtime</h1>
<div id="banner" role="status">notebook.toml changed while you were editing. <button type="button" id="reload">Show the new values</button></div>
<section aria-labelledby="env-title">
  <h2 id="env-title">Environment</h2>
  <table>
    <thead><tr><th scope="col">Name</th><th scope="col">Value</th><th scope="col">Source</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
    <tbody id="rows"></tbody>
  </table>
  <div class="row-actions">
    <button type="button" id="add">Add variable</button>
    <button type="button" class="primary" id="save-env">Save</button>
    <span id="env-msg" aria-live="polite"></span>
  </div>
</section>
<section aria-labelledby="sm-title">
  <h2 id="sm-title">Secret manager</h2>
  <form id="sm" class="grid">
    <div><label for="provider">Provider</label><select id="provider" name="provider"></select></div>
    <div id="sm-fields" class="grid" style="grid-column: 1 / -1"></div>
  </form>
  <div class="actions">
    <button type="button" class="primary" id="save-sm">Save</button>
    <button type="button" id="disconnect">Disconnect</button>
    <button type="button" id="refresh">Refresh</button>
  </div>
  <p id="sm-status" aria-live="polite"></p>
</section>
<section aria-labelledby="run-title">
  <h2 id="run-title">Cells</h2>
  <button type="button" id="run">Run all</button>
  <div id="cells" aria-live="polite"></div>
</section>
<script src="/app.js"></script>
</body>
</html>
`;

export const SCRIPT = `"use strict";
const MASKED = ${JSON.stringify(MASKED)};
let state = null;
let dirty = false;
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const res = await fetch(path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
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
  $("banner").style.display = "none";
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
    show(await api("PUT", "/api/env", { env }));
    $("env-msg").textContent = "Saved";
  } catch (e) {
    $("env-msg").textContent = e.message;
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

async function runAll() {
  $("cells").textContent = "Running…";
  try {
    const { cells } = await api("POST", "/api/run");
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
$("run").addEventListener("click", runAll);
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
