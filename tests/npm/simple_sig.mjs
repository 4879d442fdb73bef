// cosign tag-scheme ("simple signing") signatures, independently of hardbase: ECDSA P-256 DER
// signatures over SHA-256 of the exact payload bytes.
//   node simple_sig.mjs verify PAYLOADFILE SIG_BASE64 PUBFILE   prints "verified", else exits 1
//   node simple_sig.mjs sign PAYLOADFILE KEYFILE               prints the base64 DER signature
import crypto from 'node:crypto';
import fs from 'node:fs';
import { cli, decryptKeyFile } from './cosign_lib.mjs';

cli((args) => {
  const [command, payloadFile] = args;
  if (command === 'verify' && args.length === 4) {
    const key = crypto.createPublicKey(fs.readFileSync(args[3], 'utf8'));
    const sig = Buffer.from(args[2], 'base64');
    const ok = crypto.verify('sha256', fs.readFileSync(payloadFile), key, sig);
    if (!ok) throw new Error('signature does not verify');
    process.stdout.write('verified\n');
  } else if (command === 'sign' && args.length === 3) {
    const sig = crypto.sign('sha256', fs.readFileSync(payloadFile), decryptKeyFile(args[2]));
    process.stdout.write(`${sig.toString('base64')}\n`);
  } else {
    throw new Error('usage: simple_sig.mjs verify PAYLOADFILE SIG_BASE64 PUBFILE'
                    + ' | sign PAYLOADFILE KEYFILE');
  }
});
