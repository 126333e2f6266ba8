import { createServer } from "node:http";
import postgres from "postgres";

/**
 * The floor of `bench:peers`: node:http and postgres.js (prepared statements) over the plain
 * `accounts`/`contacts` schema, one statement per request, no GraphQL, no auth. Each endpoint
 * answers what the matching GraphQL operation answers.
 *   POST /list   {}                           → first 50 contacts by id, with the account name
 *   POST /page   { after }                    → the 50 after contact id `after`
 *   POST /email  { email }                    → the first 10 contacts with that email
 *   POST /create { name, email, accountId }   → the new contact's id
 */
const sql = postgres(process.env.DATABASE_URL as string, { max: 10, onnotice: () => {} });
const SELECT = `select c.id, c.name, c.email, a.name as account from contacts c join accounts a on a.id = c.account_id`;

async function answer(path: string | undefined, input: Record<string, unknown>): Promise<unknown> {
  switch (path) {
    case "/list":
      return sql.unsafe(`${SELECT} order by c.id limit 50`, [], { prepare: true });
    case "/page":
      return sql.unsafe(`${SELECT} where c.id > $1 order by c.id limit 50`, [input.after as number], {
        prepare: true,
      });
    case "/email":
      return sql.unsafe(`${SELECT} where c.email = $1 order by c.id limit 10`, [input.email as string], {
        prepare: true,
      });
    case "/create":
      return sql.unsafe(
        "insert into contacts (name, email, account_id) values ($1, $2, $3) returning id",
        [input.name as string, input.email as string, input.accountId as number],
        { prepare: true },
      );
    default:
      return undefined;
  }
}

createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8").on("data", (chunk: string) => {
    body += chunk;
  });
  req.on("end", async () => {
    try {
      const rows = await answer(req.url, body ? JSON.parse(body) : {});
      if (rows === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { nodes: rows } }));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
}).listen(Number(process.env.PORT), "127.0.0.1");
