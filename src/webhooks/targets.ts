import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { fail } from "../schema/errors.ts";

/**
 * Outbound safety for webhook targets (SSRF): http(s) only, no credentials in the URL, and — unless
 * `PLUGBOARD_WEBHOOK_ALLOW_PRIVATE` — every address the host resolves to must be public unicast.
 * The same check runs again when connecting (see `pinnedLookup`), so a DNS answer that changes
 * between the check and the connection (rebinding) cannot reach an internal address.
 */

/** Public addresses that are still cloud-internal endpoints (Azure's wire server). */
const deniedAddresses = new Set(["168.63.129.16"]);

export const MAX_URL_LENGTH = 2048;

/** Why an address may not be a webhook target, or null when it may. */
export function refusedAddress(address: string): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  // `process` turns IPv4-mapped IPv6 (::ffff:10.0.0.1) into the IPv4 address it carries.
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  // Only plain public unicast: loopback, private, link-local (cloud metadata), CGNAT, unique-local,
  // multicast, reserved and the IPv6 transition ranges that embed IPv4 addresses are all refused.
  if (range !== "unicast") return `${address} is a ${range} address`;
  if (deniedAddresses.has(parsed.toString())) return `${address} is a cloud metadata address`;
  return null;
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

/** Parses and checks a target URL; BAD_USER_INPUT on `field` with the reason when refused. */
export async function checkTarget(raw: string, allowPrivate: boolean, field = "url"): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail.badInput(field, `${JSON.stringify(raw)} is not an absolute URL; use https://host/path.`);
  }
  if (raw.length > MAX_URL_LENGTH)
    throw fail.badInput(field, `A URL is at most ${MAX_URL_LENGTH} characters.`);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw fail.badInput(field, `Webhook URLs must be http or https, not ${url.protocol.replace(":", "")}.`);
  }
  if (url.username || url.password) {
    throw fail.badInput(field, "Webhook URLs may not contain credentials; put a token in the path or query.");
  }
  if (allowPrivate) return url;
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await resolveAll(host)).map((a) => a.address);
    } catch {
      throw fail.badInput(field, `The host ${host} does not resolve; check the URL.`);
    }
  }
  for (const address of addresses) {
    const reason = refusedAddress(address);
    if (reason) {
      throw fail.badInput(field, `Webhook targets must be public addresses; ${host} resolves to ${reason}.`);
    }
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
