import type { Db } from "../kernel/index.ts";
import { changeFeeds } from "./tables.ts";

/** Seeds a new workspace's change feed: nothing numbered yet. */
export async function seedChangeFeed(tx: Db, workspaceId: string): Promise<void> {
  await tx.insert(changeFeeds).values({ workspaceId, head: 0 });
}
