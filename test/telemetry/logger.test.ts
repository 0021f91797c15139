/** The logger never writes key material, passphrases or tokens, whoever logs them by mistake. */
import t from 'tap';
import { createLogger } from '../../src/telemetry/logger.js';

void t.test('secrets are redacted by field name at the top level and one level down', (t) => {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (l: string) => { lines.push(l); return true; } } as unknown as NodeJS.WritableStream);
  const secret = '-----BEGIN PRIVATE KEY-----MIGH';
  logger.info({ key: secret, passphrase: 'hunter2', token: 'tok', csr: 'a', err: { privateKey: secret, token: 'tok2' }, headers: { Authorization: 'Bearer x' } }, 'oops');
  const line = lines.join('');
  for (const s of [secret, 'hunter2', 'tok"', 'tok2', 'Bearer x']) t.notOk(line.includes(s), `${s} is not written`);
  t.match(JSON.parse(line), { csr: 'a', key: '[redacted]', passphrase: '[redacted]', level: 'info', component: 'csr-signer', msg: 'oops' });
  t.end();
});

void t.test('debug lines are dropped at info', (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (l: string) => { lines.push(l); return true; } } as unknown as NodeJS.WritableStream);
  logger.debug('hidden');
  logger.info('shown');
  t.equal(lines.length, 1);
  t.end();
});
