import { readFileSync, writeFileSync } from "node:fs";
import { chmod, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { envEntries, editFile, writeEnvTable, writeTable } from "../redaction/persist.js";
import { isSensitiveName } from "../redaction/sensitive.js";
import { replaceTable } from "../redaction/toml-edit.js";
import { tempDir } from "./helpers.js";

const ENV: [string, string][] = [["API_KEY", ""], ["LOG_LEVEL", "debug"]];

/** [name, input, expected output] for replacing [env] with ENV. Bytes outside [env] never move. */
const GOLDEN: [string, string, string][] = [
  ["no [env]", '[secret_manager]\nprovider = "infisical"\n', '[secret_manager]\nprovider = "infisical"\n\n[env]\nAPI_KEY = ""\nLOG_LEVEL = "debug"\n'],
  ["empty file", "", '[env]\nAPI_KEY = ""\nLOG_LEVEL = "debug"\n'],
  ["no final newline", "[x]\ny = 1", '[x]\ny = 1\n\n[env]\nAPI_KEY = ""\nLOG_LEVEL = "debug"\n'],
  ["[env] first", '[env]\nZ = "1"\n\n# about x\n[x]\ny = 1 # keep\n', '[env]\nAPI_KEY = ""\nLOG_LEVEL = "debug"\n\n# about x\n[x]\ny = 1 # keep\n'],
  ["[env] middle with comments around", '# head\n[a]\nb = 1\n\n# env below\n[env]\nOLD = "x" # trailing comment\n# after env\n[[cells]]\nid = "c"\n', '# head\n[a]\nb = 1\n\n# env below\n[env]\nAPI_KEY = ""\nLOG_LEVEL = "debug"\n# after env\n[[cells]]\nid = "c"\n'],
  ["[env] last, no newline", '[a]\nb = 1\n[env]\nOLD = "x"', '[a]\nb = 1\n[env]\nAPI_KEY = ""\nLOG_LEVEL = "debug"'],
  ["CRLF", '# c\r\n[env]\r\nOLD = "x"\r\n[b]\r\nc = 2\r\n', '# c\r\n[env]\r\nAPI_KEY = ""\r\nLOG_LEVEL = "debug"\r\n[b]\r\nc = 2\r\n'],
  ["inline env", 'title = "t"\nenv = { OLD = "x" }\n[b]\nc = 2\n', 'title = "t"\nenv = { API_KEY = "", LOG_LEVEL = "debug" }\n[b]\nc = 2\n'],
  ["dotted env keys", 'env.OLD = "x"\nenv.OTHER = "y"\ntitle = "t"\n[b]\nc = 2\n', 'env.API_KEY = ""\nenv.LOG_LEVEL = "debug"\ntitle = "t"\n[b]\nc = 2\n'],
  ["quoted keys and unicode", '[env]\n"OLD KEY" = "ü"\n[b]\nname = "Zoë 🚀"\n', '[env]\nAPI_KEY = ""\nLOG_LEVEL = "debug"\n[b]\nname = "Zoë 🚀"\n'],
  ["cells with inline env stay", '[env]\nOLD = "x"\n[[cells]]\nid = "a"\nenv = { A = "1" }\n', '[env]\nAPI_KEY = ""\nLOG_LEVEL = "debug"\n[[cells]]\nid = "a"\nenv = { A = "1" }\n'],
];

describe("replaceTable (byte-preserving edits)", () => {
  it.each(GOLDEN)("%s", (_name, input, expected) => {
    const out = replaceTable(input, "env", ENV);
    expect(out).toBe(expected);
    expect(parse(out)["env"]).toEqual(Object.fromEntries(ENV));
    expect(replaceTable(out, "env", ENV)).toBe(out);
  });

  it("writing what is already there changes nothing, even unsorted or commented", () => {
    const text = '[env]\nLOG_LEVEL = "debug" # mine\nAPI_KEY = ""\n';
    expect(replaceTable(text, "env", ENV)).toBe(text);
  });

  it("escapes values so they read back exactly", () => {
    const tricky = 'a "quoted" \\ back\nslash\t\u0001\u007f é 🚀';
    const out = replaceTable("", "env", [["V", tricky]]);
    expect((parse(out)["env"] as Record<string, string>)["V"]).toBe(tricky);
  });

  it("removes [secret_manager] and keeps everything else", () => {
    const text = '# top\n[secret_manager]\nprovider = "infisical" # c\nproject_id = "p"\n\n[env]\nA = "1"\n';
    expect(replaceTable(text, "secret_manager", null)).toBe('# top\n\n[env]\nA = "1"\n');
  });

  it("refuses to edit invalid TOML", () => {
    expect(() => replaceTable("[env\n", "env", ENV)).toThrow();
  });
});

describe("writing notebook.toml", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    file = join(dir, "notebook.toml");
  });
  afterEach(() => cleanup());

  it("sensitive names are written blank, fetched values never, keys sorted", async () => {
    await writeFile(file, "# mine\n");
    await writeEnvTable(file, new Map([["Z_TOKEN", "tok-secret-value"], ["DATABASE_URL", "postgres://fetched"], ["A", "plain"]]), { neverWrite: new Set(["postgres://fetched"]) });
    expect(await readFile(file, "utf8")).toBe('# mine\n\n[env]\nA = "plain"\nDATABASE_URL = ""\nZ_TOKEN = ""\n');
  });

  it("an edit that changes nothing leaves the file and its mtime untouched", async () => {
    await writeFile(file, '[env]\nA = "1"\n');
    const before = await stat(file);
    await new Promise((r) => setTimeout(r, 20));
    const r = await writeEnvTable(file, new Map([["A", "1"]]));
    expect(r.written).toBe(false);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
  });

  it("keeps the file mode and leaves no temp file", async () => {
    await writeFile(file, '[env]\nA = "1"\n');
    await chmod(file, 0o600);
    await writeEnvTable(file, new Map([["A", "2"]]));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["notebook.toml"]);
  });

  it("writes a table of strings, integers and booleans; null removes it", async () => {
    await writeFile(file, '[env]\nA = "1"\n');
    await writeTable(file, "secret_manager", [["provider", "vault"], ["kv_version", 1], ["tls", false]]);
    expect(await readFile(file, "utf8")).toBe('[env]\nA = "1"\n\n[secret_manager]\nprovider = "vault"\nkv_version = 1\ntls = false\n');
    const same = await writeTable(file, "secret_manager", [["provider", "vault"], ["kv_version", 1], ["tls", false]]);
    expect(same.written).toBe(false);
    await writeTable(file, "secret_manager", null);
    expect(await readFile(file, "utf8")).toBe('[env]\nA = "1"\n\n');
  });

  it("applies the edit to content changed on disk meanwhile, never overwriting it", async () => {
    await writeFile(file, '[env]\nA = "1"\n');
    let first = true;
    await editFile(file, (text) => {
      if (first) {
        first = false;
        // Someone else saves while our edit is being prepared.
        writeFileSync(file, text + '\n[theirs]\nkeep = "me"\n');
      }
      return replaceTable(text, "env", [["A", "2"]]);
    });
    const out = await readFile(file, "utf8");
    expect(out).toContain('[theirs]\nkeep = "me"');
    expect(out).toContain('A = "2"');
  });

  it("the rule's documented false positives and misses", () => {
    expect(isSensitiveName("MONKEY")).toBe(true);
    expect(isSensitiveName("DB_PASS")).toBe(false);
    expect(isSensitiveName("DB_PASS", [/PASS/i])).toBe(true);
    expect(envEntries(new Map([["openai_api_key", "x"]]))).toEqual([["openai_api_key", ""]]);
  });
});

describe("panel saves edit entry by entry (the README's example notebook.toml)", () => {
  /** The example `notebook.toml` of the README's "Use it with real Infisical" section, as printed there. */
  function readmeExample(): string {
    const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "README.md"), "utf8");
    const block = /^( *)```toml\n\1(\[secret_manager\][\s\S]*?)^\1```/m.exec(readme);
    if (!block) throw new Error("README.md has no ```toml example starting with [secret_manager]");
    const indent = block[1]!.length;
    return block[2]!.split("\n").map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length))).join("\n");
  }

  it("changing one value replaces only its bytes; comments, order and other lines stay", () => {
    const text = readmeExample();
    const changed = replaceTable(text, "secret_manager", [["provider", "infisical"], ["project_id", "your-project-id"], ["environment", "dev"], ["path", "/app"]]);
    expect(changed).toBe(text.replace('path = "/"            # default "/"', 'path = "/app"            # default "/"'));
  });

  it("adding a variable appends one line; a changed value keeps its trailing comment; nothing is re-sorted", () => {
    const text = readmeExample();
    const env: [string, string][] = [["OPENAI_API_KEY", ""], ["LOG_LEVEL", "debug"], ["A_NEW_ONE", "x"]];
    const out = replaceTable(text, "env", env);
    expect(out).toBe(text.replace('LOG_LEVEL = "info"', 'LOG_LEVEL = "debug"').replace("never written here\n", 'never written here\nA_NEW_ONE = "x"\n'));
  });

  it("removing a variable removes its line only; comment lines inside the table stay", () => {
    const text = '[env]\n# logging\nLOG_LEVEL = "info" # verbose\n# keys\nOPENAI_API_KEY = ""\nZ = "1"\n\n[other]\nx = 1\n';
    expect(replaceTable(text, "env", [["OPENAI_API_KEY", ""], ["Z", "2"]])).toBe('[env]\n# logging\n# keys\nOPENAI_API_KEY = ""\nZ = "2"\n\n[other]\nx = 1\n');
  });

  it("Disconnect removes [secret_manager] with the comments inside it, and nothing else", () => {
    const text = `# my notebook\nname = "n"\n\n${readmeExample()}`;
    const out = replaceTable(text, "secret_manager", null);
    expect(out).toBe(`# my notebook\nname = "n"\n\n${readmeExample().slice(readmeExample().indexOf("[env]"))}`);
    expect(out).not.toContain("base_url");
  });

  it("a UTF-8 BOM is kept and does not stop the edit", () => {
    const text = '\uFEFF[env]\nA = "1"\n';
    expect(replaceTable(text, "env", [["A", "2"]])).toBe('\uFEFF[env]\nA = "2"\n');
  });
});
