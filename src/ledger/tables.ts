import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { workspaces } from "../auth/tables.ts";
import { schemaChangeKindEnum } from "../metadata/tables.ts";

/**
 * Every resource of every type lives here: typed columns for the system fields, and one JSONB
 * object of every other field's value keyed by the field's stable id (so renames never touch rows
 * and a deleted field's id is never reused). Indexes for custom fields are made at run time by the
 * metadata service (see `src/metadata/fieldIndexes.ts`).
 */
export const resources = pgTable(
  "resources",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    typeId: text("type_id").notNull(),
    name: text("name"),
    parentId: text("parent_id"),
    assigneeId: text("assignee_id"),
    createdById: text("created_by_id"),
    values: jsonb("values").$type<Record<string, unknown>>().notNull().default({}),
    version: integer("version").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** Soft delete: restorable until the retention period ends. */
    deletedAt: timestamp("deleted_at", { withTimezone: true, precision: 3 }),
  },
  (t) => [
    // The default order's index. Its id is byte-ordered ("C"), as listings in id order sort, so the
    // primary key (the database's collation) cannot give that order: with the primary key in the
    // running, PostgreSQL read other types' rows sorted before the type's first (see `idOrderColumn`).
    index("resources_type_id_idx")
      .on(t.workspaceId, t.typeId, sql`${t.id} collate "C"`)
      .where(sql`${t.deletedAt} is null`),
    // The name is nullable: sorted as `nullableSortColumns` spells it (src/metadata/fieldIndexes.ts).
    index("resources_type_name_sort_idx")
      .on(t.workspaceId, t.typeId, sql`(${t.name} is null)`, sql`coalesce(${t.name}, '')`, t.id)
      .where(sql`${t.deletedAt} is null`),
    index("resources_type_created_idx")
      .on(t.workspaceId, t.typeId, t.createdAt, t.id)
      .where(sql`${t.deletedAt} is null`),
    index("resources_type_updated_idx")
      .on(t.workspaceId, t.typeId, t.updatedAt, t.id)
      .where(sql`${t.deletedAt} is null`),
    // Only rows that have one: most have no parent or assignee, and a create then writes neither
    // index (reads look up a value, `parent_id = …`, which implies it is not null).
    index("resources_parent_idx").on(t.parentId).where(sql`${t.parentId} is not null`),
    index("resources_assignee_idx").on(t.assigneeId).where(sql`${t.assigneeId} is not null`),
    // No pending list (fastupdate): with writes going on, every JSONB lookup scanned the whole list
    // (4 MB by default) — an email lookup cost PostgreSQL ~1.5 ms instead of ~0.1 ms (bench:peers).
    index("resources_values_idx").using("gin", sql`${t.values} jsonb_path_ops`).with({ fastupdate: false }),
  ],
);

/**
 * Every string a resource holds in `values`, by field: `eq` on a text-like field reads this btree
 * instead of the GIN index on `values` (drizzle/0009). An equality's rows come out of it in
 * resource id order, so the default order's page stops after its rows whatever the value's
 * selectivity, and the plan needs no per-execution planning (a prepared statement's generic plan
 * is safe). Kept by triggers on `resources` in the statement that writes the row, like an index
 * (on an update, only for a row whose `values` changed: drizzle/0013); the first VALUE_KEY_LENGTH
 * characters only (a btree entry is bounded), so a reader rechecks `values`. Rows of a deleted
 * field stay until their resource is rewritten (ids are never reused).
 */
export const resourceStringValues = pgTable(
  "resource_string_values",
  {
    workspaceId: text("workspace_id").notNull(),
    fieldId: text("field_id").notNull(),
    value: text("value").notNull(),
    resourceId: text("resource_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.fieldId, t.value, t.resourceId] })],
);

/** How many characters of a string `resource_string_values` keeps (drizzle/0009's `left(…, 256)`). */
export const VALUE_KEY_LENGTH = 256;

/**
 * A resource row as Plugboard reads it (`rows.ts`): timestamps are ISO 8601 strings in UTC with
 * milliseconds, formatted by PostgreSQL, exactly as the API shows them. A page of 50 with its
 * linked accounts spent ~8% of its CPU parsing them into Dates and formatting them back.
 */
export type ResourceRow = Omit<typeof resources.$inferSelect, "createdAt" | "updatedAt" | "deletedAt"> & {
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
};

export const changeKindEnum = pgEnum("change_kind", ["CREATED", "UPDATED", "DELETED", "RESTORED"]);

/** PostgreSQL's 64-bit transaction id, as text in JavaScript. */
const xid8 = customType<{ data: string }>({ dataType: () => "xid8" });

export interface StoredFieldChange {
  fieldId: string;
  key: string;
  name: string;
  previousValue: unknown;
  value: unknown;
  added?: unknown[];
  removed?: unknown[];
}

/** "Became X": the field changed from `from` to `to`; an absent side means any value. */
export interface ChangeTransition {
  field: string;
  from?: unknown;
  to?: unknown;
}

/** Changes made by any of these are left out. */
export interface ActorSet {
  memberIds?: string[] | null;
  credentialIds?: string[] | null;
  oauthClientIds?: string[] | null;
}

export interface StoredActor {
  kind: "member" | "api_key" | "oauth" | "system";
  memberId: string | null;
  credentialId: string | null;
}

export interface StoredRequest {
  requestId: string | null;
  idempotencyKey: string | null;
}

/**
 * The change log. Writers append rows in their own transaction with `xid` = their transaction id
 * and no `seq`; the sequencer later gives committed rows the dense public `seq`, in commit order
 * (see `sequencer.ts`). Readers only ever see rows with a `seq`.
 */
export const changes = pgTable(
  "changes",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    xid: xid8("xid").notNull().default(sql`pg_current_xact_id()`),
    seq: bigint("seq", { mode: "number" }),
    kind: changeKindEnum("kind").notNull(),
    resourceTypeId: text("resource_type_id").notNull(),
    resourceTypeKey: text("resource_type_key").notNull(),
    resourceId: text("resource_id").notNull(),
    actor: jsonb("actor").$type<StoredActor>().notNull(),
    fields: jsonb("fields").$type<StoredFieldChange[]>().notNull(),
    /** Values by field key just after the change (just before, for DELETED). */
    snapshot: jsonb("snapshot").$type<Record<string, unknown>>().notNull(),
    version: integer("version").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** The `X-Plugboard-Origin` header of the writing request: lets a connector skip its own writes. */
    origin: text("origin"),
    /** The request that made the change: its id and Idempotency-Key (null for background work). */
    request: jsonb("request").$type<StoredRequest | null>(),
  },
  (t) => [
    // Numbered changes only: a change row is written unnumbered and numbered by the sequencer's
    // update, which writes every index again; the write itself then skips these two. Every read
    // of them asks for numbered changes (`seq > …`, `seq = any(…)`, `seq is not null`).
    uniqueIndex("changes_workspace_seq").on(t.workspaceId, t.seq).where(sql`${t.seq} is not null`),
    // cursorAt / since: the first change at or after a time.
    index("changes_workspace_time").on(t.workspaceId, t.occurredAt, t.seq).where(sql`${t.seq} is not null`),
    index("changes_unsequenced").on(t.workspaceId, t.xid, t.id).where(sql`${t.seq} is null`),
  ],
);

/**
 * Changes to types, fields and access rules, written in the metadata transaction that makes them.
 * Metadata writes hold the workspace's metadata lock until they commit, so `seq` (the previous
 * one + 1, taken under that lock) is dense and in commit order without a sequencer.
 */
export const schemaChanges = pgTable(
  "schema_changes",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    kind: schemaChangeKindEnum("kind").notNull(),
    resourceTypeId: text("resource_type_id").notNull(),
    resourceTypeKey: text("resource_type_key").notNull(),
    fieldId: text("field_id"),
    fieldKey: text("field_key"),
    /** ACCESS_CHANGED: the role and the access it now has. */
    role: text("role"),
    access: text("access"),
    /** Roles that could read the type (and field) as changed (as it was, for deletions). */
    readableRoles: text("readable_roles").array().notNull(),
    actor: jsonb("actor").$type<StoredActor>().notNull(),
    request: jsonb("request").$type<StoredRequest | null>(),
    occurredAt: timestamp("occurred_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("schema_changes_workspace_seq").on(t.workspaceId, t.seq)],
);

export type SchemaChangeRow = typeof schemaChanges.$inferSelect;

/** Per workspace: the last public change id handed out by the sequencer. */
export const changeFeeds = pgTable("change_feeds", {
  workspaceId: text("workspace_id")
    .primaryKey()
    .references(() => workspaces.id, { onDelete: "cascade" }),
  head: bigint("head", { mode: "number" }).notNull().default(0),
  /** Changes with seq <= this were pruned; a cursor below it is CURSOR_EXPIRED. */
  prunedThrough: bigint("pruned_through", { mode: "number" }).notNull().default(0),
  /**
   * Every change at or before this `(xid, id)`, in the sequencer's order, has its `seq`: where its
   * last pass stopped (drizzle/0011 says why nothing before it can still need one). Lookups of
   * unnumbered changes start after it: the index entries of the rows numbered before stay in
   * `changes_unsequenced` until VACUUM, which PGlite never runs.
   */
  numberedThroughXid: xid8("numbered_through_xid").notNull().default(sql`'0'::xid8`),
  numberedThroughId: bigint("numbered_through_id", { mode: "number" }).notNull().default(0),
});

export type ChangeRow = typeof changes.$inferSelect;
