/**
 * One loaded module per library file, however its path is spelled: Debian's
 * /usr/lib/softhsm/libsofthsm2.so is a symlink to the multiarch file, and two providers
 * naming the two paths must share one module, or closing one would C_Finalize the
 * library under the other.
 */
import { realpathSync } from 'node:fs';
import { verify, X509Certificate } from 'node:crypto';
import t from 'tap';
import { openPkcs11Key, parsePkcs11Uri } from '../../src/hsm/index.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, softhsmTools } from '../helpers/softhsm.js';
import { needTool } from '../helpers/tools.js';

for (const tool of softhsmTools) if (!needTool(t, tool)) process.exit(0);

const token = makeSoftToken();
process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
const ca = makeTokenCa(token, generateTokenKey(token, 'p256', 'cakey', '01'), 'module');
const caKey = new X509Certificate(ca.certPem).publicKey;

void t.test('a symlink and its target are one module: closing one provider leaves the other signing', async (t) => {
  const real = realpathSync(token.module);
  t.not(real, token.module, `${token.module} is a symlink (to ${real})`);
  const k1 = await openPkcs11Key({ uri: parsePkcs11Uri(ca.key.uri), module: token.module, pin: token.pin, sessions: 1, probeMs: 0 });
  t.teardown(() => k1.provider.close());
  const k2 = await openPkcs11Key({ uri: parsePkcs11Uri(ca.key.uri), module: real, pin: token.pin, sessions: 1, probeMs: 0 });
  await k2.provider.close();
  const message = Buffer.from('after the other path closed');
  const signature = await k1.provider.sign(message, 'sha256');
  t.ok(verify('sha256', message, caKey, signature), 'k1 still signs');
  t.equal(k1.provider.problem(), undefined);
});
