import type DataLoader from "dataloader";
import { type ListedRow, linkedIds, type ResourceRow } from "../ledger/index.ts";

/** What a LINKS field of a page's rows points to, by id (null: not readable). */
export type LinkedRows = Map<string, ListedRow | null>;

/**
 * The rows of one listed page, shared by their views. `linked(field)` on every row of a page asks
 * for one batch, which each row waits on, instead of a promise per id and another to gather them
 * (per-row promises were a measurable part of a page's CPU). The batch is the rows read with the
 * page when it was listed (`read`: already through the access policy), else ids through the
 * request's resource loader (its cache and the access policy).
 */
export class ResourcePage {
  private batches: Map<string, Promise<LinkedRows>> | undefined;

  constructor(
    readonly rows: readonly ListedRow[],
    private readonly read?: ReadonlyMap<string, LinkedRows>,
  ) {}

  /** What the LINKS field `fieldId` of any row of the page points to, by id (null: not readable). */
  linked(fieldId: string, loader: DataLoader<string, ResourceRow | null>): Promise<LinkedRows> {
    this.batches ??= new Map();
    let batch = this.batches.get(fieldId);
    if (!batch) {
      const read = this.read?.get(fieldId);
      batch = read ? Promise.resolve(read) : this.load(fieldId, loader);
      this.batches.set(fieldId, batch);
    }
    return batch;
  }

  private async load(fieldId: string, loader: DataLoader<string, ResourceRow | null>): Promise<LinkedRows> {
    const keys = [...linkedIds(this.rows, [fieldId])];
    const found = await loader.loadMany(keys);
    const byId: LinkedRows = new Map();
    found.forEach((row, i) => {
      if (row instanceof Error) throw row;
      byId.set(keys[i] as string, row);
    });
    return byId;
  }
}
