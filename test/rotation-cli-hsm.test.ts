/**
 * `csr-signer rotation status` for a signer whose key is on a SoftHSM2 token: the key's
 * certificate is found by a test signature through the token (as `run` does), so the
 * status names the token CA as the signing one in a bundle that holds the previous CA too.
 */
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from './helpers/ca.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, softhsmTools } from './helpers/softhsm.js';
import { needTool, run, tempDir, writeTemp } from './helpers/tools.js';
import { pause } from './helpers/wait.js';

for (const tool of ['openssl', ...softhsmTools]) if (!needTool(t, tool)) process.exit(0);

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const dir = tempDir('rotation-cli-hsm-');
const previous = makeOpensslCa(dir, 'previous', 'p256');
await pause(1100, 'the token CA must be newer, and notBefore has one-second resolution');
const token = makeSoftToken();
const ca = makeTokenCa(token, generateTokenKey(token, 'p256', 'cakey', '01'), 'token');

void t.test('the token CA signs, the file CA is the previous one', (t) => {
  const bundle = writeTemp(dir, 'token-then-previous.pem', ca.certPem + previous.certPem);
  const r = run(process.execPath, [cli, 'rotation', 'status', '--output', 'json', '--cluster-signing-cert-file', bundle, '--cluster-signing-key-file', ca.key.uri,
    '--pkcs11-module', token.module, '--pkcs11-pin-file', token.pinFile, '--signer-name', 'example.com/serving', '--signer-unrestricted', '--rotation-record='],
  { env: token.env });
  t.equal(r.code, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as { signers: { phase: string; cas: { role: string; subject: string }[] }[] };
  t.same(parsed.signers[0]?.cas.map((c) => [c.role, c.subject]), [['signing', 'O=csr-signer tests,CN=token token CA'], ['previous', 'CN=previous test CA,O=csr-signer tests']]);
  t.end();
});
