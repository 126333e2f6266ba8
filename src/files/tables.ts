import { sql } from "drizzle-orm";
import {
  bigint,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { members, workspaces } from "../auth/tables.ts";

/** PostgreSQL `bytea`: postgres.js hands it over as a Buffer, PGlite as a Uint8Array. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * An uploaded file's metadata. The bytes live in `file_chunks` (or, later, a bucket). `size` and
 * `sha256` are null while the upload streams in; a row left that way is a failed upload, purged
 * with the orphans. `attached_at` is set the first time a FILE field takes the id: unattached files
 * are readable only by their uploader and purged after `PLUGBOARD_FILE_ORPHAN_HOURS`.
 */
export const files = pgTable(
  "files",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    contentType: text("content_type").notNull(),
    size: bigint("size", { mode: "number" }),
    sha256: text("sha256"),
    createdById: text("created_by_id")
      .notNull()
      .references(() => members.id),
    createdAt: at("created_at").notNull().defaultNow(),
    completedAt: at("completed_at"),
    attachedAt: at("attached_at"),
  },
  (t) => [
    index("files_workspace_idx").on(t.workspaceId, t.id),
    index("files_unattached_idx").on(t.createdAt).where(sql`${t.attachedAt} is null`),
  ],
);

/** A file's bytes in fixed-size pieces (the last one shorter), so reads and Range seeks are cheap. */
export const fileChunks = pgTable(
  "file_chunks",
  {
    fileId: text("file_id")
      .notNull()
      .references(() => files.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    data: bytea("data").notNull(),
  },
  (t) => [primaryKey({ columns: [t.fileId, t.seq] })],
);

/**
 * The HMAC key of signed download URLs: one random key made on first use and shared by every
 * process on the database, so a URL minted by one process verifies on another.
 */
export const fileUrlKeys = pgTable("file_url_keys", {
  id: text("id").primaryKey(),
  secret: text("secret").notNull(),
  createdAt: at("created_at").notNull().defaultNow(),
});

export type FileRow = typeof files.$inferSelect;
