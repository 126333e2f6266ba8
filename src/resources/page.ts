import type DataLoader from "dataloader";
import type { ResourceRow } from "../ledger/index.ts";

/**
 * The rows of one listed page, shared by their views. `linked(field)` on every row of a page asks
 * for one batch, which each row waits on, instead of a promise per id and another to gather them
 * (per-row promises were a measurable part of a page's CPU). Ids still go through the request's
 * resource loader (its cache and the access policy).
 */
export class ResourcePage {
  private batches: Map<string, Promise<Map<string, ResourceRow | null>>> | undefined;

  constructor(readonly rows: readonly ResourceRow[]) {}

  /** What the LINKS field `fieldId` of any row of the page points to, by id (null: not readable). */
  linked(
    fieldId: string,
    loader: DataLoader<string, ResourceRow | null>,
  ): Promise<Map<string, ResourceRow | null>> {
    this.batches ??= new Map();
    let batch = this.batches.get(fieldId);
    if (!batch) {
      const ids = new Set<string>();
      for (const row of this.rows) {
        for (const id of (row.values[fieldId] as string[] | undefined) ?? []) ids.add(id);
      }
      const keys = [...ids];
      batch = loader.loadMany(keys).then((found) => {
        const byId = new Map<string, ResourceRow | null>();
        found.forEach((row, i) => {
          if (row instanceof Error) throw row;
          byId.set(keys[i] as string, row);
        });
        return byId;
      });
      this.batches.set(fieldId, batch);
    }
    return batch;
  }
}
