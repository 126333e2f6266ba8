/**
 * Issue 7: what each credential costs. Requests/s and latency of `{ viewer { member { id } } }`
 * authenticated by an API key, an OAuth access token (Bearer), and Basic email/password — the last
 * with the verification cache on (default 5 s) and off (`PLUGBOARD_PASSWORD_CACHE_SECONDS=0`, so
 * every request runs argon2id). One run, alternating, same machine.
 *
 *   npm run bench:oauth                              # embedded PGlite
 *   DATABASE_URL=postgres://… npm run bench:oauth    # PostgreSQL
 */
import { fileURLToPath } from "node:url";
import { load, startProcess, stopProcess, table } from "./lib/load.ts";

const port = 4603;
const base = `http://127.0.0.1:${port}`;
const apiKey = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const email = "bench@example.com";
const password = "bench password 123";
const body = JSON.stringify({ query: "{ viewer { member { id } } }" });
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const cli = fileURLToPath(new URL("../bin/plugboard.mjs", import.meta.url));

function start(extra: Record<string, string>) {
  return startProcess(
    [cli, "serve"],
    {
      PORT: String(port),
      PUBLIC_URL: base,
      PLUGBOARD_DATA_DIR: "memory://",
      PLUGBOARD_ADMIN_TOKEN: apiKey,
      PLUGBOARD_ADMIN_EMAIL: email,
      PLUGBOARD_ADMIN_PASSWORD: password,
      PLUGBOARD_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      ...extra,
    },
    `${base}/readyz`,
  );
}

/** A confidential client and a client-credentials access token (verified like any OAuth token). */
async function oauthToken(): Promise<string> {
  const created = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      query: `mutation { createOAuthClient(input: { name: "bench", redirectUris: ["https://bench.example/cb"], confidential: true }) { oauthClient { clientId } clientSecret } }`,
    }),
  });
  const { data } = (await created.json()) as {
    data: { createOAuthClient: { oauthClient: { clientId: string }; clientSecret: string } };
  };
  const { clientId } = data.createOAuthClient.oauthClient;
  const response = await fetch(`${base}/oauth/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${clientId}:${data.createOAuthClient.clientSecret}`).toString("base64")}`,
    },
    body: "grant_type=client_credentials&scope=read",
  });
  const tokens = (await response.json()) as { access_token: string };
  return tokens.access_token;
}

const basic = `Basic ${Buffer.from(`${email}:${password}`).toString("base64")}`;
const rows: Record<string, string | number>[] = [];
const sums = new Map<string, { rps: number; p99: number }>();

async function measure(round: number, label: string, authorization: string): Promise<void> {
  const result = await load({ url: `${base}/graphql`, body, seconds, headers: { authorization } });
  if (result.non2xx || result.errors) {
    throw new Error(`${label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  rows.push({
    round,
    credential: label,
    "req/s": result.requestsPerSecond,
    "p50 ms": result.p50,
    "p99 ms": result.p99,
  });
  const sum = sums.get(label) ?? { rps: 0, p99: 0 };
  sums.set(label, { rps: sum.rps + result.requestsPerSecond, p99: sum.p99 + result.p99 });
}

/** JIT, connection pools and caches warm up before anything is measured. */
async function warmUp(authorization: string): Promise<void> {
  await load({ url: `${base}/graphql`, body, seconds: 2, headers: { authorization } });
}

for (let round = 1; round <= rounds; round++) {
  const cached = await start({});
  const token = await oauthToken();
  await warmUp(`Bearer ${apiKey}`);
  // Alternate the order by round, so neither credential always runs on a warmer process.
  const bearers: [string, string][] = [
    ["API key (Bearer)", `Bearer ${apiKey}`],
    ["OAuth access token (Bearer)", `Bearer ${token}`],
  ];
  if (round % 2 === 0) bearers.reverse();
  for (const [label, authorization] of bearers) await measure(round, label, authorization);
  await measure(round, "Basic email/password, cache on", basic);
  await stopProcess(cached);

  const uncached = await start({ PLUGBOARD_PASSWORD_CACHE_SECONDS: "0" });
  await warmUp(`Bearer ${apiKey}`);
  await measure(round, "Basic email/password, cache off", basic);
  await stopProcess(uncached);
}

console.log(table(rows));
console.log("\nmeans over rounds:");
for (const [label, sum] of sums) {
  console.log(
    `  ${label.padEnd(34)} ${(sum.rps / rounds).toFixed(0).padStart(6)} req/s   p99 ${(sum.p99 / rounds).toFixed(1)} ms`,
  );
}
