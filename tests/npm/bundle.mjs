// Sigstore bundles with a keyed DSSE signature and no transparency log, independently of hardbase.
//   node bundle.mjs verify BUNDLEFILE PUBFILE [SHA256HEX]
//       verifies with @sigstore/verify, trusting only PUBFILE (no tlog, CT log or timestamp
//       authority); given SHA256HEX, also requires an in-toto subject with that digest. Prints the
//       statement's predicateType.
//   node bundle.mjs make KEYFILE SHA256HEX PREDICATE_TYPE PREDICATE_JSON_FILE
//       prints a bundle (built with @sigstore/bundle) signed with node:crypto.
import crypto from 'node:crypto';
import fs from 'node:fs';
import sigstoreBundle from '@sigstore/bundle';
import sigstoreVerify from '@sigstore/verify';
import { cli, decryptKeyFile, keyHint } from './cosign_lib.mjs';

const { bundleFromJSON, bundleToJSON, toDSSEBundle } = sigstoreBundle;
const { Verifier, toSignedEntity, toTrustMaterial } = sigstoreVerify;
const IN_TOTO = 'application/vnd.in-toto+json';
const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];

function verify(bundleFile, pubFile, sha256) {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundleFile, 'utf8')));
  const pub = crypto.createPublicKey(fs.readFileSync(pubFile, 'utf8'));
  const root = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
  const keys = { [keyHint(pub)]: { rawBytes: pub.export({ type: 'spki', format: 'der' }) } };
  const verifier = new Verifier(toTrustMaterial(root, keys),
                                { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundle));  // throws a VerificationError

  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO) throw new Error(`payloadType is ${envelope.payloadType}`);
  const statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8'));
  if (!STATEMENT_TYPES.includes(statement._type)) throw new Error(`_type is ${statement._type}`);
  if (sha256 !== undefined && !statement.subject?.some((s) => s.digest?.sha256 === sha256)) {
    throw new Error(`no subject has sha256 ${sha256}`);
  }
  process.stdout.write(`${statement.predicateType}\n`);
}

function make(keyFile, sha256, predicateType, predicateFile) {
  const key = decryptKeyFile(keyFile);
  const statement = {
    _type: STATEMENT_TYPES[0],
    subject: [{ digest: { sha256 } }],
    predicateType,
    predicate: JSON.parse(fs.readFileSync(predicateFile, 'utf8')),
  };
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const type = Buffer.from(IN_TOTO, 'utf8');
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type,
                             Buffer.from(` ${payload.length} `), payload]);
  const signature = crypto.sign('sha256', pae, key);
  const bundle = toDSSEBundle({ artifact: payload, artifactType: IN_TOTO, signature,
                                keyHint: keyHint(key) });
  process.stdout.write(`${JSON.stringify(bundleToJSON(bundle))}\n`);
}

cli((args) => {
  if (args[0] === 'verify' && (args.length === 3 || args.length === 4)) {
    verify(args[1], args[2], args[3]);
  } else if (args[0] === 'make' && args.length === 5) {
    make(args[1], args[2], args[3], args[4]);
  } else {
    throw new Error('usage: bundle.mjs verify BUNDLEFILE PUBFILE [SHA256HEX] | '
                    + 'make KEYFILE SHA256HEX PREDICATE_TYPE PREDICATE_JSON_FILE');
  }
});
