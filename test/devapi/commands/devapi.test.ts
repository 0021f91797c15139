/**
 * The `csr-signer devapi` flags of the kubelet identities: a bad --bootstrap-token or --client-ca-file is
 * one sentence with the InvalidArgument code, and a bootstrap token's secret is never repeated in it.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { runDevapi } from '../../../devapi/commands/devapi.js';
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
