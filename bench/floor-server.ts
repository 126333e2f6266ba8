import { createServer } from "node:http";
import postgres from "postgres";

/**
 * The floor: a bare node:http server running the same SQL as Plugboard with postgres.js (prepared
 * statements), no GraphQL, no auth, no access policy.
 *   POST /page   → 50 contacts ordered by score with their linked accounts' names
 *   POST /insert → one contact row
 */
// Connections as Plugboard's (src/kernel/db.ts): reads on 3 pipelined ones, writes on 10, so the
// two differ only above the driver. (The page floor hardly depends on it: 10 were within 3%.)
const sql = postgres(process.env.DATABASE_URL as string, { max: 3, onnotice: () => {} });
const writes = postgres(process.env.DATABASE_URL as string, { max: 10, onnotice: () => {} });
const { WORKSPACE, CONTACT_TYPE, SCORE, ACCOUNTS, EMAIL } = process.env as Record<string, string>;
let n = 0;

createServer(async (req, res) => {
  try {
    if (req.url === "/page") {
      const rows = await sql.unsafe(
        `select id, name, values from resources where workspace_id = $1 and type_id = '${CONTACT_TYPE}' and deleted_at is null
         order by (("values" ->> '${SCORE}'))::numeric, id limit 51`,
        [WORKSPACE as string],
        { prepare: true },
      );
      const ids = [...new Set(rows.flatMap((r) => (r.values[ACCOUNTS as string] as string[]) ?? []))];
      const accounts =
        await sql`select id, name from resources where workspace_id = ${WORKSPACE as string} and id = any(${ids})`;
      const names = new Map(accounts.map((a) => [a.id, a.name]));
      const nodes = rows.slice(0, 50).map((r) => ({
        name: r.name,
        values: r.values,
        accounts: ((r.values[ACCOUNTS as string] as string[]) ?? []).map((id) => ({ name: names.get(id) })),
      }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { nodes } }));
      return;
    }
    if (req.url === "/insert") {
      const id = `res_floor${process.pid}x${++n}`;
      const [row] = await writes`insert into resources (id, workspace_id, type_id, name, values)
        values (${id}, ${WORKSPACE as string}, ${CONTACT_TYPE as string}, ${"Floor"}, ${writes.json({ [EMAIL as string]: `f${n}@example.com` })})
        returning *`;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { id: row?.id } }));
      return;
    }
    res.writeHead(404).end();
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
}).listen(Number(process.env.PORT), "127.0.0.1");
