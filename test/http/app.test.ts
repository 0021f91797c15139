/** The sidecar's routes through `inject` (and one real listener): formats, errors, logging, addresses. */
import { Writable } from 'node:stream';
import t from 'tap';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildApp } from '../../src/http/app.js';
import { negotiateFormat } from '../../src/http/exposition.js';
import { listen, parseAddress } from '../../src/http/listen.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { Snapshot } from '../../src/telemetry/snapshot.js';
import { approved, csrBuilder } from '../helpers/csr.js';
import { httpGet } from '../helpers/http.js';
import { snapshotBuilder } from './fixtures/snapshots.js';

function setup(snapshot: () => Snapshot = () => snapshotBuilder()) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  const registry = new Registry();
  const metrics = createMetrics(registry, snapshot, { runtime: false });
  const app = buildApp({ registry, snapshot, logger: pino({ level: 'info' }, sink) });
  t.teardown(() => app.close());
  return { app, metrics, lines };
}

const negotiation: readonly [string, string | undefined, 'prometheus' | 'openmetrics'][] = [
  ['no Accept header gets Prometheus text', undefined, 'prometheus'],
  ['Prometheus\'s own Accept header, preferring OpenMetrics 1.0.0, gets OpenMetrics',
    'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
  ['an unversioned OpenMetrics range gets OpenMetrics', 'application/openmetrics-text', 'openmetrics'],
  ['media types and parameters are matched without regard to case or quotes', 'Application/OpenMetrics-Text; Version="1.0.0"', 'openmetrics'],
  ['only OpenMetrics 0.0.1 gets Prometheus text: we speak 1.0.0', 'application/openmetrics-text;version=0.0.1', 'prometheus'],
  ['OpenMetrics at q=0 is refused', 'application/openmetrics-text;q=0, text/plain;q=0.1', 'prometheus'],
  ['text/plain ranked above OpenMetrics wins', 'text/plain;q=1, application/openmetrics-text;q=0.5', 'prometheus'],
  ['OpenMetrics ranked above a wildcard wins', '*/*;q=0.2, application/openmetrics-text;q=0.5', 'openmetrics'],
  ['a plain text request gets Prometheus text', 'text/plain', 'prometheus'],
  ['a wildcard gets Prometheus text', '*/*', 'prometheus'],
];

for (const [name, accept, format] of negotiation) {
  void t.test(`negotiation: ${name}`, (t) => {
    t.equal(negotiateFormat(accept), format);
    t.end();
  });
}

void t.test('/metrics answers Prometheus text 0.0.4 by default', async (t) => {
  const { app, metrics } = setup();
  metrics.issued('example.com/serving', 0.01, csrBuilder(approved()));
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  t.equal(res.headers.vary, 'Accept');
  t.match(res.body, /^# TYPE csr_signer_certificates_issued_total counter$/m);
  t.match(res.body, /^csr_signer_certificates_issued_total\{signer="example.com\/serving"\} 1$/m);
  t.notMatch(res.body, /# EOF/);
});

void t.test('/metrics answers OpenMetrics 1.0.0 when asked, and a Prometheus scrape after it keeps its _total names', async (t) => {
  const { app, metrics } = setup();
  metrics.issued('example.com/serving', 0.01, csrBuilder(approved()));
  const om = await app.inject({ method: 'GET', url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
  t.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  t.match(om.body, /^# TYPE csr_signer_certificates_issued counter$/m, 'OpenMetrics names the counter family without _total');
  t.match(om.body, /^csr_signer_certificates_issued_total\{signer="example.com\/serving"\} 1$/m, 'and its sample with it');
  t.ok(om.body.endsWith('# EOF\n'));
  const [again, text] = await Promise.all([
    app.inject({ method: 'GET', url: '/metrics', headers: { accept: 'application/openmetrics-text' } }),
    app.inject({ method: 'GET', url: '/metrics' }),
  ]);
  t.match(again.body, /^# TYPE csr_signer_certificates_issued counter$/m);
  t.match(text.body, /^# TYPE csr_signer_certificates_issued_total counter$/m, 'prom-client\'s in-place rename did not leak');
  t.match(text.body, /^csr_signer_certificates_issued_total\{signer="example.com\/serving"\} 1$/m);
});

void t.test('an unknown route answers 404 in JSON without repeating the request', async (t) => {
  const { app } = setup();
  for (const [method, url] of [['GET', '/secret-%3Cb%3E?x=%3Cscript%3E'], ['POST', '/livez'], ['DELETE', '/metrics']] as const) {
    const res = await app.inject({ method, url });
    t.equal(res.statusCode, 404, `${method} ${url}`);
    t.same(res.json(), { error: 'Not Found', statusCode: 404 });
    t.notMatch(res.body, /secret|script|livez|metrics|GET|POST|DELETE/);
  }
});

void t.test('probes answer HEAD too, and nothing is cached or sniffed', async (t) => {
  const { app } = setup();
  for (const url of ['/livez', '/readyz', '/metrics']) {
    const res = await app.inject({ method: 'HEAD', url });
    t.equal(res.statusCode, 200, url);
    t.equal(res.headers['cache-control'], 'no-store');
    t.equal(res.headers['x-content-type-options'], 'nosniff');
  }
});

void t.test('probes and scrapes log nothing per request; other requests are logged', async (t) => {
  const { app, lines } = setup();
  for (const url of ['/livez', '/readyz?verbose', '/metrics']) await app.inject({ method: 'GET', url });
  t.same(lines, []);
  await app.inject({ method: 'GET', url: '/elsewhere' });
  t.ok(lines.length > 0, 'the logger is wired');
});

void t.test('a snapshot that throws fails the probe with a bare 500 and an error log', async (t) => {
  const { app, lines } = setup(() => { throw new Error('private detail'); });
  for (const url of ['/readyz', '/livez', '/metrics']) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 500, url);
    t.same(res.json(), { error: 'Internal Server Error', statusCode: 500 });
  }
  const errors = lines.filter((l) => l.msg === 'http request failed');
  t.same(errors.map((l) => l.route), ['/readyz', '/livez', '/metrics']);
});

const addresses: readonly [string, string, { host: string; port: number } | RegExp][] = [
  ['an IPv4 address and port', '0.0.0.0:8080', { host: '0.0.0.0', port: 8080 }],
  ['a bracketed IPv6 address', '[::]:8080', { host: '::', port: 8080 }],
  ['a host name', 'localhost:9000', { host: 'localhost', port: 9000 }],
  ['an empty host for every address', ':8080', { host: '', port: 8080 }],
  ['port 0 for any free port', '127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
  ['refuses a missing port', '127.0.0.1', /expected HOST:PORT/],
  ['refuses a port out of range', '127.0.0.1:65536', /expected HOST:PORT/],
  ['refuses an IPv6 address without brackets', '::1:8080', /brackets/],
];

for (const [name, text, expected] of addresses) {
  void t.test(`parseAddress: ${name}`, (t) => {
    if (expected instanceof RegExp) t.throws(() => parseAddress(text), expected);
    else t.same(parseAddress(text), expected);
    t.end();
  });
}

void t.test('listen binds the address and returns it with the real port', async (t) => {
  const { app } = setup();
  const bound = await listen(app, '127.0.0.1:0');
  t.match(bound, /^127\.0\.0\.1:\d+$/);
  t.not(bound, '127.0.0.1:0');
  const res = await httpGet(`http://${bound}/livez`);
  t.same([res.status, res.body], [200, 'ok']);
});

void t.test('listen on :port binds every address and returns it, IPv6 in brackets', async (t) => {
  const { app } = setup();
  const bound = await listen(app, ':0');
  t.match(bound, /^(\[::\]|0\.0\.0\.0):\d+$/);
  const port = bound.slice(bound.lastIndexOf(':') + 1);
  const res = await httpGet(`http://127.0.0.1:${port}/readyz`);
  t.equal(res.status, 200, 'reachable over IPv4');
});
