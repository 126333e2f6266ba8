import { type Actor, actorFor, findActiveMember, roleScopes } from "../auth/index.ts";
import type { Db } from "../kernel/index.ts";
import { AppError } from "../kernel/index.ts";
import type { ChangeFeed, ChangeView, StoredActor } from "../ledger/index.ts";
import {
  type ChangeFilter,
  MATCH_NOTHING,
  type ResolvedFilter,
  type SchemaChangeView,
} from "../ledger/index.ts";
import type { Catalog } from "../metadata/index.ts";
import { canReadField, canReadType } from "../metadata/index.ts";
import type { StoredFilter, WebhookRow } from "./tables.ts";

/**
 * A webhook reads the feed as its creator (docs/changes-and-webhooks.md: trimmed to what its creator
 * can read at delivery time): their current role with everything that role allows. Null once the
 * creator has left the workspace.
 */
export async function creatorActor(db: Db, webhook: Pick<WebhookRow, "workspaceId" | "createdById">) {
  const member = await findActiveMember(db, webhook.createdById, webhook.workspaceId);
  if (!member) return null;
  // Not a request credential: the worker acts for the member; reads ignore the credential.
  return actorFor(member, roleScopes[member.role], {
    kind: "member",
    id: null,
    ref: member.id,
    expiresAt: null,
  });
}

/**
 * The stored filter resolved through the feed for the creator as they are now. Types or fields the
 * creator can no longer read (or that were deleted) drop out of the lists instead of failing the
 * webhook; a filter left with no type matches nothing rather than everything, and so does one whose
 * `where` or `transitions` name a field the creator can no longer read (a hidden value must not
 * decide what is delivered).
 */
export function resolveForCreator(
  feed: ChangeFeed,
  catalog: Catalog,
  actor: Actor,
  filter: StoredFilter,
): ResolvedFilter {
  const types = filter.types.filter((key) => {
    const type = catalog.typesByKey.get(key);
    return type && canReadType(catalog, actor, type);
  });
  const candidates = types.length
    ? types.map((key) => catalog.typesByKey.get(key))
    : catalog.types.filter((type) => canReadType(catalog, actor, type));
  const fields = filter.fields.filter((key) =>
    candidates.some((type) => {
      const field = type?.fieldsByKey.get(key);
      return field && canReadField(catalog, actor, field);
    }),
  );
  const nothing =
    (filter.types.length > 0 && types.length === 0) || (filter.fields.length > 0 && fields.length === 0);
  if (nothing) return MATCH_NOTHING;
  try {
    // `where` was checked as a ResourceFilter when stored; resolving checks it again.
    const where = filter.where as ChangeFilter["where"];
    return feed.resolveFilter(catalog, actor, { ...filter, types, fields, where });
  } catch (error) {
    if (error instanceof AppError) return MATCH_NOTHING;
    throw error;
  }
}

/** `<resourceType>.<kind lowercased>`, e.g. `contact.updated`. */
export function eventTypeOf(change: Pick<ChangeView, "resourceType" | "kind">): string {
  return `${change.resourceType}.${change.kind.toLowerCase()}`;
}

const actorKinds = { api_key: "API_KEY", oauth: "OAUTH", member: "MEMBER", system: "SYSTEM" } as const;

/** The payload's `data` (docs/changes-and-webhooks.md): the change as the feed serves it, no `resource`. */
export function payloadData(view: ChangeView): Record<string, unknown> {
  const actor: StoredActor = view.actor;
  return {
    id: view.id,
    kind: view.kind,
    resourceType: view.resourceType,
    resourceId: view.resourceId,
    occurredAt: view.occurredAt.toISOString(),
    actor: { kind: actorKinds[actor.kind], memberId: actor.memberId, credentialId: actor.credentialId },
    fields: view.fields.map((f) => ({
      fieldId: f.fieldId,
      key: f.key,
      name: f.name,
      previousValue: f.previousValue ?? null,
      value: f.value ?? null,
      ...(f.added ? { added: f.added } : {}),
      ...(f.removed ? { removed: f.removed } : {}),
    })),
    snapshot: view.snapshot,
    version: view.version,
    origin: view.origin,
    request: view.request ?? null,
  };
}

/** A schema change's payload `data` (docs/changes-and-webhooks.md, "Schema changes"). */
export function schemaPayloadData(view: SchemaChangeView): Record<string, unknown> {
  const actor: StoredActor = view.actor;
  return {
    id: view.id,
    kind: view.kind,
    resourceType: view.resourceType,
    resourceTypeId: view.resourceTypeId,
    fieldKey: view.fieldKey,
    fieldId: view.fieldId,
    role: view.role,
    access: view.access,
    occurredAt: view.occurredAt.toISOString(),
    actor: { kind: actorKinds[actor.kind], memberId: actor.memberId, credentialId: actor.credentialId },
    request: view.request,
  };
}
