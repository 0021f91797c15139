/**
 * The `csr-signer devapi` flags of the kubelet identities: a bad --bootstrap-token, --bootstrap-token-file
 * or --client-ca-file is one sentence with the InvalidArgument code, and a bootstrap token's secret is
 * never repeated in it. Tokens from a file authenticate, and are not in devapi's command line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { bootstrapTokenFile, runDevapi } from '../../../devapi/commands/devapi.js';
import { DevapiClient, startDevapi } from '../../helpers/devapi.js';
import { tempDir, writeTemp } from '../../helpers/tools.js';

const dir = tempDir();
const sink = (): Writable => new Writable({ write: (_c, _e, done) => done() });
const devapi = (args: string[]): Promise<number> => runDevapi(['--state-dir', join(dir, 'state'), ...args], sink(), sink());

void t.test('a bootstrap token not of the form id.secret is refused without repeating it', async (t) => {
  for (const token of ['abcdef.0123456789ABCDEF', 'abcdef0123456789abcdef', 'abc.0123456789abcdef']) {
    const error = await devapi(['--bootstrap-token', 'abcdef.0123456789abcdef', '--bootstrap-token', token]).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    t.match(error, { code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message: '--bootstrap-token must have the form [a-z0-9]{6}.[a-z0-9]{16} (token id, a dot, token secret)' }, token);
    t.notMatch(error?.message ?? '', token, 'the secret is not in the message');
  }
});

void t.test('a client CA file that is missing or holds no certificate is one sentence', async (t) => {
  await t.rejects(devapi(['--client-ca-file', join(dir, 'missing.pem')]), { code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message: `cannot read ${join(dir, 'missing.pem')}: ENOENT` });
  const notPem = writeTemp(dir, 'not-a-ca.pem', 'hello\n');
  await t.rejects(devapi(['--client-ca-file', notPem]), {
    code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message: 'devapi cannot start: the client CA bundle is not usable: must contain at least one CERTIFICATE PEM block',
  });
});

void t.test('--bootstrap-token-file: one token a line; a malformed line is named by its number, not its text', async (t) => {
  const good = writeTemp(dir, 'tokens', 'abcdef.0123456789abcdef\r\n\n  07401b.f395accd246ae52d  \n');
  t.same(bootstrapTokenFile(good), ['abcdef.0123456789abcdef', '07401b.f395accd246ae52d'], 'CRs, spaces and blank lines ignored');
  const secret = 'ABCDEF0123456789';
  const bad = writeTemp(dir, 'bad-tokens', `abcdef.0123456789abcdef\nq1w2e3.${secret}\n`);
  const error = await devapi(['--bootstrap-token-file', bad]).then(() => undefined, (e: unknown) => e as Error & { code?: string });
  t.match(error, {
    code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT',
    message: `--bootstrap-token-file ${bad}, line 2: a token must have the form [a-z0-9]{6}.[a-z0-9]{16} (token id, a dot, token secret)`,
  });
  t.notMatch(error?.message ?? '', secret, 'the secret is not in the message');
  t.notMatch(error?.message ?? '', 'q1w2e3', 'nor its id');
  await t.rejects(devapi(['--bootstrap-token-file', writeTemp(dir, 'empty', '\n\n')]), {
    code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message: `--bootstrap-token-file ${join(dir, 'empty')} holds no token`,
  });
  await t.rejects(devapi(['--bootstrap-token-file', join(dir, 'missing')]), { code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message: `cannot read ${join(dir, 'missing')}: ENOENT` });
  const large = writeTemp(dir, 'large', 'x'.repeat(64 * 1024 + 1));
  await t.rejects(devapi(['--bootstrap-token-file', large]), { code: 'CSR_SIGNER_ERR_FILE_TOO_LARGE' }, 'read bounded');
  const twice = writeTemp(dir, 'twice', 'abcdef.0123456789abcdef\n');
  await t.rejects(devapi(['--bootstrap-token', 'abcdef.aaaaaaaaaaaaaaaa', '--bootstrap-token-file', twice]), { message: /bootstrap token id abcdef is given twice/ }, 'one id in both forms');
});

void t.test('tokens from the file authenticate, and devapi\'s command line holds no secret', async (t) => {
  const api = await startDevapi({ bootstrapTokens: ['abcdef.0123456789abcdef'] });
  t.teardown(() => api.stop());
  const cmdline = readFileSync(`/proc/${api.child.pid}/cmdline`, 'utf8');
  t.match(cmdline, '--bootstrap-token-file', 'given as a file');
  t.notMatch(cmdline, '0123456789abcdef', 'the secret is not in /proc/PID/cmdline');
  const client = new DevapiClient(api.url, api.stateDir);
  const review = await client.callWith('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, { token: 'abcdef.0123456789abcdef' });
  t.match(review.body, { status: { userInfo: { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] } } }, 'the token authenticates');
  const wrong = await client.callWith('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, { token: 'abcdef.aaaaaaaaaaaaaaaa' });
  t.equal(wrong.status, 401, 'a wrong secret does not');
  const kubeconfig = readFileSync(api.bootstrapKubeconfig('abcdef'), 'utf8');
  t.match(kubeconfig, 'abcdef.0123456789abcdef', 'devapi wrote the token\'s kubeconfig');
});
