import type { Actor } from "../auth/index.ts";
import { type ChangeFeed, type ChangeRecord, canSeeSchemaChange } from "../ledger/index.ts";
import type { Catalog } from "../metadata/index.ts";
import { eventTypeOf, payloadData } from "./creator.ts";
import type { DeliveryRow } from "./tables.ts";

/** What a due delivery becomes once its payload is built for the creator as they are now. */
export type Prepared =
  | { action: "send"; delivery: DeliveryRow; data: Record<string, unknown> }
  /** Nothing of it is visible to the creator any more (a type or every changed field hidden since). */
  | { action: "skip"; delivery: DeliveryRow }
  /** Its change is no longer retained: there is nothing to send. */
  | { action: "unsendable"; delivery: DeliveryRow };

export const CHANGE_NOT_RETAINED =
  "Not sent: the change was no longer retained (PLUGBOARD_CHANGE_RETENTION_DAYS) when the delivery was due.";

/**
 * The event type a resource change is enqueued under, named by the type's current key (as its
 * payload's `resourceType` will be); the key recorded with the change if the type is gone.
 */
export function eventTypeOfRecord(catalog: Catalog, record: ChangeRecord): string {
  const key = catalog.typesById.get(record.resource_type_id)?.key ?? record.resource_type_key;
  return eventTypeOf({ resourceType: key, kind: record.kind });
}

/**
 * Builds the payload data of a leased webhook's due deliveries, in their order. Resource changes
 * are read from the feed by id (one statement for the batch) and trimmed once, with the creator's
 * access now — so a field hidden since enqueueing stays hidden — which is also when "nothing
 * visible" (SKIPPED) is decided. Schema changes carry their own small data and are checked against
 * the creator's access the same way; a ping's data is empty.
 */
export async function preparePayloads(
  feed: ChangeFeed,
  catalog: Catalog,
  actor: Actor,
  workspaceId: string,
  due: DeliveryRow[],
): Promise<Prepared[]> {
  const seqs = due.flatMap((d) => (d.changeSeq === null ? [] : [d.changeSeq]));
  const records = new Map((await feed.records(workspaceId, seqs)).map((r) => [Number(r.seq), r]));
  return due.map((delivery): Prepared => {
    if (delivery.changeSeq !== null) {
      const record = records.get(delivery.changeSeq);
      if (!record) return { action: "unsendable", delivery };
      const view = feed.trim(catalog, actor, record);
      return view ? { action: "send", delivery, data: payloadData(view) } : { action: "skip", delivery };
    }
    if (delivery.eventType.startsWith("schema.")) {
      // Enqueued for the creator's role; a type or field hidden from it since is not sent.
      const data = delivery.data ?? {};
      const { resourceTypeId, fieldId } = data as { resourceTypeId: string; fieldId: string | null };
      const visible = canSeeSchemaChange(catalog, actor, {
        resourceTypeId,
        fieldId,
        readableRoles: [actor.role],
      });
      return visible ? { action: "send", delivery, data } : { action: "skip", delivery };
    }
    return { action: "send", delivery, data: {} };
  });
}
