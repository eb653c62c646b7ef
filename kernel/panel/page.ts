// The Runtime panel page, served from the package (no CDN): one HTML document; its script
// is in script.ts.
export { SCRIPT } from "./script.js";

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
  <div id="stale" aria-live="polite" hidden>
    <ul id="stale-list"></ul>
    <button type="button" id="rerun-stale">Re-run stale cells</button>
  </div>
  <div id="cells" aria-live="polite"></div>
</section>
<script src="/app.js"></script>
</body>
</html>
`;
