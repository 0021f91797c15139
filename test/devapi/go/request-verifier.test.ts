/**
 * The worker that verifies CSR requests gives exactly the verdicts validation computes
 * in-thread, and devapi falls back to in-thread verdicts when the worker cannot run.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { RequestVerifier, requestVerdict } from '../../../devapi/go/request-verifier.js';
import { buildRequest, toPem } from '../../helpers/requests.js';

const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');
const good = toPem('CERTIFICATE REQUEST', buildRequest({ commonName: 'worker' }));
const der = buildRequest({ commonName: 'tampered' });
der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 1;
const cases: [string, string][] = [
  ['a request whose signature verifies', b64(good)],
  ['a request whose signature does not verify', b64(toPem('CERTIFICATE REQUEST', der))],
  ['a PEM block of another type', b64(good.replaceAll('CERTIFICATE REQUEST', 'CERTIFICATE'))],
  ['bytes that are not PEM', b64('not a request')],
];
// The worker from the sources: the test runner's TypeScript loader is inherited by worker threads.
const workerUrl = new URL('../../../devapi/go/request-verifier-worker.ts', import.meta.url);

void t.test('the worker file exists: otherwise the tests below would pass on the in-thread fallback alone', (t) => {
  t.ok(existsSync(fileURLToPath(workerUrl)), fileURLToPath(workerUrl));
  t.end();
});

void t.test('the worker answers as validation does, for requests sent together', async (t) => {
  const verifier = new RequestVerifier(workerUrl);
  t.teardown(() => verifier.close());
  const verdicts = await Promise.all(cases.map(([, encoded]) => verifier.verdict(encoded)));
  cases.forEach(([name, encoded], i) => t.equal(verdicts[i], requestVerdict(encoded), name));
  t.equal(verdicts[0], undefined, 'the good request has no error');
  t.match(verdicts[1], /verification failure/, 'the tampered one fails its signature check');
});

void t.test('a worker that cannot start leaves the verdicts to this thread', async (t) => {
  const verifier = new RequestVerifier(new URL('./no-such-worker.js', import.meta.url));
  t.teardown(() => verifier.close());
  for (const [name, encoded] of cases) t.equal(await verifier.verdict(encoded), requestVerdict(encoded), name);
});

void t.test('after close, and without a worker, verdicts are computed in-thread', async (t) => {
  const verifier = new RequestVerifier(workerUrl);
  const pending = verifier.verdict(cases[1]?.[1] ?? '');
  await verifier.close();
  t.equal(await pending, requestVerdict(cases[1]?.[1] ?? ''), 'a verdict awaited at close is still answered');
  t.equal(await verifier.verdict(cases[0]?.[1] ?? ''), undefined);
  t.equal(await new RequestVerifier(undefined).verdict(cases[3]?.[1] ?? ''), requestVerdict(cases[3]?.[1] ?? ''));
});
