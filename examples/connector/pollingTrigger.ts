import type { ChangeFilter, PlugboardClient } from "plugboard/client";
import { type ChangeRecord, changeRecord } from "./output.ts";

/**
 * What the platform keeps between polls (Zapier's and n8n's "static data", Workato's "closure"):
 * the cursor to continue from and the ids already emitted.
 */
export interface PollState {
  cursor: string | null;
  seen: string[];
}

export const initialPollState = (): PollState => ({ cursor: null, seen: [] });

/** How many emitted ids are remembered: enough to cover a replayed page, small enough to store. */
const SEEN_LIMIT = 1000;

export interface PollOptions {
  filter?: ChangeFilter;
  /** At most this many changes per poll; the rest come on the next one (default 100). */
  limit?: number;
}

/**
 * The polling trigger, run on the platform's schedule. The first poll starts at the head (a trigger
 * fires for what happens after it is turned on); every later poll continues from the stored cursor,
 * so nothing is missed while the platform was down. The feed is at-least-once — a platform that
 * crashed after emitting but before saving its state polls the same changes again — so changes are
 * also de-duplicated by id.
 */
export async function poll(
  client: PlugboardClient,
  state: PollState,
  options: PollOptions = {},
): Promise<{ records: ChangeRecord[]; state: PollState }> {
  const limit = options.limit ?? 100;
  const seen = new Set(state.seen);
  const records: ChangeRecord[] = [];
  const changes = client.changes({
    after: state.cursor,
    filter: options.filter,
    follow: false,
    pageSize: Math.min(limit, 1000),
  });
  for await (const { change } of changes) {
    if (!seen.has(change.id)) {
      seen.add(change.id);
      records.push(changeRecord(change));
    }
    if (records.length >= limit) break;
  }
  // The iterator's position: past the last change emitted, or past changes the filter skipped.
  return { records, state: { cursor: changes.cursor, seen: [...seen].slice(-SEEN_LIMIT) } };
}

/** Sample data for the trigger's set-up screen: the newest few changes, without moving any cursor. */
export async function sample(client: PlugboardClient, filter?: ChangeFilter): Promise<ChangeRecord[]> {
  const page = await client.changesPage({ last: 3, filter });
  return page.nodes.map(changeRecord).reverse();
}
