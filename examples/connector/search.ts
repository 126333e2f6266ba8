import type { PlugboardClient } from "plugboard/client";
import { inputFields, toValues } from "./fields.ts";
import { type ResourceRecord, resourceRecord } from "./output.ts";

/**
 * The search step: resources of `resourceType` whose fields equal `match` (`{ email: "a@b.c" }`),
 * best first; platforms use the first. Empty when none match (a search that finds nothing is not
 * an error: the flow decides).
 */
export async function findResources(
  client: PlugboardClient,
  resourceType: string,
  match: Record<string, unknown>,
): Promise<ResourceRecord[]> {
  const page = await client.resources({ type: resourceType, match, first: 10 });
  return page.nodes.map(resourceRecord);
}

/**
 * Find-or-create, the search's "create if not found" option: the first match, else a new resource
 * from `match` plus `input`. Two runs at once may both miss and both create; when the match is
 * on unique fields, the upsert action does the same in one transaction instead.
 */
export async function findOrCreate(
  client: PlugboardClient,
  resourceType: string,
  match: Record<string, unknown>,
  input: Record<string, unknown> = {},
): Promise<{ record: ResourceRecord; created: boolean }> {
  const [found] = await findResources(client, resourceType, match);
  if (found) return { record: found, created: false };
  const values = { ...toValues(await inputFields(client, resourceType), input), ...match };
  const resource = await client.createResource({ type: resourceType, values });
  return { record: resourceRecord(resource), created: true };
}
