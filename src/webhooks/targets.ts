import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { fail } from "../kernel/index.ts";

/**
 * Outbound safety for webhook targets (SSRF): http(s) only, no credentials in the URL, and — unless
 * `PLUGBOARD_WEBHOOK_ALLOW_PRIVATE` — every address the host resolves to must be public unicast.
 * The same check runs again when connecting (see `pinnedLookup`), so a DNS answer that changes
 * between the check and the connection (rebinding) cannot reach an internal address.
 */

/** Public addresses that are still cloud-internal endpoints (Azure's wire server). */
const deniedAddresses = new Set(["168.63.129.16"]);

export const MAX_URL_LENGTH = 2048;
const ALLOW_PRIVATE_HINT =
  "webhook targets must be public (set PLUGBOARD_WEBHOOK_ALLOW_PRIVATE=true to allow private targets in development)";

/** ipaddr.js range names as a sentence says them ("a loopback address"). */
const rangeNames: Record<string, string> = {
  unspecified: "an unspecified",
  broadcast: "a broadcast",
  multicast: "a multicast",
  linkLocal: "a link-local",
  loopback: "a loopback",
  carrierGradeNat: "a carrier-grade NAT",
  private: "a private",
  reserved: "a reserved",
  as112: "an AS112",
  amt: "an AMT",
  uniqueLocal: "a unique-local",
  deprecatedSiteLocal: "a site-local",
  discard: "a discard-only",
  rfc6145: "an IPv4-translated",
  rfc6052: "a NAT64",
  "6to4": "a 6to4",
  teredo: "a Teredo",
  benchmarking: "a benchmarking",
  as112v6: "an AS112",
  deprecatedOrchid: "an ORCHID",
  orchid2: "an ORCHIDv2",
  droneRemoteIdProtocolEntityTags: "a drone remote ID",
  segmentRouting: "a segment-routing",
};

function rangeName(range: string): string {
  return `${rangeNames[range] ?? `a ${range}`} address`;
}

function ipv4Of(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * The IPv4 address an IPv6 address carries, and how, for the forms that reach it: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d, deprecated —
 * `[::127.0.0.1]` is spelled `[::7f00:1]` once parsed), NAT64 (64:ff9b::/96, and the local-use
 * 64:ff9b:1::/48 in its /96 layout), 6to4 (2002:AABB:CCDD::/48) and Teredo (the client address,
 * inverted, in the last 32 bits). `direct`: the address is as good as the IPv4 it carries (a
 * public one may be a target); otherwise the form is refused whatever it carries.
 */
function embeddedIPv4(address: ipaddr.IPv6): { ipv4: ipaddr.IPv4; form: string; direct: boolean } | null {
  const p = address.parts as number[];
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0] = p;
  switch (address.range()) {
    case "ipv4Mapped":
      return { ipv4: ipv4Of(p6, p7), form: "IPv4-mapped", direct: true };
    case "rfc6145":
      return { ipv4: ipv4Of(p6, p7), form: "IPv4-translated", direct: false };
    case "rfc6052":
      // The well-known prefix 64:ff9b::/96 goes through a NAT64 gateway to exactly that IPv4.
      return { ipv4: ipv4Of(p6, p7), form: "NAT64", direct: p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0 };
    case "6to4":
      return { ipv4: ipv4Of(p1, p2), form: "6to4", direct: false };
    case "teredo":
      return { ipv4: ipv4Of(p6 ^ 0xffff, p7 ^ 0xffff), form: "Teredo", direct: false };
    case "unicast":
      // ::/96 but not :: or ::1 (those have ranges of their own).
      if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0)
        return { ipv4: ipv4Of(p6, p7), form: "IPv4-compatible", direct: false };
      return null;
    default:
      return null;
  }
}

/**
 * ipaddr.js reads "::a.b.c.d" as IPv4-mapped (::ffff:a.b.c.d), which it is not — and DNS answers
 * print IPv4-compatible addresses that way. Spelling the dotted quad in hex first keeps it apart.
 */
function parseIPv6(address: string): ipaddr.IPv6 {
  const hex = address.replace(
    /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/,
    (_, a, b, c, d) =>
      `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  return ipaddr.IPv6.parse(hex);
}

/** Why an IPv4 address may not be a webhook target ("a loopback address"), or null when it may. */
function refusedIPv4(address: ipaddr.IPv4): string | null {
  const range = address.range();
  if (range !== "unicast") return rangeName(range);
  if (deniedAddresses.has(address.toString())) return "a cloud metadata address";
  return null;
}

/**
 * Why an address may not be a webhook target, as the end of "<address> is …" / "<host> resolves to
 * <address>, …" ("a loopback address"), or null when it may. Only public unicast is allowed:
 * loopback, private, link-local (cloud metadata), CGNAT, unique-local, multicast and reserved
 * ranges are refused — also inside the IPv6 forms that embed an IPv4 address.
 */
function refusal(address: string): string | null {
  if (!ipaddr.isValid(address)) return "not an IP address";
  if (ipaddr.IPv4.isValid(address) && !address.includes(":")) return refusedIPv4(ipaddr.IPv4.parse(address));
  const v6 = parseIPv6(address);
  const embedded = embeddedIPv4(v6);
  if (embedded) {
    const inner = refusedIPv4(embedded.ipv4);
    const article = /^[aeiou]/i.test(embedded.form) ? "an" : "a";
    if (inner) return `${article} ${embedded.form} address of ${embedded.ipv4}, ${inner}`;
    if (!embedded.direct) return `${article} ${embedded.form} address (an IPv6 transition form)`;
    return null;
  }
  const range = v6.range();
  return range === "unicast" ? null : rangeName(range);
}

/** Why an address may not be a webhook target ("127.0.0.1 is a loopback address"), or null. */
export function refusedAddress(address: string): string | null {
  const reason = refusal(address);
  return reason && `${address} is ${reason}`;
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/**
 * Parses and checks a target URL; BAD_USER_INPUT on `field` with the reason when refused. A host
 * that does not resolve is refused even when private targets are allowed: it can never be reached.
 */
export async function checkTarget(
  raw: string,
  allowPrivate: boolean,
  field = "url",
  /** What the URL is for, as the messages name it: "webhook" or "import". */
  purpose = "webhook",
): Promise<URL> {
  const refuse = (message: string) => fail.badInput(field, `${field}: ${message}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse(`${JSON.stringify(raw)} is not an absolute URL; use https://host/path.`);
  }
  if (raw.length > MAX_URL_LENGTH) throw refuse(`a URL is at most ${MAX_URL_LENGTH} characters.`);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw refuse(`${purpose} URLs must be http or https, not ${url.protocol.replace(":", "")}.`);
  }
  if (url.username || url.password) {
    throw refuse(`${purpose} URLs may not contain credentials; put a token in the path or query.`);
  }
  const host = hostOf(url);
  if (isIP(host)) {
    const reason = allowPrivate ? null : refusal(host);
    if (reason) throw refuse(`${host} is ${reason}; ${ALLOW_PRIVATE_HINT}.`);
    return url;
  }
  let addresses: string[];
  try {
    addresses = (await resolveAll(host)).map((a) => a.address);
  } catch {
    throw refuse(`${host} does not resolve; check the host name.`);
  }
  if (allowPrivate) return url;
  for (const address of addresses) {
    const reason = refusal(address);
    if (reason) throw refuse(`${host} resolves to ${address}, ${reason}; ${ALLOW_PRIVATE_HINT}.`);
  }
  return url;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `net.connect` lookup that resolves, refuses non-public answers and hands the socket exactly the
 * checked addresses — so the connection goes where the check looked.
 */
export function pinnedLookup(
  hostname: string,
  options: { all?: boolean; family?: number | string },
  callback: LookupCallback,
): void {
  resolveAll(hostname).then(
    (addresses) => {
      const refused = addresses.map((a) => refusedAddress(a.address)).find((r) => r !== null);
      const usable = refused ? [] : addresses;
      if (usable.length === 0) {
        const error: NodeJS.ErrnoException = new Error(
          `refused webhook target ${hostname}: ${refused ?? "no addresses"}`,
        );
        error.code = "EWEBHOOKTARGET";
        callback(error, options.all ? [] : "", 0);
        return;
      }
      if (options.all) callback(null, usable);
      else callback(null, usable[0]?.address ?? "", usable[0]?.family ?? 4);
    },
    (error: NodeJS.ErrnoException) => callback(error, options.all ? [] : "", 0),
  );
}
