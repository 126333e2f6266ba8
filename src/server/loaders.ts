import DataLoader from "dataloader";
import type { Actor, MemberRow, WorkspaceRow } from "../auth/index.ts";
import { findWorkspace } from "../auth/index.ts";
import type { ResourceRow } from "../ledger/index.ts";
import { resourcesByIds } from "../ledger/index.ts";
import type { Catalog } from "../metadata/index.ts";
import { canReadResource } from "../metadata/index.ts";
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

/**
 * The loaders of one request, each built on first use (most requests need one or none). A class, so
 * a request creates one small object and no closures until a loader is actually used.
 */
export class RequestLoaders implements Loaders {
  private memberLoader: Loaders["member"] | undefined;
  private workspaceLoader: Loaders["workspace"] | undefined;
  private resourceLoader: Loaders["resource"] | undefined;

  constructor(
    private readonly services: Services,
    private readonly actor: Actor | null,
    private readonly catalog: () => Promise<Catalog>,
  ) {}

  private get workspaceId(): string {
    return this.actor?.workspaceId ?? "";
  }

  get member(): Loaders["member"] {
    if (!this.memberLoader) {
      const { services, actor, workspaceId } = this;
      this.memberLoader = new DataLoader(async (ids) =>
        byId(ids, await services.members.byIds(workspaceId, ids)),
      );
      if (actor) this.memberLoader.prime(actor.memberId, actor.member);
    }
    return this.memberLoader;
  }

  get workspace(): Loaders["workspace"] {
    if (!this.workspaceLoader) {
      const { services, workspaceId } = this;
      this.workspaceLoader = new DataLoader(async (ids) =>
        Promise.all(
          ids.map(async (id) =>
            id === workspaceId ? ((await findWorkspace(services.db, id)) ?? null) : null,
          ),
        ),
      );
    }
    return this.workspaceLoader;
  }

  get resource(): Loaders["resource"] {
    if (!this.resourceLoader) {
      const { services, actor, workspaceId, catalog } = this;
      this.resourceLoader = new DataLoader(async (ids) => {
        if (!actor) return ids.map(() => null);
        const [rows, current] = await Promise.all([resourcesByIds(services.db, workspaceId, ids), catalog()]);
        return byId(
          ids,
          rows.filter((row) => canReadResource(current, actor, row)),
        );
      });
    }
    return this.resourceLoader;
  }
}
