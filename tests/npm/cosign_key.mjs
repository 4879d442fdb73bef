// cosign key files, independently of hardbase.
//   node cosign_key.mjs decrypt KEYFILE   prints the public key PEM of the decrypted key
//   node cosign_key.mjs make PREFIX       writes PREFIX.key and PREFIX.pub like cosign
// The password comes from COSIGN_PASSWORD. Exits non-zero on failure.
import { cli, decryptKeyFile, makeKeyFiles, publicKeyPem } from './cosign_lib.mjs';

cli(([command, arg, ...rest]) => {
  if (command === 'decrypt' && arg && rest.length === 0) {
    process.stdout.write(publicKeyPem(decryptKeyFile(arg)));
  } else if (command === 'make' && arg && rest.length === 0) {
    makeKeyFiles(arg);
  } else {
    throw new Error('usage: cosign_key.mjs decrypt KEYFILE | make PREFIX');
  }
});
