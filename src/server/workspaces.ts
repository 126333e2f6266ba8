import {
  type CreatedWorkspace,
  createWorkspace as createAuthWorkspace,
  type NewWorkspace,
  type WorkspaceSeeder,
} from "../auth/index.ts";
import type { Db } from "../kernel/index.ts";
import { seedChangeFeed } from "../ledger/index.ts";
import { seedWorkspaceMetadata } from "../metadata/index.ts";

/**
 * What a new workspace starts with, in order: the built-in types with their fields and schema
 * version (metadata), then its change feed. auth creates the workspace and runs these in the same
 * transaction; it cannot import the domains above it, so they are gathered here.
 */
export const workspaceSeeders: readonly WorkspaceSeeder[] = [
  (tx, workspaceId) => seedWorkspaceMetadata(tx, workspaceId),
  (tx, workspaceId) => seedChangeFeed(tx, workspaceId),
];

/** Creates a workspace with its OWNER, first API key and every domain's defaults. */
export function createWorkspace(db: Db, input: NewWorkspace): Promise<CreatedWorkspace> {
  return createAuthWorkspace(db, input, workspaceSeeders);
}
