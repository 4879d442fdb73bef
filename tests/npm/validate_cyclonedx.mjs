// Validates a CycloneDX JSON BOM with @cyclonedx/cyclonedx-library's strict JSON validator for
// the document's specVersion. Usage: node validate_cyclonedx.mjs FILE. Exits 1 with the errors.
import { readFileSync } from 'node:fs';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';

const file = process.argv[2];
if (!file) {
  console.error('usage: validate_cyclonedx.mjs FILE');
  process.exit(2);
}
const text = readFileSync(file, 'utf8');
const version = JSON.parse(text).specVersion;
if (!Object.values(Spec.Version).includes(version)) {
  console.error(`unknown specVersion ${JSON.stringify(version)}`);
  process.exit(1);
}
// Throws (exit 1) when ajv, ajv-formats or ajv-formats-draft2019 is missing.
const errors = await new Validation.JsonStrictValidator(version).validate(text);
if (errors !== null) {
  console.error(JSON.stringify(errors, null, 2));
  process.exit(1);
}
console.log(`valid CycloneDX ${version}`);
