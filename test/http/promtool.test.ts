/**
 * `promtool check metrics` (Debian package prometheus) on the whole of /metrics,
 * runtime metrics included, after the Observer has seen a realistic mix of events.
 */
import t from 'tap';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { fixedClock } from '../helpers/clock.js';
import { csrBuilder, withCondition } from '../helpers/csr.js';
import { needTool, run } from '../helpers/tools.js';
import { now, snapshotBuilder, withQueueDepth, withSigner } from './fixtures/snapshots.js';

const promtool = (text: string) => run('promtool', ['check', 'metrics'], { input: text });

const approvedSecondsAgo = (seconds: number) => withCondition({
  type: 'Approved', status: 'True', reason: 'KubectlApprove', lastUpdateTime: new Date(now.getTime() - seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
});

async function scrape(): Promise<{ text: string; openMetrics: string }> {
  const snapshot = snapshotBuilder(
    withQueueDepth(4),
    withSigner('example.com/serving', { approvedPending: 2, approvedPendingOldestSeconds: 37 }),
    withSigner('example.com/client', { ca: undefined, caError: 'the key does not match the certificate' }),
  );
  const registry = new Registry();
  const metrics = createMetrics(registry, () => snapshot, { clock: fixedClock(now) });
  for (const [i, seconds] of [0.004, 0.012, 0.3, 2.2].entries()) metrics.issued('example.com/serving', seconds, csrBuilder(approvedSecondsAgo(i * 40)));
  metrics.issued('example.com/client', 0.002, csrBuilder());
  metrics.failed('example.com/serving', 'SignerValidationFailure');
  metrics.failed('example.com/client', 'UnsupportedKeyType');
  metrics.conflict();
  metrics.retried('example.com/serving');
  metrics.retried(undefined);
  metrics.watchRestarted('example.com/serving', 'quiet');
  metrics.watchRestarted('example.com/client', 'gone');
  metrics.caReloaded('example.com/client', 'error');
  metrics.caReloaded('example.com/serving', 'unchanged');
  const app = buildApp({ registry, snapshot: () => snapshot });
  // An OpenMetrics scrape first: the Prometheus text after it must be unaffected.
  const openMetrics = (await app.inject({ method: 'GET', url: '/metrics', headers: { accept: 'application/openmetrics-text' } })).body;
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  await app.close();
  return { text, openMetrics };
}

void t.test('promtool check metrics passes on the full /metrics output', async (t) => {
  if (!needTool(t, 'promtool')) return;
  const { text, openMetrics } = await scrape();
  for (const family of ['csr_signer_approval_to_issue_seconds', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds']) {
    t.match(text, new RegExp(`^# TYPE ${family} `, 'm'), `${family} is in the scrape`);
  }
  const r = promtool(text);
  t.equal(r.code, 0, 'exit 0');
  t.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no findings');
  t.ok(openMetrics.endsWith('# EOF\n'), 'the OpenMetrics scrape was answered too');
});

void t.test('promtool rejects prom-client\'s unfiltered default metrics (why three are dropped)', (t) => {
  if (!needTool(t, 'promtool')) return t.end();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry.metrics().then((text) => {
    const r = promtool(text);
    t.equal(r.code, 3);
    t.match(r.stdout + r.stderr, /nodejs_active_handles_total non-counter metrics should not have "_total" suffix/);
  });
});
