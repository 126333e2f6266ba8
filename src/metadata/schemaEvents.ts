import type { Role } from "../auth/index.ts";
import { type SchemaChangeKind, schemaChangeKindEnum } from "./tables.ts";

/** A schema change as the metadata service describes it, inside its transaction. */
export interface SchemaEvent {
  kind: SchemaChangeKind;
  typeId: string;
  typeKey: string;
  fieldId: string | null;
  fieldKey: string | null;
  role: Role | null;
  access: string | null;
  /** Roles that can read what changed (as changed; as it was, for deletions). */
  readableRoles: Role[];
}

/** Every kind of schema change, in the order the enum lists them. */
export const schemaChangeKinds = schemaChangeKindEnum.enumValues;
