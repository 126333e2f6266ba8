import DataLoader from "dataloader";
import { GraphQLScalarType } from "graphql";
import { MemberRef } from "../auth/index.ts";
import { actorOf, builder, type Context, fail, NodeRef, registerNode } from "../kernel/index.ts";
import { columnOf } from "../ledger/index.ts";
import { visibleField } from "../metadata/index.ts";
import { ResourceRef, type ResourceView, viewResource } from "../resources/index.ts";
import type { UploadInput } from "./service.ts";
import type { FileRow } from "./tables.ts";

function isBlob(value: unknown): value is Blob & { name?: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Blob).stream === "function" &&
    typeof (value as Blob).size === "number"
  );
}

builder.addScalarType(
  "Upload",
  new GraphQLScalarType({
    name: "Upload",
    description:
      "A file sent as a part of a GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec).",
    serialize: () => {
      throw new Error("Upload is an input-only scalar.");
    },
    parseValue: (value) => {
      if (!isBlob(value)) throw fail.badInput("file", "file must be a file part of a multipart request.");
      return value;
    },
    parseLiteral: () => {
      throw fail.badInput("file", "file must be a file part of a multipart request, not a literal.");
    },
  }),
);

/** Files by id for one request, batched across a page of resources. */
const fileLoaders = new WeakMap<Context, DataLoader<string, FileRow | null>>();
function fileLoader(context: Context): DataLoader<string, FileRow | null> {
  let loader = fileLoaders.get(context);
  if (!loader) {
    const actor = actorOf(context);
    loader = new DataLoader(async (ids) => {
      const rows = await context.services.files.byIds(actor.workspaceId, ids);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    });
    fileLoaders.set(context, loader);
  }
  return loader;
}

export const FileRef = builder.objectRef<FileRow>("File").implement({
  description:
    "A stored file. FILE field values hold these ids; the bytes are at `GET /files/:id` (with a credential) or at `url`.",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name", { description: "The uploader's file name (no path)." }),
    contentType: t.exposeString("contentType", {
      description:
        "As served: checked against the bytes; anything a browser could run is application/octet-stream.",
    }),
    size: t.int({ description: "Bytes.", resolve: (f) => f.size ?? 0 }),
    sha256: t.string({
      description: "Hex SHA-256 of the bytes; also the download's ETag.",
      resolve: (f) => f.sha256 ?? "",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    createdBy: t.field({
      type: MemberRef,
      nullable: true,
      resolve: (f, _args, context) => context.loaders.member.load(f.createdById),
    }),
    url: t.string({
      description:
        "A download link that needs no credential, valid for `expiresIn` seconds (default 3600, at most 604800).",
      args: { expiresIn: t.arg.int() },
      resolve: (f, { expiresIn }, context) => context.services.files.signedUrl(f, expiresIn),
    }),
  }),
});

registerNode("file", "File", async (id, context) => {
  const [row] = await context.services.files.readable(actorOf(context), [id]);
  return row ?? null;
});

builder.queryFields((t) => ({
  file: t.field({
    type: FileRef,
    nullable: true,
    description: "A file you can read; null for unknown ids and files you cannot see.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      const [row] = await context.services.files.readable(actorOf(context), [String(id)]);
      return row ?? null;
    },
  }),
  files: t.field({
    type: [FileRef],
    description:
      "The files of `ids` you can read, in order (unknown ones left out): resolves the ids of a change or webhook payload in one call.",
    args: { ids: t.arg.idList({ required: true }) },
    resolve: (_root, { ids }, context) => {
      if (ids.length > 500) throw fail.badInput("ids", "At most 500 ids at once.");
      return context.services.files.readable(actorOf(context), ids.map(String));
    },
  }),
}));

builder.objectField(ResourceRef, "files", (t) =>
  t.field({
    type: [FileRef],
    description:
      "The files of a FILE field, with their names, types, sizes and download links (`values` holds only the ids).",
    args: { field: t.arg.string({ required: true }) },
    resolve: async (view, { field: key }, context) => {
      const field = visibleField(view.catalog, view.actor, view.type, key, "field");
      if (field.type !== "FILE") throw fail.badInput("field", `${key} is not a FILE field.`);
      const ids = (columnOf(view.row, "values")[field.id] as string[] | undefined) ?? [];
      const rows = await fileLoader(context).loadMany(ids);
      return rows.filter((row): row is FileRow => row !== null && !(row instanceof Error));
    },
  }),
);

/**
 * `resourceId` + `field` on an upload: append the new file to that FILE field in the same request.
 * Checked before any byte is stored; the append is an `updateResource` at the version read, so a
 * concurrent change to the resource is a CONFLICT (retry) rather than a lost value.
 */
interface AttachTarget {
  resourceId?: string | number | null;
  field?: string | null;
}

async function storeAndAttach(
  context: Context,
  target: AttachTarget,
  store: () => Promise<FileRow>,
): Promise<{ file: FileRow; resource: ResourceView | null }> {
  const actor = actorOf(context);
  if (!target.resourceId !== !target.field) {
    throw fail.badInput(
      target.field ? "resourceId" : "field",
      "Give resourceId and field together, or neither.",
    );
  }
  if (!target.resourceId || !target.field) return { file: await store(), resource: null };
  const row = await context.loaders.resource.load(String(target.resourceId));
  if (!row) throw fail.badInput("resourceId", `No resource ${target.resourceId} that you can see.`);
  const catalog = await context.catalog();
  const type = catalog.typesById.get(row.typeId);
  if (!type) throw fail.badInput("resourceId", `No resource ${target.resourceId} that you can see.`);
  const field = visibleField(catalog, actor, type, target.field, "field");
  if (field.type !== "FILE") throw fail.badInput("field", `${field.key} is not a FILE field.`);
  const file = await store();
  const current = (row.values[field.id] as string[] | undefined) ?? [];
  const updated = await context.services.resources.update(actor, {
    id: row.id,
    values: { [field.key]: [...current, file.id] },
    expectedVersion: row.version,
  });
  return { file, resource: viewResource(updated, catalog, actor) };
}

const filePayload = (name: string) =>
  builder.simpleObject(name, {
    fields: (f) => ({
      file: f.field({ type: FileRef }),
      resource: f.field({
        type: ResourceRef,
        nullable: true,
        description: "The resource the file was added to, when resourceId and field were given.",
      }),
    }),
  });

const UploadFileInput = builder.inputType("UploadFileInput", {
  fields: (t) => ({
    file: t.field({ type: "Upload", required: true }),
    name: t.string({ description: "The file name to keep; default: the part's file name." }),
    resourceId: t.id({ description: "With `field`: append the file to this resource's FILE field." }),
    field: t.string({ description: "A FILE field's key on the resource `resourceId`." }),
  }),
});

builder.mutationField("uploadFile", (t) =>
  t.field({
    type: filePayload("UploadFilePayload"),
    description:
      "Stores a file sent by the GraphQL multipart request spec; put its id in a FILE field to attach it (or give resourceId and field). For large files, `POST /files` streams.",
    args: { input: t.arg({ type: UploadFileInput, required: true }) },
    resolve: (_root, { input }, context) => {
      const part = input.file;
      const upload: UploadInput = {
        name: input.name ?? part.name ?? null,
        declaredType: part.type,
        declaredLength: part.size,
        body: part.stream() as unknown as AsyncIterable<Uint8Array>,
      };
      return storeAndAttach(context, input, () => context.services.files.upload(actorOf(context), upload));
    },
  }),
);

const ImportFileFromUrlInput = builder.inputType("ImportFileFromUrlInput", {
  fields: (t) => ({
    url: t.string({
      required: true,
      description: "An http(s) URL on a public address that answers 200 with the file.",
    }),
    name: t.string({
      description:
        "The file name to keep; default: the response's Content-Disposition, else the URL's last segment.",
    }),
    resourceId: t.id({ description: "With `field`: append the file to this resource's FILE field." }),
    field: t.string({ description: "A FILE field's key on the resource `resourceId`." }),
  }),
});

builder.mutationField("importFileFromUrl", (t) =>
  t.field({
    type: filePayload("ImportFileFromUrlPayload"),
    description:
      "Fetches a file from a URL (as Zapier and Make hand files around) and stores it; the same address checks as webhook URLs apply.",
    args: { input: t.arg({ type: ImportFileFromUrlInput, required: true }) },
    resolve: (_root, { input }, context) =>
      storeAndAttach(context, input, () =>
        context.services.files.importFromUrl(actorOf(context), { url: input.url, name: input.name }),
      ),
  }),
);
