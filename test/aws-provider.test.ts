// The AWS Secrets Manager provider with the official @aws-sdk/client-secrets-manager against
// the fixture (fixtures/aws-server: AWS JSON 1.1, SigV4 checked by AWS's own signer) on
// 127.0.0.1.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { vi } from "vitest";
import { startAwsServer, type AwsServer, type AwsServerOptions } from "../fixtures/aws-server/index.js";
import { AWS_NO_CREDENTIALS_MESSAGE, createAwsProvider } from "../plugin/providers/aws.js";
import { describe, expect, test } from "./fixtures.js";
import { CANARY, tempDir, serverScope } from "./helpers.js";

const KEY_ID = "AKIAFIXTURE0NOTEBOOK";
const VALUE = { API_TOKEN: CANARY.awsValue, PORT: 5432, TLS: false, LIST: [1, 2] };

function seed(overrides: Partial<AwsServerOptions> = {}): AwsServerOptions {
  return {
    region: "eu-west-1",
    secrets: [
      { name: "prod/notebook", string: JSON.stringify(VALUE) },
      { name: "prod/other", string: JSON.stringify({ OTHER_KEY: "other-value" }) },
      { name: "prod/plain", string: "just a password" },
      { name: "prod/binary", binary: Buffer.from([1, 2, 3]) },
    ],
    keys: [
      { accessKeyId: KEY_ID, secretAccessKey: CANARY.awsSecretKey },
      { accessKeyId: "AKIALIMITED", secretAccessKey: "limited-secret", allow: ["prod/other"] },
      { accessKeyId: "ASIASESSION", secretAccessKey: "session-secret", sessionToken: "session-token-1" },
    ],
    ...overrides,
  };
}

const withAws = serverScope(startAwsServer);

const keys = (aws: AwsServer, secret: string = CANARY.awsSecretKey, id = KEY_ID) => ({ AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url, AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret });
const notebook = (table: string, env = 'LOG_LEVEL = "info"') => `[secret_manager]\nprovider = "aws"\n${table}\n\n[env]\n${env}\n`;

describe("AWS Secrets Manager provider (official SDK, SigV4 checked by the fixture)", () => {
  test("a JSON object secret: each key a variable, numbers/booleans as strings, arrays refused; the SDK's Node 20 warning stays off stderr", async ({ dir, makePlugin }) => {
    const warnings = vi.spyOn(process, "emitWarning");
    try {
      await withAws(seed(), async (aws) => {
        await writeFile(join(dir, "notebook.toml"), notebook('secret_id = "prod/notebook"'));
        const env: Record<string, string | undefined> = {};
        const p = makePlugin({ credentials: keys(aws), env });
        await p.open();
        expect(p.status()).toMatchObject({ provider: "aws", error: null });
        p.beforeCellRun({ id: "c" });
        expect(env).toMatchObject({ API_TOKEN: CANARY.awsValue, PORT: "5432", TLS: "false" });
        p.afterCellRun({ id: "c" });
        expect(p.rows().find((r) => r.key === "LIST")?.refused).toMatch(/AWS Secrets Manager holds an array/);
        expect(aws.gets()).toBe(1);
      });
      expect(warnings.mock.calls.map((c) => String(c[0]))).not.toContainEqual(expect.stringContaining("NodeVersionSupportWarning"));
    } finally {
      warnings.mockRestore();
    }
  });

  test("rotation lands at the next refresh; switching secret_id reads the other secret", async ({ dir, makePlugin }) => {
    await withAws(seed(), async (aws) => {
      await writeFile(join(dir, "notebook.toml"), notebook('secret_id = "prod/notebook"'));
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: keys(aws), env });
      await p.open();
      aws.put("prod/notebook", JSON.stringify({ ...VALUE, API_TOKEN: CANARY.rotated }));
      await p.refresh();
      p.beforeCellRun({ id: "c" });
      expect(env["API_TOKEN"]).toBe(CANARY.rotated);
      p.afterCellRun({ id: "c" });
      await p.saveSecretManagerConfig({ provider: "aws", secret_id: "prod/other" });
      p.beforeCellRun({ id: "c" });
      expect(env).toMatchObject({ OTHER_KEY: "other-value" });
      expect(env["API_TOKEN"]).toBeUndefined();
      p.afterCellRun({ id: "c" });
    });
  });

  test.for([
    ["a wrong secret access key", (a: AwsServer) => keys(a, "wrong-secret"), 'secret_id = "prod/notebook"', /^AWS Secrets Manager authentication failed: InvalidSignatureException: The request signature we calculated does not match/],
    ["an unknown access key id", (a: AwsServer) => keys(a, "x", "AKIAUNKNOWN"), 'secret_id = "prod/notebook"', "AWS Secrets Manager authentication failed: UnrecognizedClientException: The security token included in the request is invalid."],
    ["a policy denial of valid keys", (a: AwsServer) => keys(a, "limited-secret", "AKIALIMITED"), 'secret_id = "prod/notebook"', /^AWS Secrets Manager get_secret_value failed: AccessDeniedException: User: arn:aws:iam::123456789012:user\/notebook is not authorized/],
    ["a missing secret", (a: AwsServer) => keys(a), 'secret_id = "prod/none"', "AWS Secrets Manager get_secret_value failed: ResourceNotFoundException: Secrets Manager can't find the specified secret."],
    ["a value that is not a JSON object", (a: AwsServer) => keys(a), 'secret_id = "prod/plain"', `AWS Secrets Manager get_secret_value failed: the value of 'prod/plain' is not a JSON object; store key/value pairs (for example {"DB_PASSWORD": "…"}).`],
    ["a binary secret", (a: AwsServer) => keys(a), 'secret_id = "prod/binary"', "AWS Secrets Manager get_secret_value failed: 'prod/binary' is a binary secret; store key/value pairs as a JSON object in SecretString."],
    ["no region", (a: AwsServer) => ({ ...keys(a), AWS_REGION: "" }), 'secret_id = "prod/notebook"', "AWS Secrets Manager configuration error: no region. Set region in [secret_manager], or AWS_REGION in the shell that launched Strata."],
    ["a base_url that is not the endpoint", (a: AwsServer) => keys(a), 'secret_id = "prod/notebook"\nbase_url = "http://127.0.0.1:1"', /^Refused: \[secret_manager\]\.base_url \(http:\/\/127\.0\.0\.1:1\) is not the AWS Secrets Manager host this kernel uses/],
  ] as const)("%s: a clear message", async ([, credentials, table, message], { dir, makePlugin }) => {
    await withAws(seed(), async (aws) => {
      await writeFile(join(dir, "notebook.toml"), notebook(table));
      const p = makePlugin({ credentials: (credentials as (a: AwsServer) => Record<string, string>)(aws) });
      await p.open();
      if (typeof message === "string") expect(p.status().error).toBe(message);
      else expect(p.status().error).toMatch(message);
      expect(p.status().error).not.toContain(CANARY.awsSecretKey);
    });
  });

  test("no keys and no profile, SSO or role to find: the message names the sources", async ({ dir, makePlugin }) => {
    const files = await tempDir();
    try {
      await writeFile(join(files.dir, "config"), "");
      await writeFile(join(files.dir, "credentials"), "");
      await withAws(seed(), async (aws) => {
        await writeFile(join(dir, "notebook.toml"), notebook('secret_id = "prod/notebook"'));
        const p = makePlugin({ credentials: { AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url, AWS_REGION: "eu-west-1", AWS_PROFILE: "nobody", AWS_CONFIG_FILE: join(files.dir, "config"), AWS_SHARED_CREDENTIALS_FILE: join(files.dir, "credentials") } });
        await p.open();
        expect(p.status().error).toBe(AWS_NO_CREDENTIALS_MESSAGE);
        expect(aws.gets()).toBe(0);
      });
    } finally {
      await files.cleanup();
    }
  });

  test("a profile from the snapshot's config files is used (the chain without its environment step)", async ({ dir, makePlugin }) => {
    const files = await tempDir();
    try {
      await writeFile(join(files.dir, "credentials"), `[notebook]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${CANARY.awsSecretKey}\n`);
      await writeFile(join(files.dir, "config"), "");
      await withAws(seed(), async (aws) => {
        await writeFile(join(dir, "notebook.toml"), notebook('secret_id = "prod/notebook"', `AWS_PROFILE = "nobody"`));
        const p = makePlugin({ credentials: { AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url, AWS_REGION: "eu-west-1", AWS_PROFILE: "notebook", AWS_CONFIG_FILE: join(files.dir, "config"), AWS_SHARED_CREDENTIALS_FILE: join(files.dir, "credentials") } });
        await p.open();
        expect(p.status().error).toBeNull();
        expect(p.rows().map((r) => r.key)).toContain("API_TOKEN");
      });
    } finally {
      await files.cleanup();
    }
  });

  test("an expired session token is an authentication error; throttling twice is retried by the SDK inside the deadline", async ({ dir, makePlugin }) => {
    await withAws(seed(), async (aws) => {
      await writeFile(join(dir, "notebook.toml"), notebook('secret_id = "prod/notebook"'));
      const p = makePlugin({ credentials: { ...keys(aws), AWS_ACCESS_KEY_ID: "ASIASESSION", AWS_SECRET_ACCESS_KEY: "session-secret", AWS_SESSION_TOKEN: "session-token-1" } });
      await p.open();
      expect(p.status().error).toBeNull();
      aws.throttleNext(2);
      const before = aws.gets();
      await p.refresh();
      expect(p.status().error).toBeNull();
      expect(aws.gets() - before).toBe(3);
      aws.expireSessionTokens();
      await p.refresh();
      expect(p.status().error).toBe("AWS Secrets Manager authentication failed: ExpiredTokenException: The security token included in the request is expired");
      expect(p.rows().find((r) => r.key === "API_TOKEN")?.stale).toBe(true);
    });
  });

  test("a server that never answers ends at the deadline (the SDK call is aborted); the next fetch works", async ({ dir, makePlugin }) => {
    await withAws(seed(), async (aws) => {
      await writeFile(join(dir, "notebook.toml"), notebook('secret_id = "prod/notebook"'));
      const p = makePlugin({ credentials: keys(aws), fetchTimeoutMs: 500 });
      await p.open();
      aws.faults.hang = true;
      await p.refresh();
      expect(p.status().error).toMatch(/did not answer within/);
      aws.faults.hang = false;
      await p.refresh();
      expect(p.status().error).toBeNull();
    });
  });

  test("endpoint variables set in [env] redirect nothing; the keys stay in the cells' env (masked), or leave it with scrubCredentials", async ({ dir, makePlugin }) => {
    await withAws(seed(), async (aws) => {
      await withAws(seed(), async (decoy) => {
        await writeFile(join(dir, "notebook.toml"), notebook('secret_id = "prod/notebook"', `AWS_ENDPOINT_URL_SECRETS_MANAGER = "${decoy.url}"\nAWS_ENDPOINT_URL = "${decoy.url}"\nAWS_REGION = "us-east-1"`));
        const env: Record<string, string | undefined> = { ...keys(aws) };
        const p = makePlugin({ credentials: keys(aws), env });
        await p.open();
        p.beforeCellRun({ id: "c" });
        expect(env["AWS_SECRET_ACCESS_KEY"]).toBe(CANARY.awsSecretKey); // shared with cells by default
        p.afterCellRun({ id: "c" });
        await p.refresh();
        expect(p.status().error).toBeNull();
        expect(decoy.requests).toHaveLength(0);
        expect(p.maskOutput(`key=${CANARY.awsSecretKey}`)).toBe("key=***");
        const scrubbedEnv: Record<string, string | undefined> = { ...keys(aws) };
        const q = makePlugin({ credentials: keys(aws), env: scrubbedEnv, providers: { aws: createAwsProvider({ scrubCredentials: true }) } });
        await q.open();
        q.beforeCellRun({ id: "c" });
        expect(scrubbedEnv["AWS_SECRET_ACCESS_KEY"]).toBeUndefined();
        expect(scrubbedEnv["API_TOKEN"]).toBe(CANARY.awsValue);
        q.afterCellRun({ id: "c" });
      });
    });
  });
});
