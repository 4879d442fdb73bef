// Checks the NTIA minimum elements of an SBOM (SPDX 2.3 or CycloneDX JSON): every component has
// a supplier, a name, a version, a unique id (purl) and a SHA-256 hash; the document has
// dependency relationships, an author (or tool) and a timestamp. The root (the image that the
// SPDX document DESCRIBES, CycloneDX metadata.component) needs a name, version and hash only.
// Usage: node ntia.mjs FILE [--allow-missing-hash] (for images whose .debs we never saw).
// Exits 1 naming everything missing.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const allowMissingHash = args.includes('--allow-missing-hash');
if (!file) {
  console.error('usage: ntia.mjs FILE [--allow-missing-hash]');
  process.exit(2);
}
const doc = JSON.parse(readFileSync(file, 'utf8'));
const missing = [];
const filled = (v) => typeof v === 'string' && v.trim() !== '' && v !== 'NOASSERTION' && v !== 'NONE';
const sha256 = /^[0-9a-f]{64}$/;

function checkComponent(c, where, isRoot) {
  if (!filled(c.name)) missing.push(`${where}: name`);
  if (!filled(c.version)) missing.push(`${where}: version`);
  if (!isRoot && !filled(c.supplier)) missing.push(`${where}: supplier`);
  if (!(c.purl ?? '').startsWith('pkg:')) missing.push(`${where}: unique id (purl)`);
  if (!sha256.test(c.sha256 ?? '') && !(allowMissingHash && !isRoot)) missing.push(`${where}: SHA-256 hash`);
}

if (doc.spdxVersion) {
  const ci = doc.creationInfo ?? {};
  if (!(ci.creators ?? []).some((c) => /^(Person|Organization|Tool): \S/.test(c))) missing.push('document: author');
  if (!filled(ci.created)) missing.push('document: timestamp');
  const rels = doc.relationships ?? [];
  const roots = new Set(rels.filter((r) => r.relationshipType === 'DESCRIBES').map((r) => r.relatedSpdxElement));
  if (!rels.some((r) => r.relationshipType === 'DEPENDS_ON')) missing.push('document: dependency relationships');
  const purls = new Set();
  for (const p of doc.packages ?? []) {
    const purl = (p.externalRefs ?? []).find((r) => r.referenceType === 'purl')?.referenceLocator;
    const hash = (p.checksums ?? []).find((c) => c.algorithm === 'SHA256')?.checksumValue;
    const supplier = String(p.supplier ?? '').replace(/^(Person|Organization): /, '');
    const where = `package ${p.name ?? p.SPDXID}`;
    checkComponent({ name: p.name, version: p.versionInfo, supplier, purl, sha256: hash }, where, roots.has(p.SPDXID));
    if (purl && purls.has(purl)) missing.push(`${where}: unique id (purl ${purl} repeated)`);
    purls.add(purl);
  }
  if (roots.size === 0) missing.push('document: DESCRIBES relationship');
} else if (doc.bomFormat === 'CycloneDX') {
  const md = doc.metadata ?? {};
  const tools = Array.isArray(md.tools) ? md.tools : [...(md.tools?.components ?? []), ...(md.tools?.services ?? [])];
  if (!(md.authors ?? []).some((a) => filled(a.name)) && !tools.some((t) => filled(t.name))) missing.push('document: author');
  if (!filled(md.timestamp)) missing.push('document: timestamp');
  const hashOf = (c) => (c.hashes ?? []).find((h) => h.alg === 'SHA-256')?.content;
  const refs = new Set();
  const all = [...(md.component ? [[md.component, true]] : []), ...(doc.components ?? []).map((c) => [c, false])];
  for (const [c, isRoot] of all) {
    const where = isRoot ? 'root component' : `component ${c.name ?? c['bom-ref']}`;
    checkComponent({ name: c.name, version: c.version, supplier: c.supplier?.name, purl: c.purl, sha256: hashOf(c) }, where, isRoot);
    if (refs.has(c['bom-ref'])) missing.push(`${where}: unique id (bom-ref repeated)`);
    refs.add(c['bom-ref']);
  }
  if (!md.component) missing.push('document: root component');
  const deps = doc.dependencies ?? [];
  if (!deps.some((d) => (d.dependsOn ?? []).length > 0)) missing.push('document: dependency relationships');
  for (const c of doc.components ?? []) {
    if (!deps.some((d) => d.ref === c['bom-ref'])) missing.push(`component ${c.name}: dependencies entry`);
  }
} else {
  missing.push('document: neither SPDX nor CycloneDX');
}

if (missing.length) {
  console.error('NTIA minimum elements missing:\n' + missing.join('\n'));
  process.exit(1);
}
console.log('NTIA minimum elements present');
