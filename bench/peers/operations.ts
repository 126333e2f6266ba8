import { ACCOUNTS, plugboardAccountId, plugboardContactId } from "./seed.ts";

/** A server under test: where its endpoint is and how it spells each operation. */
export interface Peer {
  label: string;
  kind: "floor" | "postgraphile" | "plugboard";
  /** Origin, e.g. http://127.0.0.1:4801 */
  origin: string;
  headers: Record<string, string>;
  pid: number;
  /** Cursors (or ids, for the floor) of random contacts: the page after each is the next 50. */
  cursors: { position: number; cursor: string | number }[];
}

export type OperationKey = "list" | "page" | "email" | "create";
const ALL_OPERATIONS: { key: OperationKey; label: string }[] = [
  { key: "list", label: "first 50 contacts by id, with account name" },
  { key: "page", label: "50 contacts after a cursor at a random position" },
  { key: "email", label: "contacts by exact email, first 10, with account" },
  { key: "create", label: "create one contact" },
];
/** BENCH_OPS=create,list: measure only those operations (for A/B runs of one change). */
const only = process.env.BENCH_OPS?.split(",");
export const OPERATIONS = ALL_OPERATIONS.filter((o) => !only || only.includes(o.key));

// biome-ignore lint/suspicious/noExplicitAny: responses are read loosely and checked field by field
type Json = any;

// PostGraphile 5 names a table's `id` column rowId (`id` is the global Node id).
const PG_CONTACT = "rowId name email accountByAccountId { name }";
const PB_CONTACT = `id name email: value(field: "email") linked(field: "accounts") { nodes { name } }`;

const QUERIES = {
  postgraphile: {
    list: `{ allContacts(first: 50, orderBy: PRIMARY_KEY_ASC) { nodes { ${PG_CONTACT} } } }`,
    page: `query($after: Cursor) { allContacts(first: 50, after: $after, orderBy: PRIMARY_KEY_ASC) { nodes { ${PG_CONTACT} } } }`,
    email: `query($email: String!) { allContacts(first: 10, condition: { email: $email }, orderBy: PRIMARY_KEY_ASC) { nodes { ${PG_CONTACT} } } }`,
    create: `mutation($c: ContactInput!) { createContact(input: { contact: $c }) { contact { rowId } } }`,
  },
  plugboard: {
    list: `{ resources(type: "contact", first: 50) { nodes { ${PB_CONTACT} } } }`,
    page: `query($after: String) { resources(type: "contact", first: 50, after: $after) { nodes { ${PB_CONTACT} } } }`,
    email: `query($email: JSON) { resources(type: "contact", first: 10, where: { field: "email", eq: $email }) { nodes { ${PB_CONTACT} } } }`,
    create: `mutation($values: JSON!) { createResource(input: { type: "contact", values: $values }) { resource { id } } }`,
  },
};

const random = (below: number) => 1 + Math.floor(Math.random() * below);

/** The endpoint and a body maker for one operation on one peer; the maker notes what to expect. */
export function request(
  peer: Peer,
  op: OperationKey,
  contacts: number,
): { url: string; body: (connection: Record<string, unknown>) => string } {
  const graphql = (query: string, variables: (c: Record<string, unknown>) => Record<string, unknown>) => ({
    url: `${peer.origin}/graphql`,
    body: (c: Record<string, unknown>) => JSON.stringify({ query, variables: variables(c) }),
  });
  const pickCursor = (c: Record<string, unknown>) => {
    const picked = peer.cursors[Math.floor(Math.random() * peer.cursors.length)] as Peer["cursors"][number];
    c.expect = picked.position + 1;
    return picked.cursor;
  };
  const pickEmail = (c: Record<string, unknown>) => {
    const g = random(contacts);
    c.expect = g;
    return `c${g}@example.com`;
  };
  const newContact = (n: number) => ({ name: `New contact ${n}`, email: `new-${n}@example.com` });
  if (peer.kind === "floor") {
    const body = {
      list: () => "{}",
      page: (c: Record<string, unknown>) => JSON.stringify({ after: pickCursor(c) }),
      email: (c: Record<string, unknown>) => JSON.stringify({ email: pickEmail(c) }),
      create: () => JSON.stringify({ ...newContact(random(1e9)), accountId: random(ACCOUNTS) }),
    }[op];
    return { url: `${peer.origin}/${op}`, body };
  }
  const queries = QUERIES[peer.kind];
  switch (op) {
    case "list":
      return graphql(queries.list, () => ({}));
    case "page":
      return graphql(queries.page, (c) => ({ after: pickCursor(c) }));
    case "email":
      return graphql(queries.email, (c) => ({ email: pickEmail(c) }));
    case "create":
      return graphql(queries.create, () => {
        const contact = newContact(random(1e9));
        const account = random(ACCOUNTS);
        return peer.kind === "postgraphile"
          ? { c: { ...contact, accountId: account } }
          : { values: { ...contact, accounts: [plugboardAccountId(account)] } };
      });
  }
}

/** One contact as each peer returns it, in one shape: position g, email, account name. */
function normalize(peer: Peer, node: Json): { g: number; email: string; account: string } {
  if (peer.kind === "floor") return { g: node.id, email: node.email, account: node.account };
  if (peer.kind === "postgraphile")
    return { g: node.rowId, email: node.email, account: node.accountByAccountId?.name };
  return {
    g: Number(String(node.id).replace("res_00c", "")),
    email: node.email,
    account: node.linked?.nodes?.[0]?.name,
  };
}

/** Whether a response is the right answer (every response of every run goes through this). */
export function check(peer: Peer, op: OperationKey, body: string, c: Record<string, unknown>): boolean {
  let parsed: Json;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (parsed.errors) return false;
  const data = parsed.data;
  if (op === "create") {
    const id =
      peer.kind === "floor"
        ? data?.nodes?.[0]?.id
        : (data?.createContact?.contact?.rowId ?? data?.createResource?.resource?.id);
    return id != null;
  }
  const raw: Json[] | undefined =
    peer.kind === "floor" ? data?.nodes : (data?.allContacts?.nodes ?? data?.resources?.nodes);
  if (!Array.isArray(raw)) return false;
  const nodes = raw.map((n) => normalize(peer, n));
  const consistent = nodes.every(
    (n) => n.email === `c${n.g}@example.com` && n.account === `Account ${(n.g % ACCOUNTS) + 1}`,
  );
  if (!consistent) return false;
  if (op === "list") return nodes.length === 50 && nodes.every((n, i) => n.g === i + 1);
  if (op === "page") return nodes.length === 50 && nodes.every((n, i) => n.g === (c.expect as number) + i);
  return nodes.length === 1 && nodes[0]?.g === c.expect;
}

/** Cursors of `count` random contacts (positions leaving a full page after them), as `peer` makes them. */
export async function collectCursors(
  peer: Peer,
  contacts: number,
  count: number,
  graphql: (query: string, variables: Record<string, unknown>) => Promise<Json>,
): Promise<Peer["cursors"]> {
  const cursors: Peer["cursors"] = [];
  for (let i = 0; i < count; i++) {
    const position = random(contacts - 60);
    if (peer.kind === "floor") {
      cursors.push({ position, cursor: position });
    } else if (peer.kind === "postgraphile") {
      const data = await graphql(
        "query($id: Int!) { allContacts(condition: { rowId: $id }, orderBy: PRIMARY_KEY_ASC) { edges { cursor } } }",
        { id: position },
      );
      cursors.push({ position, cursor: data.allContacts.edges[0].cursor });
    } else {
      const data = await graphql(
        `query($id: JSON) { resources(type: "contact", where: { field: "id", eq: $id }) { pageInfo { endCursor } } }`,
        { id: plugboardContactId(position) },
      );
      cursors.push({ position, cursor: data.resources.pageInfo.endCursor });
    }
  }
  return cursors;
}
