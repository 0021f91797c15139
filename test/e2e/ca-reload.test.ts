/**
 * Replacing the CA files of a running signer: new CSRs are signed by the new CA
 * with no restart; a broken pair keeps the old CA signing and moves the error
 * metric.
 */
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { certificateOf, manifests, waitSettled } from '../helpers/e2e.js';
import { opensslRequest } from '../helpers/requests.js';
import { httpGet } from '../helpers/http.js';
import { installPair, secretDir } from '../helpers/secret-dir.js';
import { servingSignerArgs, startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, opensslVerify, tempDir } from '../helpers/tools.js';
import { join } from 'node:path';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const dir = tempDir('ca-reload-');
const oldCa = makeOpensslCa(dir, 'old', 'p256');
const newCa = makeOpensslCa(dir, 'new', 'rsa2048');
const secret = secretDir(oldCa.certPem, oldCa.keyPem);

let api: DevapiProcess;
let signer: SignerProcess;
t.before(async () => {
  api = await startDevapi();
  signer = await startSigner(servingSignerArgs(api.kubeconfig('signer'), join(secret, 'tls.crt'), join(secret, 'tls.key'), '--ca-reload-interval', '500ms'), { waitFor: 'watching' });
});
t.teardown(async () => {
  await signer.stop();
  await api.stop();
});

async function issue(name: string): Promise<string> {
  const request = opensslRequest(dir, name, { sans: [`DNS:${name}.example.com`] });
  const created = kubectl(api, 'admin', ['create', '-f', '-'], manifests([{ name, signerName: 'example.com/serving', usages: ['digital signature', 'server auth'], request }]));
  if (created.code !== 0) throw new Error(created.stderr);
  kubectl(api, 'approver', ['certificate', 'approve', name]);
  return certificateOf((await waitSettled(api, [name])).get(name)) ?? '';
}

const metrics = async (): Promise<string> => (await httpGet(`http://${String(signer.logs.find((l) => l.msg === 'started')?.http)}/metrics`)).body;

void t.test('before: the old CA signs', async (t) => {
  t.equal(opensslVerify(dir, oldCa.certPem, await issue('before')).code, 0);
});

void t.test('a Secret update (symlink swap) to a new CA: the next CSR is signed by it, no restart', async (t) => {
  const pid = signer.child.pid;
  installPair(secret, newCa.certPem, newCa.keyPem);
  await signer.waitForLog((l) => l.msg === 'CA reloaded' && /CN=new test CA/.test(String(l.caSubject)));
  const certificate = await issue('after');
  t.equal(opensslVerify(dir, newCa.certPem, certificate).code, 0, 'verifies with the new CA');
  t.not(opensslVerify(dir, oldCa.certPem, certificate).code, 0, 'not with the old');
  t.equal(signer.child.pid, pid, 'same process');
  t.match(await metrics(), /csr_signer_ca_reload_total\{signer="example.com\/serving",result="success"\} 1/);
});

void t.test('a broken pair keeps the new CA signing and counts an error', async (t) => {
  installPair(secret, newCa.certPem, oldCa.keyPem);
  await signer.waitForLog((l) => l.msg === 'CA files rejected; the previous CA stays in use');
  const certificate = await issue('during-broken');
  t.equal(opensslVerify(dir, newCa.certPem, certificate).code, 0, 'still signed by the last good CA');
  t.match(await metrics(), /csr_signer_ca_reload_total\{signer="example.com\/serving",result="error"\} [1-9]/);
});
