// After `tsc`: the library entry users import (`strata-secrets`) as one ES module plus lazy
// chunks (zod, smol-toml, the TOML editor load on first use), so that importing the plugin
// is one file instead of ~40 (each module costs the loader about a millisecond). Managers'
// SDKs, chokidar, dotenv and the TOML parser stay ordinary dependencies, loaded on first use.
// The CLI and the kernel keep importing the per-file modules in dist/ (not this bundle).
import { rmSync } from "node:fs";
import { buildSync } from "esbuild";

// Chunk names carry a content hash: without this, chunks of earlier builds would pile up (and be packed).
rmSync("dist/bundle", { recursive: true, force: true });
buildSync({
  entryPoints: { index: "dist/plugin/index.js" },
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "chunk-[hash]",
  external: ["@aws-sdk/*", "@smithy/*", "chokidar", "dotenv", "esbuild", "toml-eslint-parser"],
  legalComments: "linked",
  logLevel: "warning",
});
