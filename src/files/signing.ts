import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../kernel/index.ts";

/** Signed URLs live at most a week; a connector asks for a new one when it needs the bytes again. */
export const MAX_URL_SECONDS = 7 * 24 * 3600;
export const DEFAULT_URL_SECONDS = 3600;

/**
 * Signed download URLs: `?expires=<unix seconds>&signature=<HMAC-SHA256(id:expires)>`. No
 * credential ever appears in a URL; the signature only proves that someone allowed to read the
 * file asked for a link, until it expires.
 */
export class UrlSigner {
  private key: Promise<Buffer> | null = null;

  constructor(private readonly db: Db) {}

  /** The shared key: made once per database (the first process wins), then cached. */
  private secret(): Promise<Buffer> {
    this.key ??= (async () => {
      await this.db.execute(
        sql`insert into file_url_keys (id, secret) values ('default', ${randomBytes(32).toString("base64url")})
            on conflict (id) do nothing`,
      );
      const [row] = await queryRows<{ secret: string }>(
        this.db,
        sql`select secret from file_url_keys where id = 'default'`,
      );
      if (!row) throw new Error("file URL key missing");
      return Buffer.from(row.secret, "base64url");
    })().catch((error) => {
      this.key = null;
      throw error;
    });
    return this.key;
  }

  private async mac(id: string, expires: number): Promise<Buffer> {
    return createHmac("sha256", await this.secret())
      .update(`${id}:${expires}`)
      .digest();
  }

  /** The query string of a link to `id` valid for `seconds`. */
  async sign(id: string, seconds: number, now = Date.now()): Promise<string> {
    const expires = Math.floor(now / 1000) + seconds;
    const signature = (await this.mac(id, expires)).toString("base64url");
    return `expires=${expires}&signature=${signature}`;
  }

  /** Whether `expires`/`signature` are a valid, unexpired link to `id`. */
  async verify(
    id: string,
    expires: string | null,
    signature: string | null,
    now = Date.now(),
  ): Promise<boolean> {
    if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return false;
    const at = Number(expires);
    if (at * 1000 < now) return false;
    const expected = await this.mac(id, at);
    const given = Buffer.from(signature, "base64url");
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
