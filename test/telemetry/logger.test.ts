/** The logger never writes key material, passphrases or tokens, whoever logs them by mistake. */
import t from 'tap';
import Fastify from 'fastify';
import { KubeApiError } from '../../src/kube/http.js';
import { boundedMessage, createLogger } from '../../src/telemetry/logger.js';

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

void t.test('an error keeps its type, message, stack and the fields that say what went wrong, and nothing else', (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (l: string) => { lines.push(l); return true; } } as unknown as NodeJS.WritableStream);
  // What a failed exec credential plugin throws: a spawn error holding the plugin's arguments.
  const spawnError = Object.assign(new Error('spawn kubelogin ENOENT'), {
    code: 'ENOENT', errno: -2, syscall: 'spawn kubelogin', path: 'kubelogin', spawnargs: ['get-token', '--oidc-client-secret=SUPERSECRET'],
  });
  const tlsError = Object.assign(new Error("Hostname/IP does not match certificate's altnames", { cause: spawnError }), {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID', cert: { raw: Buffer.from('certificate bytes'), subject: { CN: 'x' } },
  });
  logger.warn({ err: tlsError }, 'will retry');
  const line = lines.join('');
  t.notOk(line.includes('SUPERSECRET'), 'the plugin\'s arguments are not written');
  t.notOk(line.includes('spawnargs') || line.includes('"cert"'), 'nor any field outside the allow-list');
  t.match(JSON.parse(line), {
    err: {
      type: 'Error', message: "Hostname/IP does not match certificate's altnames", code: 'ERR_TLS_CERT_ALTNAME_INVALID', stack: String,
      causes: [{ type: 'Error', message: 'spawn kubelogin ENOENT' }],
    },
  });
  const direct: string[] = [];
  const other = createLogger('info', { write: (l: string) => { direct.push(l); return true; } } as unknown as NodeJS.WritableStream);
  other.warn({ err: spawnError }, 'x');
  t.match(JSON.parse(direct.join('')), { err: { type: 'Error', code: 'ENOENT', errno: -2, syscall: 'spawn kubelogin', path: 'kubelogin' } });
  t.notOk(direct.join('').includes('SUPERSECRET'));
  t.end();
});

void t.test('an error message is bounded: a 422 quoting a whole certificate chain writes 1 KiB of it, an ellipsis and its length', (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (l: string) => { lines.push(l); return true; } } as unknown as NodeJS.WritableStream);
  const chain = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(100 * 1024)}\n-----END CERTIFICATE-----\n`;
  const message = `PodCertificateRequest.certificates.k8s.io "web" is invalid: status.certificateChain: Invalid value: "${chain}": too long`;
  const error = new KubeApiError(422, 'Invalid', message, undefined);
  logger.warn({ err: new Error('outer', { cause: error }) }, 'will retry');
  logger.warn({ err: error }, 'will retry');
  const [wrapped, direct] = lines.map((l) => JSON.parse(l) as { err: { message: string; stack: string; status: number; causes?: { message: string }[] } });
  t.ok(lines.every((l) => l.length < 5000), 'each line stays small');
  t.equal(direct?.err.message, `${message.slice(0, 1024)}… (${message.length} characters)`);
  t.equal(direct?.err.status, 422);
  t.ok(direct?.err.stack.startsWith(`KubeApiError: ${message.slice(0, 1024)}…`), 'the stack\'s first line is bounded the same way');
  t.equal(wrapped?.err.causes?.[0]?.message, direct?.err.message, 'and a cause\'s message');
  t.equal(boundedMessage('short'), 'short');
  t.end();
});

void t.test('--logging-format text writes the same record for a person: redacted, errors allow-listed, one line each', (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (l: string) => { lines.push(l); return true; } } as unknown as NodeJS.WritableStream, 'text');
  const secret = '-----BEGIN PRIVATE KEY-----MIGH';
  const spawnError = Object.assign(new Error('spawn kubelogin ENOENT'), { code: 'ENOENT', spawnargs: ['--oidc-client-secret=SUPERSECRET'] });
  logger.info({ signer: 'example.com/serving', key: secret, token: 'tok', count: 3, names: ['a', 'b'] }, 'started');
  logger.warn({ err: spawnError, csr: 'line\nforged I1207 "fake"' }, 'will retry');
  logger.debug('hidden');
  const text = lines.join('');
  for (const s of [secret, 'SUPERSECRET', 'spawnargs', '"tok"']) t.notOk(text.includes(s), `${s} is not written`);
  const [first, ...rest] = text.split('\n');
  t.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO "started" signer="example.com\/serving" key="\[redacted\]" token="\[redacted\]" count=3 names=\["a","b"\]$/, 'time, level, the message quoted, then key=value');
  const warn = rest.join('\n');
  t.match(warn, /^\S+ WARN "will retry" err\.type="Error" err\.message="spawn kubelogin ENOENT" err\.stack=<\n\tError: spawn kubelogin ENOENT\n\t {4}at /, 'the error by its allowed fields, its stack as an indented block');
  t.match(warn, /err\.code="ENOENT"/);
  t.match(warn, / csr=<\n\tline\n\tforged I1207 \\"fake\\"\n >\n$/, 'a value of several lines cannot pass for a record of its own: each of its lines is indented and quoted');
  t.equal(lines.length, 2, 'debug dropped at info');
  t.end();
});

void t.test('the text form of a record that is not JSON is passed on as it is', async (t) => {
  const { formatTextLine } = await import('../../src/telemetry/log-text.js');
  t.equal(formatTextLine('not json'), 'not json\n');
  t.equal(formatTextLine('{"level":"error","time":"2026-01-01T00:00:00.000Z","msg":"x","component":"csr-signer"}'), '2026-01-01T00:00:00.000Z ERROR "x"\n', 'component, constant, is left out');
});

/**
 * Ways a secret reaches a line besides a field of the merged object, each redacted by pino's
 * `redact` paths (which run on the serialized record): a replacement that redacts the merged
 * object before the serializers (a `formatters.log` function) misses them, and breaks
 * fastify's `res` serializer. Kept as guards for whoever makes redaction cheaper.
 */
void t.test('redaction also covers an Error under another field, format arguments, an object message and setBindings; fastify\'s lines keep their fields', async (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (l: string) => { lines.push(l); return true; } } as unknown as NodeJS.WritableStream);
  const failure = Object.assign(new Error('x'), { key: 'ERROR-KEY', token: 'ERROR-TOKEN' });
  logger.warn({ failure }, 'x');
  logger.child({ cause: failure }).info('y');
  logger.info('loaded %j', { key: 'FORMAT-1' });
  logger.info('loaded %o', { nested: { token: 'FORMAT-2' } });
  logger.info({}, { passphrase: 'FORMAT-3' } as unknown as string);
  const child = logger.child({ a: 1 });
  child.setBindings({ token: 'SET-BINDINGS' });
  child.info('z');
  const text = lines.join('');
  for (const secret of ['ERROR-KEY', 'ERROR-TOKEN', 'FORMAT-1', 'FORMAT-2', 'FORMAT-3', 'SET-BINDINGS']) t.notOk(text.includes(secret), `${secret} is not written`);
  lines.length = 0;
  const app = Fastify({ loggerInstance: logger });
  app.get('/x', () => 'ok');
  await app.inject({ url: '/x' });
  await app.inject({ url: '/nope' });
  const completed = lines.map((l) => JSON.parse(l) as { msg?: string; res?: { statusCode?: number } }).filter((l) => l.msg === 'request completed');
  t.same(completed.map((l) => l.res?.statusCode), [200, 404], 'the response\'s status code is logged');
  await app.close();
});
