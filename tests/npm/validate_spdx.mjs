// Validates an SPDX 2.3 JSON document: against the official JSON schema (ajv, with the draft the
// schema's $schema names, and ajv-formats), plus rules of the SPDX 2.3 text that the schema does
// not express: SPDXID syntax and uniqueness, relationships between existing elements, an
// absolute documentNamespace without '#', and a declaration for every LicenseRef used.
// Usage: node validate_spdx.mjs FILE SCHEMA. Exits 1 naming every problem, 2 on bad usage.
import { readFileSync } from 'node:fs';
import Ajv7 from 'ajv';
import Ajv2019 from 'ajv/dist/2019.js';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const [file, schemaFile] = process.argv.slice(2);
if (!file || !schemaFile) {
  console.error('usage: validate_spdx.mjs FILE SCHEMA');
  process.exit(2);
}
const doc = JSON.parse(readFileSync(file, 'utf8'));
const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));

const draft = String(schema.$schema ?? '');
const Ajv = draft.includes('2020-12') ? Ajv2020 : draft.includes('2019-09') ? Ajv2019 : Ajv7;
if (!draft.includes('draft-07') && Ajv === Ajv7) {
  console.error(`unsupported $schema ${draft}`);
  process.exit(2);
}
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const problems = [];
if (!ajv.validate(schema, doc)) {
  for (const e of ajv.errors) problems.push(`schema: ${e.instancePath || '/'} ${e.message}`);
}

const ids = new Set();
const idPattern = /^SPDXRef-[A-Za-z0-9.-]+$/;
for (const el of [doc, ...(doc.packages ?? []), ...(doc.files ?? [])]) {
  if (!idPattern.test(el.SPDXID ?? '')) problems.push(`bad SPDXID ${JSON.stringify(el.SPDXID)}`);
  if (ids.has(el.SPDXID)) problems.push(`duplicate SPDXID ${el.SPDXID}`);
  ids.add(el.SPDXID);
}
for (const r of doc.relationships ?? []) {
  for (const id of [r.spdxElementId, r.relatedSpdxElement]) {
    if (!ids.has(id) && id !== 'NOASSERTION' && id !== 'NONE') {
      problems.push(`relationship ${r.relationshipType} names unknown element ${id}`);
    }
  }
}
try {
  const ns = new URL(doc.documentNamespace);
  if (ns.hash || String(doc.documentNamespace).includes('#')) problems.push('documentNamespace has a #');
} catch {
  problems.push(`documentNamespace ${JSON.stringify(doc.documentNamespace)} is not an absolute URI`);
}
const declared = new Set((doc.hasExtractedLicensingInfos ?? []).map((l) => l.licenseId));
for (const p of doc.packages ?? []) {
  for (const field of ['licenseDeclared', 'licenseConcluded']) {
    for (const ref of String(p[field] ?? '').match(/LicenseRef-[A-Za-z0-9.-]+/g) ?? []) {
      if (!declared.has(ref)) problems.push(`${p.name}: ${field} uses undeclared ${ref}`);
    }
  }
}

if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('valid SPDX 2.3');
