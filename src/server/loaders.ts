import DataLoader from "dataloader";
import type { Actor } from "../auth/actor.ts";
import type { MemberRow, WorkspaceRow } from "../auth/tables.ts";
import { findWorkspace } from "../auth/workspaces.ts";
import type { Services } from "./services.ts";

/** Per-request batching, always scoped to the actor's workspace. */
export interface Loaders {
  member: DataLoader<string, MemberRow | null>;
  workspace: DataLoader<string, WorkspaceRow | null>;
}

function byId<T extends { id: string }>(ids: readonly string[], rows: T[]): (T | null)[] {
  const map = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => map.get(id) ?? null);
}

export function createLoaders(services: Services, actor: Actor | null): Loaders {
  const workspaceId = actor?.workspaceId ?? "";
  const loaders: Loaders = {
    member: new DataLoader(async (ids) => byId(ids, await services.members.byIds(workspaceId, ids))),
    workspace: new DataLoader(async (ids) =>
      Promise.all(
        ids.map(async (id) => (id === workspaceId ? ((await findWorkspace(services.db, id)) ?? null) : null)),
      ),
    ),
  };
  if (actor) loaders.member.prime(actor.memberId, actor.member);
  return loaders;
}
