/**
 * A CA rotation that moves a signer from a key file to a key on a PKCS#11 token, in the
 * middle of a burst: `csr-signer run` starts with a file CA in a directory laid out like a
 * mounted Secret (ca.pkcs11 configured from the start); the directory is swapped, as the
 * kubelet swaps a Secret, to a bundle of the old and the token CA and a key file whose only
 * line is the token key's URI. Every CSR is issued exactly once, each certificate verifies
 * with the CA that signed it (openssl and Go), and after the swap the token CA signs.
 */
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { createAndApprove, servingSpecs, waitSettled } from '../helpers/e2e.js';
import { httpGet } from '../helpers/http.js';
import { installFiles, secretDirWith } from '../helpers/secret-dir.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, softhsmTools } from '../helpers/softhsm.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { privateKeyExposure } from '../helpers/token-key.js';
import { checkIssued, configRunArgs, pkcs11Of, SIGNER, writeSignerConfig } from '../helpers/token-signer.js';
import { needTool, tempDir } from '../helpers/tools.js';
import { pause, until } from '../helpers/wait.js';
import { join } from 'node:path';

if (![...softhsmTools, 'kubectl', 'openssl', 'go'].every((tool) => needTool(t, tool))) process.exit(0);

const dir = tempDir('hsm-rotation-');
const fileCa = makeOpensslCa(dir, 'file', 'p256');
await pause(1100, 'the token CA must be newer than the file CA, and notBefore has one-second resolution');
const token = makeSoftToken();
const key = generateTokenKey(token, 'p256', 'ca-next', '07');
const tokenCa = makeTokenCa(token, key, 'next');
const secret = secretDirWith({ 'tls.crt': fileCa.certPem, 'tls.key': fileCa.keyPem });
const config = writeSignerConfig(dir, { certFile: join(secret, 'tls.crt'), keyFile: join(secret, 'tls.key'), pkcs11: pkcs11Of(token) });

let api: DevapiProcess;
let signer: SignerProcess;
t.before(async () => {
  api = await startDevapi();
  signer = await startSigner(configRunArgs(api, config, '--workers', '4', '--ca-reload-interval', '500ms'), { waitFor: 'watching', env: token.env });
});
t.teardown(async () => {
  await signer.stop();
  await api.stop();
});

void t.test('file key → token key in the middle of a burst: each CSR issued once, by the CA in use when it was signed', async (t) => {
  const first = servingSpecs(dir, 'burst-a', 12);
  const second = servingSpecs(dir, 'burst-b', 12);
  createAndApprove(api, first);
  installFiles(secret, { 'tls.crt': fileCa.certPem + tokenCa.certPem, 'tls.key': `${key.uri}\n` });
  createAndApprove(api, second);
  const reloaded = await signer.waitForLog((l) => l.msg === 'CA reloaded' && /CN=next token CA/.test(String(l.caSubject)));
  const reloadAt = signer.logs.indexOf(reloaded);
  const third = servingSpecs(dir, 'burst-c', 6); // created after the switch: the token CA only
  createAndApprove(api, third);
  const all = [...first, ...second, ...third].map((s) => s.name);
  await waitSettled(api, all);
  const by = await checkIssued(t, api, dir, all, { file: fileCa.certPem, token: tokenCa.certPem });
  // kubectl runs synchronously: give the signer's stdout a turn until every audit line is read.
  await until(() => all.every((name) => signer.logs.some((l) => l.audit === 'certificate-issued' && l.csr === name)),
    { what: 'an audit line for every CSR', ms: 10_000, intervalMs: 100 });
  for (const name of all) {
    const records = signer.logs.filter((l) => l.audit === 'certificate-issued' && l.csr === name);
    t.equal(records.length, 1, `${name}: one audit record`);
    const at = records[0] === undefined ? -1 : signer.logs.indexOf(records[0]);
    if (at >= 0 && at < reloadAt) t.equal(by.get(name), 'file', `${name}, issued before the switch, is the file CA's`);
    if (name.startsWith('burst-c-')) t.equal(by.get(name), 'token', `${name}, created after the switch, is the token CA's`);
  }
  const counts = [...by.values()].reduce((c, ca) => ({ ...c, [ca]: (c[ca] ?? 0) + 1 }), {} as Record<string, number>);
  t.ok((counts.file ?? 0) > 0 && (counts.token ?? 0) > 0, `both CAs signed part of the burst (${JSON.stringify(counts)})`);
  t.match(privateKeyExposure(token, key), { value: 'CKR_ATTRIBUTE_SENSITIVE', sensitive: true, extractable: false, neverExtractable: true },
    'the token key stays on the token');
});

void t.test('after the switch: ready with the key provider checked, the CA reload counted', async (t) => {
  const address = String(signer.logs.find((l) => l.msg === 'started')?.http);
  const ready = await httpGet(`http://${address}/readyz?verbose`);
  t.equal(ready.status, 200, ready.body);
  t.match(ready.body, new RegExp(`^\\[\\+\\]key-provider:${SIGNER} ok$`, 'm'));
  t.match((await httpGet(`http://${address}/metrics`)).body, /^csr_signer_ca_reload_total\{signer="example.com\/serving",result="success"\} 1$/m);
});
