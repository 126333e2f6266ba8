import { createHash } from "node:crypto";
import {
  type DocumentNode,
  type ExecutionResult,
  Kind,
  type OperationDefinitionNode,
  print,
  type SelectionSetNode,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context, Db } from "../../kernel/index.ts";
import { AppError, fail, isAppErrorCode } from "../../kernel/index.ts";
import { claimRequestKey, releaseRequestKey, storeRequestResponse } from "../../resources/index.ts";

export const IDEMPOTENCY_HEADER = "idempotency-key";
const MAX_KEY = 200;

function operationOf(document: DocumentNode, name?: string | null): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  return name ? operations.find((op) => op.name?.value === name) : operations[0];
}

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((k) => [k, stable(record[k])]),
    );
  }
  return value;
}

/** Payload fields that show a secret once (createApiKey's token, createWebhook's secret, …). */
const SECRET_FIELDS = new Set(["token", "secret", "clientSecret"]);

/**
 * The response keys (aliases included) under which each root field selects a one-time secret,
 * through inline fragments and fragment spreads too.
 */
function secretKeys(document: DocumentNode, operation: OperationDefinitionNode): Map<string, Set<string>> {
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d]] : [])),
  );
  const collect = (set: SelectionSetNode | undefined, into: Set<string>, seen: Set<string>) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (SECRET_FIELDS.has(selection.name.value)) into.add(selection.alias?.value ?? selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet, into, seen);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        collect(fragments.get(selection.name.value)?.selectionSet, into, seen);
      }
    }
  };
  const keys = new Map<string, Set<string>>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const into = new Set<string>();
    collect(selection.selectionSet, into, new Set());
    keys.set(selection.alias?.value ?? selection.name.value, into);
  }
  return keys;
}

/** The data without one-time secrets: they are never stored, so a replay shows null in their place. */
function withoutSecrets(
  data: ExecutionResult["data"],
  secrets: Map<string, Set<string>>,
): Record<string, unknown> | null {
  if (!data) return null;
  return Object.fromEntries(
    Object.entries(data).map(([root, payload]) => {
      const hidden = secrets.get(root);
      if (!hidden?.size || !payload || typeof payload !== "object") return [root, payload];
      return [
        root,
        Object.fromEntries(
          Object.entries(payload).map(([key, value]) => [key, hidden.has(key) ? null : value]),
        ),
      ];
    }),
  );
}

/**
 * The response as it is stored for replays: expected errors as sent, anything else masked, and
 * one-time secrets left out.
 */
function storable(result: ExecutionResult, secrets: Map<string, Set<string>>): Record<string, unknown> {
  const errors = result.errors?.map((error) =>
    isAppErrorCode(error.extensions?.code)
      ? { message: error.message, path: error.path, extensions: error.extensions }
      : { message: "Unexpected error.", path: error.path, extensions: { code: "INTERNAL_SERVER_ERROR" } },
  );
  const data = withoutSecrets(result.data, secrets);
  return errors?.length ? { data, errors } : { data };
}

/** Did the operation do anything: a root field with a value (an all-failed mutation wrote nothing). */
function didSomething(result: ExecutionResult): boolean {
  return Object.values(result.data ?? {}).some((value) => value !== null);
}

/**
 * The `Idempotency-Key` request header on every mutation (resources, fields, webhooks, members,
 * keys…): the first request with a key runs and its response is kept for 24 hours; a retry with
 * the same key and the same operation and variables gets that response again without running;
 * the same key with another body is IDEMPOTENCY_CONFLICT (HTTP 409), as is a retry while the first
 * is still running. Keys are scoped to the workspace and the credential. A mutation that failed
 * outright wrote nothing (every mutation is one transaction), so its key is released for a retry.
 */
export function useIdempotencyKey(db: Db): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as Context & { request?: Request };
      const key = context.request?.headers.get(IDEMPOTENCY_HEADER);
      const actor = context.actor;
      if (key == null || !actor) return;
      const operation = operationOf(args.document, args.operationName);
      if (operation?.operation !== "mutation") return;
      if (key.length === 0 || key.length > MAX_KEY) {
        setResultAndStopExecution({
          errors: [
            fail.badInput("Idempotency-Key", `The Idempotency-Key header is 1 to ${MAX_KEY} characters.`),
          ],
        });
        return;
      }
      const scope = `${actor.credential.kind}:${actor.credential.id ?? actor.memberId}:${key}`;
      const hash = createHash("sha256")
        .update(print(args.document))
        .update(`\0${args.operationName ?? ""}\0`)
        .update(JSON.stringify(stable(args.variableValues ?? {})))
        .digest("hex");
      const name = operation.name?.value ?? "anonymous";
      const claim = await claimRequestKey(db, actor.workspaceId, scope, `mutation:${name}`, hash);
      if (claim.state === "replay") {
        const stored = claim.response as ExecutionResult;
        setResultAndStopExecution({ ...stored, extensions: { idempotency: { replayed: true } } });
        return;
      }
      if (claim.state !== "claimed") {
        const message =
          claim.state === "conflict"
            ? "This Idempotency-Key was already used with another operation or variables; use a new key for a new request."
            : "A request with this Idempotency-Key is still running; retry when it has finished.";
        setResultAndStopExecution({
          errors: [
            new AppError("IDEMPOTENCY_CONFLICT", message, {
              field: "Idempotency-Key",
              http: { status: 409 },
            }),
          ],
        });
        return;
      }
      return {
        async onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result) return;
          if (didSomething(result))
            await storeRequestResponse(
              db,
              actor.workspaceId,
              scope,
              storable(result, secretKeys(args.document, operation)),
            );
          else await releaseRequestKey(db, actor.workspaceId, scope);
        },
      };
    },
  };
}
