// cosign's key file format, written independently of hardbase with node:crypto and tweetnacl:
// PKCS#8 DER sealed with nacl/secretbox under scrypt(password), as JSON in PEM
// "ENCRYPTED SIGSTORE PRIVATE KEY". Shared by the CLI scripts in this directory.
import crypto from 'node:crypto';
import fs from 'node:fs';
import nacl from 'tweetnacl';

const LABELS = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];

export function password() {
  const pw = process.env.COSIGN_PASSWORD;
  if (pw === undefined) throw new Error('COSIGN_PASSWORD is not set');
  return pw;
}

function scrypt(pw, salt, { N, r, p }) {
  const maxmem = 512 * 1024 * 1024;
  return crypto.scryptSync(Buffer.from(pw, 'utf8'), salt, 32, { N, r, p, maxmem });
}

function pemBody(text) {
  const pem = /^-----BEGIN ([A-Z ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END \1-----\r?\n?$/;
  const m = pem.exec(text);
  if (!m || !LABELS.includes(m[1])) throw new Error('not an encrypted cosign private key PEM');
  return Buffer.from(m[2].replace(/\s/g, ''), 'base64');
}

function toPem(label, der) {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// Returns the node:crypto private KeyObject of a cosign key file; throws on a wrong password.
export function decryptKeyFile(path, pw = password()) {
  const doc = JSON.parse(pemBody(fs.readFileSync(path, 'utf8')).toString('utf8'));
  if (doc.kdf?.name !== 'scrypt') throw new Error(`unknown kdf ${doc.kdf?.name}`);
  if (doc.cipher?.name !== 'nacl/secretbox') throw new Error(`unknown cipher ${doc.cipher?.name}`);
  const key = scrypt(pw, Buffer.from(doc.kdf.salt, 'base64'), doc.kdf.params);
  const plain = nacl.secretbox.open(new Uint8Array(Buffer.from(doc.ciphertext, 'base64')),
                                    new Uint8Array(Buffer.from(doc.cipher.nonce, 'base64')),
                                    new Uint8Array(key));
  if (plain === null) throw new Error('wrong password: secretbox does not open');
  const priv = crypto.createPrivateKey({ key: Buffer.from(plain), format: 'der', type: 'pkcs8' });
  if (priv.asymmetricKeyType !== 'ec' || priv.asymmetricKeyDetails.namedCurve !== 'prime256v1') {
    throw new Error('decrypted key is not ECDSA P-256');
  }
  return priv;
}

// Writes PREFIX.key and PREFIX.pub as `cosign generate-key-pair` does.
export function makeKeyFiles(prefix, pw = password()) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const params = { N: 65536, r: 8, p: 1 };
  const salt = crypto.randomBytes(32);
  const nonce = crypto.randomBytes(24);
  const key = scrypt(pw, salt, params);
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const sealed = nacl.secretbox(new Uint8Array(der), new Uint8Array(nonce), new Uint8Array(key));
  const doc = {
    kdf: { name: 'scrypt', params, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(sealed).toString('base64'),
  };
  const file = toPem(LABELS[0], Buffer.from(JSON.stringify(doc)));
  fs.writeFileSync(`${prefix}.key`, file, { mode: 0o600 });
  fs.writeFileSync(`${prefix}.pub`, publicKeyPem(publicKey));
}

// The public KeyObject of a private or public KeyObject.
function publicOf(key) {
  return key.type === 'public' ? key : crypto.createPublicKey(key);
}

export function publicKeyPem(key) {
  return publicOf(key).export({ type: 'spki', format: 'pem' });
}

// base64(sha256(PKIX DER)): how a sigstore bundle names a public key.
export function keyHint(key) {
  const der = publicOf(key).export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('base64');
}

// Runs main(args), printing an error and exiting 1 when it throws.
export function cli(main) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
