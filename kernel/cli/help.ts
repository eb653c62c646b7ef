// The --help texts of the command line.

export const HELP: Record<string, string> = {
  main: `strata-secrets — secrets from your secret manager in a notebook kernel's env, in memory only.

Usage:
  strata-secrets run <dir> [--json] [--keep-going] [--timeout <ms>]
  strata-secrets watch <dir> [--run [--rerun-stale]]
  strata-secrets serve <dir> [--port <n>]
  strata-secrets dev-server [--provider infisical|vault|aws|doppler] [--port <n>] [--secrets <file>]
  strata-secrets jupyter install|uninstall [--name <name>] [--js] [--prefix <dir>]
  strata-secrets --help | --version

Credentials come from the shell that starts the command: INFISICAL_CLIENT_ID +
INFISICAL_CLIENT_SECRET (or INFISICAL_TOKEN), INFISICAL_HOST for a self-hosted or local
server. 'strata-secrets <command> --help' for each command.`,
  run: `strata-secrets run <dir> — open the notebook in <dir>, fetch its secrets, run every cell once,
then print the env rows and the secret-manager status.

Each cell's masked output is also saved to <dir>/.strata/console/<cell>.json (the file is
removed when the cell printed nothing), and which managed keys each cell read, with the
manager's version ids (never values), to <dir>/.strata/provenance.json: a later run, watch
or serve then knows which cells ran with a key rotated in between.

Options:
  --json          print one JSON object (cells with masked output, rows, status) instead
  --keep-going    run the remaining cells after a failing one
  --timeout <ms>  deadline of the fetch (default 20000)

Exit codes:
  0  every cell succeeded and the secrets were loaded
  1  a cell failed
  2  usage error (no notebook.toml, unknown option)
  3  the secrets could not be loaded (no credentials, authentication, config error,
     manager down): the cells ran without them`,
  watch: `strata-secrets watch <dir> — open the notebook and stay open, printing one line per reload,
fetch (key names only) and error. Ctrl-C closes and exits.

Options:
  --run           run the cells once at start and again after each change that succeeded
                  (their output is saved to <dir>/.strata/console/ as with run)
  --rerun-stale   with --run: after a change, re-run only the cells that ran with a value
                  that has since changed (rotated, removed, another source), in notebook order`,
  serve: `strata-secrets serve <dir> — open the notebook and serve the Runtime panel (env rows with
source badges, the secret-manager form, Refresh, Run all) on 127.0.0.1. Prints the URL with
its access token; keep it private. Ctrl-C closes and exits.

Options:
  --port <n>      port (default: a free one); a port in use is an error (exit code 1)`,
  jupyter: `strata-secrets jupyter install [--name strata-ts] [--js] [--prefix <dir>]
strata-secrets jupyter uninstall [--name strata-ts] [--prefix <dir>]

Installs a Jupyter kernelspec that runs tslab (TypeScript, or JavaScript with --js) with
strata-secrets loaded: each cell gets the notebook's secrets in process.env and its output
masked. notebook.toml is read from the notebook's folder (the kernel's working directory)
or STRATA_NOTEBOOK_DIR. Without --prefix the kernelspec goes to the user's Jupyter data
directory (~/.local/share/jupyter/kernels). tslab is an optional peer dependency:
install it first with  npm install tslab@1.0.22`,
  "dev-server": `strata-secrets dev-server — start a bundled secret-manager fixture on 127.0.0.1 and
print the variables to export and the [secret_manager] table. Ctrl-C stops it.

Options:
  --provider <p>    infisical (default), vault, aws or doppler
  --port <n>        port (default: a free one)
  --secrets <file>  TOML or JSON: project_id = "..." and [secrets.<env>."<path>"] tables
                    (default: the demo secrets)`,
};
