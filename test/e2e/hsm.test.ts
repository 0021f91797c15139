/**
 * A CA key that exists only on a PKCS#11 token (SoftHSM2), end to end: the key is
 * generated on the token, its CA certificate made by certtool signing through the token,
 * and `csr-signer run` — configured by a config file (`ca.key` a URI, `ca.pkcs11`) and
 * once by the kube-controller-manager flags — issues CSRs created and approved with the
 * real kubectl; each certificate is issued once and verifies with openssl and with Go's
 * crypto/x509. The token refuses to give the key out. Then the start-up refusals: a
 * wrong PIN, a URI naming no key, a certificate that is not the token key's — one
 * sentence each, exit 1, no stack, and the PIN nowhere.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { cli, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { createAndApprove, servingSpecs, waitSettled } from '../helpers/e2e.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, softhsmTools } from '../helpers/softhsm.js';
import { servingSignerArgs, startSigner } from '../helpers/signer.js';
import { privateKeyExposure } from '../helpers/token-key.js';
import { checkIssued, configRunArgs, pkcs11Of, writeSignerConfig } from '../helpers/token-signer.js';
import { needTool, run, tempDir } from '../helpers/tools.js';

if (![...softhsmTools, 'kubectl', 'openssl', 'go'].every((tool) => needTool(t, tool))) process.exit(0);

// A PIN no log line, timestamp or serial would hold by chance, so "appears nowhere" means something.
const PIN = 'pin-7f3a9c2e51';
const dir = tempDir('hsm-e2e-');
const token = makeSoftToken({ pin: PIN });
const ecKey = generateTokenKey(token, 'p256', 'ca-p256', '01');
const ecCa = makeTokenCa(token, ecKey, 'p256');
const rsaKey = generateTokenKey(token, 'rsa2048', 'ca-rsa', '02');
const rsaCa = makeTokenCa(token, rsaKey, 'rsa');

let api: DevapiProcess;
t.before(async () => {
  api = await startDevapi();
});
t.teardown(() => api.stop());

void t.test('seed flow, config file: a CA key only on the token signs every CSR once; the token never gives the key out', async (t) => {
  const exposure = privateKeyExposure(token, ecKey);
  t.match(exposure, { matches: 1, value: 'CKR_ATTRIBUTE_SENSITIVE', sensitive: true, extractable: false, neverExtractable: true },
    'the token refuses CKA_VALUE: the key is sensitive, not extractable and never was');
  const config = writeSignerConfig(dir, { certFile: ecCa.certPath, key: ecKey.uri, pkcs11: pkcs11Of(token) });
  const signer = await startSigner(configRunArgs(api, config, '--workers', '4'), { waitFor: 'watching', env: token.env });
  try {
    const batch = servingSpecs(dir, 'seed', 20);
    createAndApprove(api, batch);
    await waitSettled(api, batch.map((s) => s.name));
    await checkIssued(t, api, dir, batch.map((s) => s.name), { token: ecCa.certPem }, () => 'token');
    t.notMatch(JSON.stringify(signer.logs) + signer.stderr(), PIN, 'the PIN is in no log line');
    t.same(signer.logs.filter((l) => /PIN|world-readable/.test(String(l.msg))).map((l) => l.msg), [], 'no warning about the PIN file: it is private (0600)');
  } finally {
    t.equal(await signer.stop(), 0, 'the signer stops cleanly');
  }
  t.match(privateKeyExposure(token, ecKey), { value: 'CKR_ATTRIBUTE_SENSITIVE', extractable: false }, 'still refused after the signer used it');
});

void t.test('seed flow, flags: --cluster-signing-key-file=pkcs11:… with --pkcs11-module and --pkcs11-pin-file (an RSA-2048 token key)', async (t) => {
  t.match(privateKeyExposure(token, rsaKey), { matches: 1, privateExponent: 'CKR_ATTRIBUTE_SENSITIVE', sensitive: true, extractable: false, neverExtractable: true },
    'the token refuses the RSA private exponent');
  const args = servingSignerArgs(api.kubeconfig('signer'), rsaCa.certPath, rsaKey.uri, '--pkcs11-module', token.module, '--pkcs11-pin-file', token.pinFile);
  const signer = await startSigner(args, { waitFor: 'watching', env: token.env });
  try {
    const batch = servingSpecs(dir, 'flags', 5);
    createAndApprove(api, batch);
    await waitSettled(api, batch.map((s) => s.name));
    await checkIssued(t, api, dir, batch.map((s) => s.name), { rsa: rsaCa.certPem, p256: ecCa.certPem }, () => 'rsa');
  } finally {
    t.equal(await signer.stop(), 0, 'the signer stops cleanly');
  }
});

void t.test('start-up refusals: one sentence with its code, exit 1, no stack, the PIN nowhere', (t) => {
  const wrongPinFile = join(dir, 'wrong-pin');
  const WRONG = 'wrong-9d41c7';
  writeFileSync(wrongPinFile, `${WRONG}\n`, { mode: 0o600 });
  const other = makeOpensslCa(dir, 'not-the-token-key', 'p256');
  const cases: { name: string; ca: Record<string, unknown>; code: string; says: RegExp }[] = [
    { name: 'a certificate that is not the token key\'s', code: 'CSR_SIGNER_ERR_PKCS11_KEY_MISMATCH', says: /a test signature made with the token key verifies with none of the 1 certificate in \S*not-the-token-key/,
      ca: { certFile: other.certPath, key: ecKey.uri, pkcs11: pkcs11Of(token) } },
    { name: 'a URI naming no object on the token', code: 'CSR_SIGNER_ERR_PKCS11_KEY_NOT_FOUND', says: /object=no-such-key/,
      ca: { certFile: ecCa.certPath, key: `pkcs11:token=${token.label};object=no-such-key;id=%09;type=private`, pkcs11: pkcs11Of(token) } },
    // Last: a wrong PIN moves the token's failed-login counter.
    { name: 'a wrong PIN', code: 'CSR_SIGNER_ERR_PKCS11_LOGIN', says: /cannot log in to the token: .*CKR_PIN_INCORRECT/,
      ca: { certFile: ecCa.certPath, key: ecKey.uri, pkcs11: { module: token.module, pinFile: wrongPinFile } } },
  ];
  for (const c of cases) {
    const config = writeSignerConfig(dir, c.ca, `refused-${c.code}.yaml`);
    const r = run(process.execPath, [cli, 'run', '--http-address', '127.0.0.1:0', ...configRunArgs(api, config)], { env: token.env, timeoutMs: 60_000 });
    t.equal(r.code, 1, `${c.name}: exit 1\n${r.stderr}`);
    t.match(r.stderr, new RegExp(`^csr-signer: [^\\n]+ \\[${c.code}\\]\\n$`), `${c.name}: one line on stderr with ${c.code}`);
    t.match(r.stderr, c.says, `${c.name}: says which`);
    t.notMatch(`${r.stdout}${r.stderr}`, /\n\s+at |node:internal|Node\.js v/, `${c.name}: no stack trace`);
    t.notMatch(r.stdout, /"level":"(error|fatal)"/, `${c.name}: stdout carries no second account of it`);
    t.notOk(`${r.stdout}${r.stderr}`.includes(PIN), `${c.name}: the PIN is nowhere in stdout or stderr`);
    t.notOk(`${r.stdout}${r.stderr}`.includes(WRONG), `${c.name}: nor the wrong PIN`);
  }
  t.end();
});
