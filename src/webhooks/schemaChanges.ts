import type { Actor } from "../auth/index.ts";
import type { Db } from "../kernel/index.ts";
import { recordSchemaChanges } from "../ledger/index.ts";
import type { SchemaEvent } from "../metadata/index.ts";
import { schemaPayloadData } from "./creator.ts";
import { enqueueSchemaDeliveries } from "./queue.ts";

/**
 * What the metadata service runs in each of its transactions: the schema changes are recorded in
 * the log the feed and subscriptions read, and their webhook deliveries enqueued, before it commits.
 */
export async function recordSchemaChangesAndDeliveries(
  tx: Db,
  actor: Actor,
  events: SchemaEvent[],
): Promise<void> {
  const recorded = await recordSchemaChanges(tx, actor, events);
  await enqueueSchemaDeliveries(
    tx,
    actor.workspaceId,
    recorded.map((change) => ({
      readableRoles: change.readableRoles,
      eventType: `schema.${change.kind.toLowerCase()}`,
      data: schemaPayloadData(change),
    })),
  );
}
