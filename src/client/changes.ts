import { type ChangeFilter, ChangesDocument, type ChangesQuery } from "./generated.ts";
import { execute, sleep, type Transport } from "./transport.ts";

export type Change = ChangesQuery["changes"]["nodes"][number];

/** One change and the cursor to store: resuming with `after: cursor` continues just past it. */
export interface ChangeEntry {
  change: Change;
  cursor: string;
}

export interface ChangesOptions {
  /**
   * Start just after this cursor (a stored `ChangeEntry.cursor`, or a `headCursor`). Absent: from
   * now (the current head); "0": from the oldest retained change.
   */
  after?: string | null;
  filter?: ChangeFilter;
  /** Changes per request (default 100, at most 1000). */
  pageSize?: number;
  /**
   * true (default): at the head, wait and poll again, forever (until `signal` aborts or the loop
   * breaks). false: end once the head is reached — one polling-trigger run.
   */
  follow?: boolean;
  /** The first wait at the head (default 1 s); doubles while nothing new arrives, up to `maxPollIntervalMs`. */
  pollIntervalMs?: number;
  /** Default 30 s. */
  maxPollIntervalMs?: number;
  signal?: AbortSignal;
}

/**
 * The changes feed as an async iterator. Every change comes with its cursor; store it after acting
 * on the change and pass it as `after` after a restart: delivery is at-least-once from that point,
 * in order. `cursor` on the returned object is the position scanned so far, which also advances
 * past changes the filter skipped.
 */
export interface ChangeIterator extends AsyncIterable<ChangeEntry> {
  readonly cursor: string | null;
}

export function iterateChanges(t: Transport, options: ChangesOptions = {}): ChangeIterator {
  const pageSize = options.pageSize ?? 100;
  const baseWait = options.pollIntervalMs ?? 1000;
  const maxWait = options.maxPollIntervalMs ?? 30_000;
  const state = { cursor: options.after ?? null };

  async function* run(): AsyncGenerator<ChangeEntry> {
    if (state.cursor === null) {
      const { changes } = await execute(t, ChangesDocument, { first: 0 });
      state.cursor = changes.headCursor;
    }
    let wait = baseWait;
    while (!options.signal?.aborted) {
      const { changes }: ChangesQuery = await execute(t, ChangesDocument, {
        after: state.cursor,
        first: pageSize,
        filter: options.filter,
      });
      for (const change of changes.nodes) {
        state.cursor = change.id;
        yield { change, cursor: change.id };
        if (options.signal?.aborted) return;
      }
      if (changes.pageInfo.endCursor) state.cursor = changes.pageInfo.endCursor;
      if (changes.pageInfo.hasNextPage) {
        wait = baseWait;
        continue;
      }
      if (options.follow === false) return;
      if (changes.nodes.length > 0) wait = baseWait;
      await sleep(wait, options.signal);
      if (changes.nodes.length === 0) wait = Math.min(maxWait, wait * 2);
    }
  }

  return {
    get cursor() {
      return state.cursor;
    },
    [Symbol.asyncIterator]: () => run(),
  };
}
