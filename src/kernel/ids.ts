import { randomFillSync } from "node:crypto";

/**
 * Opaque, prefixed, time-ordered ids (`mem_01jd…`): the prefix tells `node(id)` which type an id
 * names, and the leading timestamp keeps new rows at the end of B-tree indexes. The same string is
 * used in GraphQL, the CLI's JSON and webhook payloads.
 */
export const idPrefixes = {
  workspace: "ws",
  member: "mem",
  apiKey: "key",
  resourceType: "typ",
  field: "fld",
  resource: "res",
  webhook: "whk",
  delivery: "dlv",
  oauthClient: "oac",
  file: "fil",
} as const;

export type IdKind = keyof typeof idPrefixes;

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

let lastTime = 0;
const lastRandom = new Uint8Array(10);

/**
 * Random bytes come from a pool refilled 4 KiB at a time: a call into the CSPRNG (and a Buffer) for
 * every id was ~1.5% of a create's server CPU (bench:peers profile). Each byte is used once.
 */
const pool = new Uint8Array(4096);
let pooled = 0;

function pooledRandomBytes(count: number): Uint8Array {
  if (pooled < count) {
    randomFillSync(pool);
    pooled = pool.length;
  }
  pooled -= count;
  return pool.subarray(pooled, pooled + count);
}

/** 80 random bits, or — within the same millisecond — the previous ones plus one (monotonic). */
function nextRandom(now: number): Uint8Array {
  if (now > lastTime) {
    lastTime = now;
    lastRandom.set(pooledRandomBytes(10));
    return lastRandom;
  }
  for (let i = lastRandom.length - 1; i >= 0; i--) {
    lastRandom[i] = ((lastRandom[i] ?? 0) + 1) & 0xff;
    if (lastRandom[i] !== 0) break;
  }
  return lastRandom;
}

/** Ids made by one process sort in creation order, also within one millisecond. */
export function newId(kind: IdKind): string {
  const bytes = new Uint8Array(16);
  const now = Math.max(Date.now(), lastTime);
  // 48-bit millisecond timestamp, then 80 random bits.
  for (let i = 0; i < 6; i++) bytes[i] = Math.floor(now / 2 ** (8 * (5 - i))) & 0xff;
  bytes.set(nextRandom(now), 6);
  return `${idPrefixes[kind]}_${base32(bytes)}`;
}

export function idKind(id: string): IdKind | undefined {
  const prefix = id.slice(0, id.indexOf("_"));
  return (Object.keys(idPrefixes) as IdKind[]).find((kind) => idPrefixes[kind] === prefix);
}
