import type { Change, WebhookChange } from "plugboard/client";

/**
 * One flat record per change, the shape trigger outputs take on every platform: `id` is the change
 * id (platforms de-duplicate on `id`), the resource's values are spread at the top level.
 */
export interface ChangeRecord {
  id: string;
  kind: string;
  resourceType: string;
  resourceId: string;
  occurredAt: string;
  changedFields: string[];
  [field: string]: unknown;
}

export function changeRecord(change: Change | WebhookChange): ChangeRecord {
  return {
    ...(change.snapshot as Record<string, unknown>),
    id: change.id,
    kind: change.kind,
    resourceType: change.resourceType,
    resourceId: change.resourceId,
    occurredAt: change.occurredAt,
    changedFields: change.fields.map((f) => f.key),
  };
}

/** A resource as actions and searches return it: id, type and version, values at the top level. */
export interface ResourceRecord {
  id: string;
  version: number;
  [field: string]: unknown;
}

export function resourceRecord(resource: { id: string; version: number; values: unknown }): ResourceRecord {
  return { ...(resource.values as Record<string, unknown>), id: resource.id, version: resource.version };
}
