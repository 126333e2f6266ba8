import type { Db } from "../kernel/index.ts";
import { newId } from "../kernel/index.ts";
import { builtInTypes, systemFields } from "./systemFields.ts";
import { fields, resourceTypes, schemaVersions } from "./tables.ts";

/** The system field rows of a new type (they get ids like any field, so diffs can name them). */
export function systemFieldRows(workspaceId: string, typeId: string, parentTypeId: string) {
  return systemFields.map((spec, position) => ({
    id: newId("field"),
    workspaceId,
    resourceTypeId: typeId,
    key: spec.key,
    name: spec.name,
    description: spec.description,
    type: spec.type,
    system: true,
    referenceTypeId: spec.key === "parent" ? parentTypeId : null,
    position,
  }));
}

/** Seeds a new workspace: the built-in types with their fields and its schema version. */
export async function seedWorkspaceMetadata(tx: Db, workspaceId: string): Promise<void> {
  const typeIds = new Map(builtInTypes.map((t) => [t.key, newId("resourceType")]));
  const typeRows = builtInTypes.map((t) => {
    const id = typeIds.get(t.key) as string;
    return {
      id,
      workspaceId,
      key: t.key,
      name: t.name,
      pluralName: t.pluralName,
      description: t.description,
      system: true,
      parentTypeId: id,
    };
  });
  const fieldRows = builtInTypes.flatMap((t) => {
    const typeId = typeIds.get(t.key) as string;
    return [
      ...systemFieldRows(workspaceId, typeId, typeId),
      ...t.fields.map((f, i) => ({
        id: newId("field"),
        workspaceId,
        resourceTypeId: typeId,
        key: f.key,
        name: f.name,
        type: f.type,
        system: true,
        options: f.options ?? null,
        referenceTypeId: f.referenceType ? (typeIds.get(f.referenceType) ?? null) : null,
        position: systemFields.length + i,
      })),
    ];
  });
  await tx.insert(resourceTypes).values(typeRows);
  await tx.insert(fields).values(fieldRows);
  await tx.insert(schemaVersions).values({ workspaceId, version: 1 });
}
