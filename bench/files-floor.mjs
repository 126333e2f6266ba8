// The floor for bench:files: a bare node:http server that streams an upload to a file on disk
// with stream.pipeline and streams it back the same way. No auth, no database, no hashing.
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

const dir = process.env.FLOOR_DIR;
let n = 0;
createServer(async (req, res) => {
  try {
    if (req.method === "POST" && req.url === "/files") {
      const id = `f${++n}`;
      await pipeline(req, createWriteStream(join(dir, id)));
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ id }));
    } else if (req.method === "GET" && req.url?.startsWith("/files/")) {
      const path = join(dir, req.url.slice("/files/".length));
      res.writeHead(200, {
        "content-length": statSync(path).size,
        "content-type": "application/octet-stream",
      });
      await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), res);
    } else {
      res.writeHead(req.url === "/readyz" ? 200 : 404);
      res.end();
    }
  } catch {
    res.destroy();
  }
}).listen(Number(process.env.PORT), "127.0.0.1");
