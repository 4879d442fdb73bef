// Validates a SARIF 2.1.0 log: against the official JSON schema that @microsoft/jest-sarif ships
// (draft-04, read by ajv's draft-07 validator: the schema uses nothing the two drafts treat
// differently but the `id` keyword), plus what GitHub code scanning requires beyond the schema:
// a tool name per run; per rule an id and a properties["security-severity"] that is a number in
// 0..10; per result a ruleId, a message text and a location whose artifact URI is relative.
// Usage: node validate_sarif.mjs FILE. Exits 1 naming every problem, 2 on bad usage.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const file = process.argv[2];
if (!file) {
  console.error('usage: validate_sarif.mjs FILE');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const schema = JSON.parse(
  readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
if (!String(schema.$schema).includes('draft-04')) {
  console.error(`unexpected schema draft ${schema.$schema}`);
  process.exit(2);
}
schema.$schema = 'http://json-schema.org/draft-07/schema#';
schema.$id = schema.id;
delete schema.id;

const log = JSON.parse(readFileSync(file, 'utf8'));
// unicodeRegExp off: the schema's `language` pattern has a stray ']' that only non-Unicode
// regular expressions (as the draft-04 era validators used) read as a literal.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const problems = [];
if (!ajv.validate(schema, log)) {
  for (const e of ajv.errors) problems.push(`schema: ${e.instancePath || '/'} ${e.message}`);
}

// A URI reference that GitHub resolves against the repository root: no scheme, not absolute.
const isRelative = (uri) => typeof uri === 'string' && uri !== '' &&
  !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) && !uri.startsWith('/');

(log.runs ?? []).forEach((run, r) => {
  const driver = run.tool?.driver;
  if (!driver?.name) problems.push(`runs[${r}]: tool.driver.name missing`);
  (driver?.rules ?? []).forEach((rule, i) => {
    const where = `runs[${r}].tool.driver.rules[${i}]`;
    if (!rule.id) problems.push(`${where}: id missing`);
    const text = rule.properties?.['security-severity'];
    const score = Number(text);
    const parsable = typeof text === 'number' || (typeof text === 'string' && text.trim() !== '');
    if (!parsable || !Number.isFinite(score) ||
        score < 0 || score > 10) {
      problems.push(`${where}: security-severity ${JSON.stringify(text)} is not a number in 0..10`);
    }
  });
  (run.results ?? []).forEach((result, i) => {
    const where = `runs[${r}].results[${i}]`;
    if (!result.ruleId) problems.push(`${where}: ruleId missing`);
    if (!result.message?.text) problems.push(`${where}: message.text missing`);
    const uris = (result.locations ?? []).map((l) => l.physicalLocation?.artifactLocation?.uri);
    if (uris.length === 0) problems.push(`${where}: no location`);
    for (const uri of uris) {
      if (!isRelative(uri)) problems.push(`${where}: artifact URI ${JSON.stringify(uri)} is not relative`);
    }
  });
});

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`valid SARIF ${log.version}`);
