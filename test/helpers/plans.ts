import type postgres from "postgres";
import { expect } from "vitest";

/** A node of `explain (format json)`'s plan, with the fields the plan tests read. */
export interface PlanNode {
  "Node Type": string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

/** A plan's nodes, the root first. */
export const planNodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(planNodes)];

/** The one recorded statement that reads a page of resources (`from … where … order by`). */
export function thePageStatement<T extends { text: string }>(statements: T[]): T {
  const pages = statements.filter((s) => /from .*"resources".* where .* order by /s.test(s.text));
  expect(pages).toHaveLength(1);
  return pages[0] as T;
}

/**
 * A parameter as text PostgreSQL reads: an array (`= any($1::text[])`) as an array literal, which
 * the server's driver writes from the statement's parameter types and this one, unprepared, cannot.
 */
function asText(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return `{${value.map((v) => `"${String(v).replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}

/** `text` run with `params` under `explain (analyze, buffers)`: its plan as PostgreSQL ran it. */
export async function explainAnalyze(
  explainer: postgres.Sql,
  text: string,
  params: unknown[],
): Promise<PlanNode> {
  const [result] = await explainer.unsafe(
    `explain (analyze, buffers, format json) ${text}`,
    params.map(asText) as postgres.ParameterOrJSON<never>[],
  );
  const plan = (result as unknown as { "QUERY PLAN": { Plan: PlanNode }[] })["QUERY PLAN"][0]?.Plan;
  if (!plan) throw new Error("no plan");
  return plan;
}

/** The generic plan a prepared `text` gets after five executions, run with `params`. */
export async function explainGeneric(
  explainer: postgres.Sql,
  text: string,
  params: unknown[],
): Promise<PlanNode> {
  const literal = (value: unknown) => `'${String(value).replaceAll("'", "''")}'`;
  const plan = await explainer.begin(async (tx) => {
    await tx`set local plan_cache_mode = force_generic_plan`;
    await tx.unsafe(`prepare page as ${text}`);
    const [row] = await tx.unsafe(
      `explain (analyze, format json) execute page(${params.map((p) => literal(asText(p))).join(", ")})`,
    );
    await tx.unsafe("deallocate page");
    return (row as unknown as { "QUERY PLAN": { Plan: PlanNode }[] })["QUERY PLAN"][0]?.Plan;
  });
  if (!plan) throw new Error("no generic plan");
  return plan;
}
