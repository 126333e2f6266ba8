import { isIP } from "node:net";
import type { Agent } from "undici";
import type { Actor } from "../auth/index.ts";
import { fail } from "../kernel/index.ts";
import { checkTarget, hostOf, pinnedLookup, refusedAddress } from "../webhooks/index.ts";
import { fileNameFromDisposition } from "./disposition.ts";
import type { FileRow } from "./tables.ts";

const MAX_REDIRECTS = 3;
const TIMEOUT_MS = 30_000;

/** What the importer needs of FileService (which builds the importer, so it is not imported back). */
export interface Uploader {
  upload(
    actor: Actor,
    input: {
      name: string | null | undefined;
      declaredType: string | null | undefined;
      declaredLength?: number | null;
      body: AsyncIterable<Uint8Array>;
    },
  ): Promise<FileRow>;
}

/**
 * `importFileFromUrl`: for platforms that pass files around as URLs (Zapier, Make). The URL goes
 * through the webhooks' SSRF guard (public addresses only unless PLUGBOARD_WEBHOOK_ALLOW_PRIVATE,
 * checked again at connect time against DNS rebinding), each redirect hop is checked the same way,
 * and the body streams into storage under the same size limit as an upload.
 */
export class FileImporter {
  private agent: Promise<Agent> | null = null;

  constructor(
    private readonly files: Uploader,
    private readonly allowPrivate: boolean,
  ) {}

  private dispatcher(): Promise<Agent> {
    this.agent ??= import("undici").then(
      ({ Agent }) =>
        new Agent({
          connect: this.allowPrivate
            ? { timeout: TIMEOUT_MS }
            : { timeout: TIMEOUT_MS, lookup: pinnedLookup },
          headersTimeout: TIMEOUT_MS,
          bodyTimeout: TIMEOUT_MS,
        }),
    );
    return this.agent;
  }

  async import(actor: Actor, input: { url: string; name?: string | null }): Promise<FileRow> {
    const { request } = await import("undici");
    let url = await this.check(input.url);
    for (let hop = 0; ; hop++) {
      let response: Awaited<ReturnType<typeof request>>;
      try {
        response = await request(url, {
          method: "GET",
          headers: { "user-agent": "Plugboard-Files/1", accept: "*/*" },
          dispatcher: await this.dispatcher(),
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw fail.badInput("url", `Could not fetch ${url.origin}: ${reason}.`);
      }
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === "string") {
        await response.body.dump().catch(() => {});
        if (hop >= MAX_REDIRECTS) throw fail.badInput("url", `More than ${MAX_REDIRECTS} redirects.`);
        url = await this.check(new URL(location, url).toString());
        continue;
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump().catch(() => {});
        throw fail.badInput(
          "url",
          `The URL answered HTTP ${response.statusCode}; it must answer 200 with the file.`,
        );
      }
      const header = (name: string) => {
        const value = response.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const length = header("content-length");
      try {
        return await this.files.upload(actor, {
          name: input.name ?? fileNameFromDisposition(header("content-disposition")) ?? lastSegment(url),
          declaredType: header("content-type"),
          declaredLength: length === undefined ? null : Number(length),
          body: response.body,
        });
      } finally {
        // Refused part-way (too large): stop reading; the abort that follows is expected.
        response.body.on("error", () => {});
        response.body.destroy();
      }
    }
  }

  private async check(raw: string): Promise<URL> {
    const url = await checkTarget(raw, this.allowPrivate, "url", "import");
    // IP literals skip DNS, and so the pinned lookup: checkTarget has looked at them already, and
    // a redirect to one is checked here again.
    const host = hostOf(url);
    const refused = !this.allowPrivate && isIP(host) ? refusedAddress(host) : null;
    if (refused) throw fail.badInput("url", `Only public addresses can be imported from; ${refused}.`);
    return url;
  }

  async close(): Promise<void> {
    if (this.agent) await (await this.agent).close();
  }
}

function lastSegment(url: URL): string {
  const segment = url.pathname.split("/").filter(Boolean).pop() ?? "";
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
