import DataLoader from "dataloader";
import type { Actor } from "../auth/actor.ts";
import { canReadType } from "../auth/policy.ts";
import type { MemberRow, WorkspaceRow } from "../auth/tables.ts";
import { findWorkspace } from "../auth/workspaces.ts";
import type { Catalog } from "../metadata/catalog.ts";
import { resourcesByIds } from "../resources/rows.ts";
import type { ResourceRow } from "../resources/tables.ts";
import type { Services } from "./services.ts";

/** Per-request batching, always scoped to the actor's workspace and the access policy. */
export interface Loaders {
  member: DataLoader<string, MemberRow | null>;
  workspace: DataLoader<string, WorkspaceRow | null>;
  /** Live resources the actor can read (type access applied); null otherwise. */
  resource: DataLoader<string, ResourceRow | null>;
}

function byId<T extends { id: string }>(ids: readonly string[], rows: T[]): (T | null)[] {
  const map = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => map.get(id) ?? null);
}

export function createLoaders(
  services: Services,
  actor: Actor | null,
  catalog: () => Promise<Catalog>,
): Loaders {
  const workspaceId = actor?.workspaceId ?? "";
  // Built on first use: most requests need one loader or none.
  let member: Loaders["member"] | undefined;
  let workspace: Loaders["workspace"] | undefined;
  let resource: Loaders["resource"] | undefined;
  return {
    get member() {
      if (!member) {
        member = new DataLoader(async (ids) => byId(ids, await services.members.byIds(workspaceId, ids)));
        if (actor) member.prime(actor.memberId, actor.member);
      }
      return member;
    },
    get workspace() {
      workspace ??= new DataLoader(async (ids) =>
        Promise.all(
          ids.map(async (id) =>
            id === workspaceId ? ((await findWorkspace(services.db, id)) ?? null) : null,
          ),
        ),
      );
      return workspace;
    },
    get resource() {
      resource ??= new DataLoader(async (ids) => {
        if (!actor) return ids.map(() => null);
        const [rows, current] = await Promise.all([resourcesByIds(services.db, workspaceId, ids), catalog()]);
        const readable = rows.filter((row) => {
          const type = current.typesById.get(row.typeId);
          return !row.deletedAt && type && canReadType(current, actor, type);
        });
        return byId(ids, readable);
      });
      return resource;
    },
  };
}
