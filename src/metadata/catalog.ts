import { asc, eq, sql } from "drizzle-orm";
import type { Role } from "../auth/index.ts";
import { type Db, type Listen, queryRows } from "../kernel/index.ts";
import { type SystemColumn, systemFieldByKey } from "./systemFields.ts";
import {
  type Access,
  type FieldRow,
  fieldAccess,
  fields,
  type ResourceTypeRow,
  resourceTypes,
  typeAccess,
} from "./tables.ts";

export interface FieldDef extends FieldRow {
  /** Set for system fields stored in a typed column. */
  column: SystemColumn | null;
  /** System fields nobody writes (createdAt, updatedAt, createdBy). */
  readOnly: boolean;
}

export interface TypeDef extends ResourceTypeRow {
  fields: FieldDef[];
  fieldsByKey: Map<string, FieldDef>;
}

/** A workspace's resource types, fields and access rules, as one immutable snapshot. */
export class Catalog {
  readonly typesByKey = new Map<string, TypeDef>();
  readonly typesById = new Map<string, TypeDef>();
  readonly fieldsById = new Map<string, FieldDef>();

  constructor(
    readonly workspaceId: string,
    readonly version: number,
    readonly types: TypeDef[],
    readonly typeAccess: Map<string, Map<Role, Access>>,
    readonly fieldAccess: Map<string, Map<Role, Access>>,
  ) {
    for (const type of types) {
      this.typesByKey.set(type.key, type);
      this.typesById.set(type.id, type);
      for (const field of type.fields) this.fieldsById.set(field.id, field);
    }
  }
}

function accessMap(rows: { id: string; role: Role; access: Access }[]) {
  const map = new Map<string, Map<Role, Access>>();
  for (const row of rows) {
    const byRole = map.get(row.id) ?? new Map<Role, Access>();
    byRole.set(row.role, row.access);
    map.set(row.id, byRole);
  }
  return map;
}

async function loadCatalog(db: Db, workspaceId: string, version: number): Promise<Catalog> {
  const [typeRows, fieldRows, typeRules, fieldRules] = await Promise.all([
    db
      .select()
      .from(resourceTypes)
      .where(eq(resourceTypes.workspaceId, workspaceId))
      .orderBy(asc(resourceTypes.key)),
    db
      .select()
      .from(fields)
      .where(eq(fields.workspaceId, workspaceId))
      .orderBy(asc(fields.position), asc(fields.createdAt), asc(fields.id)),
    db
      .select({ id: typeAccess.resourceTypeId, role: typeAccess.role, access: typeAccess.access })
      .from(typeAccess)
      .where(eq(typeAccess.workspaceId, workspaceId)),
    db
      .select({ id: fieldAccess.fieldId, role: fieldAccess.role, access: fieldAccess.access })
      .from(fieldAccess)
      .where(eq(fieldAccess.workspaceId, workspaceId)),
  ]);
  const types: TypeDef[] = typeRows.map((row) => {
    const typeFields: FieldDef[] = fieldRows
      .filter((f) => f.resourceTypeId === row.id)
      .map((f) => {
        const system = f.system ? systemFieldByKey.get(f.key) : undefined;
        return { ...f, column: system?.column ?? null, readOnly: system?.readOnly ?? false };
      });
    return { ...row, fields: typeFields, fieldsByKey: new Map(typeFields.map((f) => [f.key, f])) };
  });
  return new Catalog(workspaceId, version, types, accessMap(typeRules), accessMap(fieldRules));
}

/** Notified with the workspace id when a workspace's catalog changes (in the changing transaction). */
const SCHEMA_CHANNEL = "plugboard_schema";
/**
 * While watching, how long a cached catalog is trusted without asking `schema_versions`: a safety
 * net only, since notifications arrive as each change commits.
 */
const TRUST_MS = 5_000;

/**
 * Per-process cache of each workspace's catalog. Unwatched (embedded PGlite), it is checked against
 * `schema_versions` (one indexed read) whenever a request first needs it. Watched (PostgreSQL), other
 * processes' changes arrive by NOTIFY as they commit, so reads skip that query — one of the three
 * statements of a list page.
 */
export class CatalogStore {
  private readonly cache = new Map<string, { catalog: Catalog; checkedAt: number }>();
  /** Shared reads in flight; an invalidation drops them, so later callers read afresh. */
  private readonly reading = new Map<string, Promise<Catalog>>();
  private watching = false;
  /** Bumped by every invalidation, so a read that raced one does not cache what it read. */
  private generation = 0;

  constructor(private readonly db: Db) {}

  /** Starts trusting cached catalogs between notifications; resolves to a function that stops. */
  async watch(listen: Listen): Promise<() => Promise<void>> {
    const unlisten = await listen(
      SCHEMA_CHANNEL,
      (workspaceId) => this.forget(workspaceId),
      () => {
        this.generation++;
        this.cache.clear();
        this.reading.clear();
      },
    );
    this.watching = true;
    return async () => {
      this.watching = false;
      await unlisten();
    };
  }

  /**
   * The workspace's current catalog. Through the store's own database, concurrent callers share one
   * check (and load): at start, or when the trusted period ends under load, every request in flight
   * used to run its own.
   */
  get(workspaceId: string, db: Db = this.db): Promise<Catalog> {
    if (db !== this.db) return this.read(workspaceId, db, undefined);
    const cached = this.cache.get(workspaceId);
    if (cached && this.watching && Date.now() - cached.checkedAt < TRUST_MS) {
      return Promise.resolve(cached.catalog);
    }
    let reading = this.reading.get(workspaceId);
    if (!reading) {
      const started = this.read(workspaceId, db, cached).finally(() => {
        if (this.reading.get(workspaceId) === started) this.reading.delete(workspaceId);
      });
      this.reading.set(workspaceId, started);
      reading = started;
    }
    return reading;
  }

  /** Checks the version and loads the catalog if `cached` is not current; caches shared reads. */
  private async read(
    workspaceId: string,
    db: Db,
    cached: { catalog: Catalog; checkedAt: number } | undefined,
  ): Promise<Catalog> {
    const shared = db === this.db;
    const checkedAt = Date.now();
    const generation = this.generation;
    const [row] = await queryRows<{ version: number }>(
      db,
      sql`select version from schema_versions where workspace_id = ${workspaceId}`,
    );
    const version = row?.version ?? 0;
    if (cached && cached.catalog.version === version) {
      if (generation === this.generation) cached.checkedAt = checkedAt;
      return cached.catalog;
    }
    const catalog = await loadCatalog(db, workspaceId, version);
    if (shared && generation === this.generation) this.cache.set(workspaceId, { catalog, checkedAt });
    return catalog;
  }

  /** Bumps the version inside the caller's transaction; every process reloads on its next read. */
  async bump(tx: Db, workspaceId: string): Promise<void> {
    await tx.execute(
      sql`update schema_versions set version = version + 1, updated_at = now() where workspace_id = ${workspaceId}`,
    );
    await tx.execute(sql`select pg_notify(${SCHEMA_CHANNEL}, ${workspaceId})`);
    this.forget(workspaceId);
  }

  /** Drops the cached catalog (after a metadata transaction commits or fails). */
  forget(workspaceId: string): void {
    this.generation++;
    this.cache.delete(workspaceId);
    this.reading.delete(workspaceId);
    for (const listener of this.listeners) listener(workspaceId);
  }

  private readonly listeners = new Set<(workspaceId: string) => void>();

  /**
   * Calls `listener` with the workspace id whenever a catalog may have changed (a local metadata
   * write ended, or another process's was notified): schema change streams wake on it.
   */
  onChange(listener: (workspaceId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
