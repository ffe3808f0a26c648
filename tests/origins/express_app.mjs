// A real Express origin for the path-spelling corpus (tests/test_path_corpus.py), with
// Express's DEFAULT routing settings (case-insensitive, non-strict trailing slash).
//   node tests/origins/express_app.mjs express4|express
// Express comes from functions/node_modules ("express4" is an npm alias of express@4).
// Prints one JSON line {"ready": url, "control": url}. Every request is recorded; the
// records are read (GET /records) and cleared (DELETE /records) on the control port,
// which is a different port from the one the edge forwards to, so no spelling sent
// through the edge can touch them.
import { createServer } from "node:http";
import { createRequire } from "node:module";

const pkg = process.argv[2];
const require = createRequire(new URL("../../functions/package.json", import.meta.url));
const express = require(pkg);
const major = require(`${pkg}/package.json`).version.split(".")[0];
const framework = `express${major}`;
const records = [];

function handler(kind) {
  return (req, res) => {
    const seen = {
      handler: kind,
      framework,
      path: req.path,
      raw: req.originalUrl,
      x_user_id: req.get("x-user-id") ?? null,
      id: req.get("x-corpus-id") ?? null,
    };
    records.push(seen);
    res.json(seen);
  };
}

const app = express();
// path-to-regexp 8 (Express 5) names its wildcards; Express 4's "*" is anonymous.
app.all(major === "4" ? "/api/*" : "/api/*splat", handler("protected"));
app.all("/account", handler("protected"));
app.use(handler("public"));

const control = createServer((req, res) => {
  if (req.url !== "/records") return res.writeHead(404).end();
  if (req.method === "DELETE") records.length = 0;
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(records));
});

const listen = (server) => new Promise((r) => server.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${server.address().port}`)));
const served = await listen(createServer(app));
process.stdout.write(JSON.stringify({ ready: served, control: await listen(control), framework }) + "\n");
process.on("SIGTERM", () => process.exit(0));
