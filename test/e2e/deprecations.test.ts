/**
 * `csr-signer run` emits no DeprecationWarning on this Node while it issues: it runs
 * with --throw-deprecation, so any deprecated call would end the process (Node 24,
 * the image's runtime, deprecates handing a WebCrypto CryptoKey to node:crypto,
 * DEP0203). Twelve CSRs approved together keep several signings in flight (verify and
 * sign on libuv's threadpool), with Events and the audit log on, as in a burst; then a
 * SIGTERM shuts it down cleanly. The PKI core's own paths are checked in-process by
 * test/pki/no-deprecation.test.ts.
 */
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { certificateOf, createAndApprove, servingSpecs, waitSettled } from '../helpers/e2e.js';
import { servingSignerArgs, startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, opensslVerify, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const dir = tempDir('deprecations-');
const ca = makeOpensslCa(dir, 'serving', 'p256');

let api: DevapiProcess;
let signer: SignerProcess;
t.before(async () => {
  api = await startDevapi();
  signer = await startSigner(servingSignerArgs(api.kubeconfig('signer'), ca.certPath, ca.keyPath),
    { waitFor: 'watching', nodeArgs: ['--throw-deprecation', '--trace-deprecation'] });
});
t.teardown(async () => {
  await signer.stop('SIGKILL');
  await api.stop();
});

void t.test('a burst of CSRs is issued with --throw-deprecation, and nothing reaches stderr', async (t) => {
  const specs = servingSpecs(dir, 'burst', 12);
  createAndApprove(api, specs);
  // A deprecated call ends the signer: fail with its stderr then, not after waitSettled's timeout.
  const exited = new Promise<never>((_resolve, reject) => signer.child.once('exit', (code, signal) =>
    reject(new Error(`the signer exited (${String(code ?? signal)}) before the CSRs were issued:\n${signer.stderr()}`))));
  exited.catch(() => undefined); // the SIGTERM below ends it too
  const csrs = await Promise.race([waitSettled(api, specs.map((s) => s.name)), exited]);
  const certificates = specs.map((s) => certificateOf(csrs.get(s.name)) ?? '');
  t.equal(certificates.filter((c) => opensslVerify(dir, ca.certPem, c).code === 0).length, specs.length, 'every CSR has a certificate that verifies with the CA');
  t.equal(signer.child.exitCode, null, 'the signer is still running');
  t.equal(signer.stderr(), '', 'nothing on the signer\'s stderr: no deprecation, no uncaught error');
  t.equal(await signer.stop('SIGTERM'), 0, 'a SIGTERM stops it cleanly');
  t.equal(signer.stderr(), '', 'nothing on stderr after shutting down either');
});
