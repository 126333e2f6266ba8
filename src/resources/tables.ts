import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { workspaces } from "../auth/tables.ts";

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
    index("resources_type_id_idx").on(t.workspaceId, t.typeId, t.id).where(sql`${t.deletedAt} is null`),
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
    index("resources_parent_idx").on(t.parentId),
    index("resources_assignee_idx").on(t.assigneeId),
    // No pending list (fastupdate): with writes going on, every JSONB lookup scanned the whole list
    // (4 MB by default) — an email lookup cost PostgreSQL ~1.5 ms instead of ~0.1 ms (bench:peers).
    index("resources_values_idx").using("gin", sql`${t.values} jsonb_path_ops`).with({ fastupdate: false }),
  ],
);

/** Idempotency keys of create/upsert/copy/bulk create: the first result, kept 24 hours. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    operation: text("operation").notNull(),
    requestHash: text("request_hash").notNull(),
    result: jsonb("result").$type<unknown>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.key] }),
    index("idempotency_keys_created_idx").on(t.createdAt),
  ],
);

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
