import type { PlugboardClient } from "plugboard/client";
import { inputFields, toValues } from "./fields.ts";
import { type ResourceRecord, resourceRecord } from "./output.ts";

/**
 * The actions. Each takes the form's flat input (strings from the platform, keyed by the dynamic
 * input fields) and returns one flat record for the next steps.
 */

export async function createAction(
  client: PlugboardClient,
  resourceType: string,
  input: Record<string, unknown>,
): Promise<ResourceRecord> {
  const values = toValues(await inputFields(client, resourceType, "create"), input);
  return resourceRecord(await client.createResource({ type: resourceType, values }));
}

/** Changes only the fields given; the rest stay as they are. */
export async function updateAction(
  client: PlugboardClient,
  id: string,
  input: Record<string, unknown>,
): Promise<ResourceRecord> {
  const current = await client.resource(id);
  if (!current) throw new Error(`No resource ${id} (deleted, or not visible to this connection).`);
  const values = toValues(await inputFields(client, current.typeKey, "update"), input);
  return resourceRecord(await client.updateResource({ id, values }));
}

/**
 * Create-or-update by unique fields (`matchOn`, e.g. ["email"]), in one call: the API's
 * `upsertResource` finds and writes in one transaction, so two runs at once cannot both create.
 */
export async function upsertAction(
  client: PlugboardClient,
  resourceType: string,
  matchOn: string[],
  input: Record<string, unknown>,
): Promise<ResourceRecord & { created: boolean }> {
  const values = toValues(await inputFields(client, resourceType, "create"), input);
  const { created, resource } = await client.upsertResource({ type: resourceType, matchOn, values });
  return { ...resourceRecord(resource), created };
}

export async function copyAction(
  client: PlugboardClient,
  id: string,
  overrides: Record<string, unknown> = {},
): Promise<ResourceRecord> {
  return resourceRecord(await client.copyResource({ id, values: overrides }));
}

/** Adds `targetIds` to a LINKS field (`unlink: true` removes them). */
export async function linkAction(
  client: PlugboardClient,
  id: string,
  field: string,
  targetIds: string[],
  unlink = false,
): Promise<ResourceRecord> {
  const input = { id, field, targetIds };
  const resource = unlink ? await client.unlinkResources(input) : await client.linkResources(input);
  return resourceRecord(resource);
}

/** Assigns to a member, or unassigns with null. */
export async function assignAction(
  client: PlugboardClient,
  id: string,
  memberId: string | null,
): Promise<{ id: string; version: number; assigneeId: string | null }> {
  const resource = await client.assignResource({ id, memberId });
  return { id: resource.id, version: resource.version, assigneeId: resource.assignee?.id ?? null };
}

/** Moves under another resource (of the type's parent type), or to the top level with null. */
export async function moveAction(
  client: PlugboardClient,
  id: string,
  parentId: string | null,
): Promise<{ id: string; version: number; parentId: string | null }> {
  const resource = await client.moveResource({ id, parentId });
  return { id: resource.id, version: resource.version, parentId: resource.parent?.id ?? null };
}
