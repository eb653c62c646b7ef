import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InfisicalServer } from "../fixtures/infisical-server/index.js";
import { createKernel, type Kernel } from "../kernel/kernel.js";
import { startPanel, type Panel } from "../kernel/panel/server.js";
import { createSecretManagerPlugin, type SecretManagerPlugin } from "../plugin/index.js";
import { CANARY, canariesIn, canaryFilesUnder, identityCredentials, notebookToml, PROJECT, runsWith, startFixture, tempDir, waitFor, writeNotebook } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const CELLS = '[[cells]]\nid = "show"\nfile = "show.js"\n';
const available = runsWith(existsSync(CHROMIUM), `panel browser test: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.runIf(available)("Runtime panel in headless Chromium", () => {
  let server: InfisicalServer;
  let dir: string;
  let shots: string;
  let cleanups: (() => Promise<void>)[] = [];
  let plugin: SecretManagerPlugin;
  let kernel: Kernel;
  let panel: Panel;
  let browser: Browser;

  beforeAll(async () => {
    server = await startFixture();
    const nb = await tempDir();
    const out = await tempDir("strata-shots-");
    dir = nb.dir;
    shots = out.dir;
    cleanups = [nb.cleanup, out.cleanup];
    await writeNotebook(dir, notebookToml({ extra: CELLS }));
    await mkdir(join(dir, "cells"));
    await writeFile(join(dir, "cells", "show.js"), 'console.log("app secret:", process.env.APP_SECRET ?? "none");\n');
    plugin = createSecretManagerPlugin({ notebookDir: dir, credentials: identityCredentials(server), onEvent: () => panel?.notify() });
    await plugin.open();
    kernel = createKernel({ notebookDir: dir, plugins: [plugin], echo: false });
    panel = await startPanel({ plugin, kernel });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  });
  afterAll(async () => {
    let leaked: string[] = [];
    try {
      await browser?.close();
      await panel?.close();
      kernel?.close();
      await plugin?.close();
      leaked = await canaryFilesUnder(dir);
    } finally {
      await server.close();
      for (const c of cleanups) await c();
    }
    expect(leaked).toEqual([]);
  });

  it("shows badges, saves a new path from the form, follows a disk edit live, refreshes, runs cells", async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 800 } });
    page.setDefaultTimeout(8_000);
    const bodies: string[] = [];
    page.on("response", async (res) => {
      if (res.headers()["content-type"]?.includes("event-stream")) return;
      bodies.push(await res.text().catch(() => ""));
    });
    await page.goto(panel.url);
    await page.waitForSelector('tr[data-key="OPENAI_API_KEY"] .badge.fetched');
    expect(await page.locator(".badge.fetched").allTextContents()).toEqual(["INFISICAL", "INFISICAL", "INFISICAL"]);
    expect(await page.locator('tr[data-key="OPENAI_API_KEY"] input.val').getAttribute("type")).toBe("password");
    // Readable at 360 px: nothing wider than the viewport.
    // Page-side expressions are strings: this test compiles without the DOM library.
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(360);

    // Save a new [secret_manager] path from the form, using the keyboard for the button.
    await page.fill("#sm-path", "/app");
    await page.focus("#save-sm");
    await page.keyboard.press("Enter");
    await page.waitForSelector('tr[data-key="APP_SECRET"]');
    expect(await page.locator('tr[data-key="API_HOST"]').count()).toBe(0);

    // Edit notebook.toml on disk: the page updates without a reload (server-sent events).
    await writeFile(join(dir, "notebook.toml"), notebookToml({ path: "/app", env: 'LOG_LEVEL = "info"\nFROM_DISK = "yes"', extra: CELLS }));
    await page.waitForSelector('tr[data-key="FROM_DISK"]');

    // Rotate on the server, press Refresh: the time of the last refresh moves.
    const before = await page.getAttribute("#sm-status", "data-fetched-at");
    server.store.setSecret(PROJECT, "dev", "/app", "APP_SECRET", CANARY.rotated);
    await page.click("#refresh");
    // (The page's CSP forbids eval, so poll from here rather than with a string predicate.)
    await waitFor(async () => (await page.getAttribute("#sm-status", "data-fetched-at")) !== before, 8_000, "a newer fetch time");
    plugin.beforeCellRun({ id: "check" });
    expect(process.env["APP_SECRET"]).toBe(CANARY.rotated);

    // Run all: the cell's output is masked.
    await page.click("#run");
    await page.waitForSelector("#cells pre");
    expect(await page.locator("#cells pre").textContent()).toBe("app secret: ***\n");

    // Add a sensitive variable and save: it is written blank on disk.
    await page.click("#add");
    await page.locator("#rows tr").last().locator("input.name").fill("WEBHOOK_TOKEN");
    await page.locator("#rows tr").last().locator("input.val").fill("typed-in-browser-123");
    await page.click("#save-env");
    await page.waitForSelector('tr[data-key="WEBHOOK_TOKEN"] .badge');

    // A teammate edits notebook.toml while we edit a row: our save is refused, the page shows theirs.
    await page.locator('tr[data-key="LOG_LEVEL"] input.val').fill("trace");
    const text = await readFile(join(dir, "notebook.toml"), "utf8");
    await writeFile(join(dir, "notebook.toml"), text.replace("[env]\n", '[env]\nTEAMMATE = "theirs"\n'));
    await page.waitForSelector("#banner", { state: "visible" });
    await page.click("#save-env");
    await page.waitForSelector('tr[data-key="TEAMMATE"]');
    expect(await page.locator("#env-msg").textContent()).toContain("Not saved: notebook.toml changed meanwhile");
    expect(await readFile(join(dir, "notebook.toml"), "utf8")).not.toContain('LOG_LEVEL = "trace"');

    await page.screenshot({ path: join(shots, "panel.png"), fullPage: true });
    const dom = await page.evaluate<string>("document.documentElement.outerHTML + document.body.innerText");
    expect(canariesIn(dom, ["typed-in-browser-123"])).toEqual([]);
    expect(canariesIn(bodies.join("\n"), ["typed-in-browser-123"])).toEqual([]);
    await page.close();
  });

  it("marks the cells that ran with a rotated key and re-runs just those", async () => {
    await plugin.saveSecretManagerConfig({ provider: "infisical", project_id: PROJECT, path: "/app" });
    const page = await browser.newPage();
    await page.goto(panel.url);
    await page.waitForSelector('tr[data-key="APP_SECRET"]');
    await page.click("#run");
    await page.waitForSelector("#cells pre");
    expect(await page.locator("#stale").isHidden()).toBe(true);
    server.store.setSecret(PROJECT, "dev", "/app", "APP_SECRET", "rotated-app-secret-77");
    await page.click("#refresh");
    await page.waitForSelector("#stale li.stale-cell");
    expect(await page.locator("#stale-list").textContent()).toBe("show ran with an older APP_SECRET");
    await page.click("#rerun-stale");
    await page.waitForSelector("#stale", { state: "hidden" });
    expect(await page.locator("#cells h3").allTextContents()).toEqual(["show"]);
    expect(plugin.staleCells()).toEqual([]);
    const dom = await page.evaluate<string>("document.documentElement.outerHTML + document.body.innerText");
    expect(canariesIn(dom, ["rotated-app-secret-77"])).toEqual([]);
    await page.close();
  });
});
