/** /healthz, /livez and /readyz through `inject`: each state of the snapshot and the Kubernetes-style report. */
import t from 'tap';
import { Registry } from 'prom-client';
import { buildApp } from '../../src/http/app.js';
import type { Snapshot, WatchState } from '../../src/telemetry/snapshot.js';
import {
  electionOff, notLeading, now, snapshotBuilder, stopping, withLeader, withSigner, type SnapshotModifier,
} from './fixtures/snapshots.js';

const serving = 'example.com/serving';
const refused = 'cannot acquire lease: forbidden: user "system:serviceaccount:pki:csr-signer" may not get leases (API group coordination.k8s.io) in namespace "kube-system"';
const quietFor = (ms: number): SnapshotModifier => withSigner(serving, { sinceWatchActivityMs: ms });
/** The approver (for `serving`) and the cleaner run beside the signer; `approver` changes the approver's watch. */
const withApproverAndCleaner = (approver: { readonly [K in keyof WatchState]?: WatchState[K] | undefined } = {}): SnapshotModifier => (s) => {
  const watch: Record<string, unknown> = { name: `approver:${serving}`, watchSynced: true, sinceWatchActivityMs: 1_000, ...approver };
  for (const [k, v] of Object.entries(approver)) if (v === undefined) delete watch[k];
  return { ...s, watches: [watch as unknown as WatchState, { name: 'cleaner', watchSynced: true, sinceWatchActivityMs: 1_000 }] };
};
/** signing: false: no signer, so no CA and no signer watch. */
const notSigning: SnapshotModifier = (s) => ({ ...s, signers: [] });

async function probe(path: string, snapshot: Snapshot, extra: { eventLoopLagMs?: number } = {}): Promise<{ status: number; body: string }> {
  const app = buildApp({
    registry: new Registry(),
    snapshot: () => snapshot,
    ...(extra.eventLoopLagMs === undefined ? {} : { eventLoopLagMs: () => extra.eventLoopLagMs ?? 0 }),
  });
  const res = await app.inject({ method: 'GET', url: path });
  await app.close();
  return { status: res.statusCode, body: res.body };
}

interface Case {
  readonly name: string;
  readonly modifiers: readonly SnapshotModifier[];
  readonly status: 200 | 500;
  /** A line the answer must hold (`ok` alone for a passing probe). */
  readonly line: string;
  readonly eventLoopLagMs?: number;
}

const readiness: readonly Case[] = [
  { name: 'a leader with valid CAs and synced, active watches is ready', modifiers: [], status: 200, line: 'ok' },
  { name: 'a replica with leader election off in the same state is ready', modifiers: [electionOff], status: 200, line: 'ok' },
  { name: 'a replica that is not leading, with valid CAs and no watch, is ready to take over', modifiers: [notLeading], status: 200, line: 'ok' },
  {
    name: 'a signer with no CA loaded is not ready, and the load error is named',
    modifiers: [withSigner(serving, { ca: undefined, caError: 'the key does not match\nthe certificate' })],
    status: 500, line: `[-]ca-loaded:${serving} failed: no CA loaded: the key does not match the certificate`,
  },
  {
    name: 'a replica that is not leading with no CA is not ready either',
    modifiers: [notLeading, withSigner(serving, { ca: undefined })], status: 500, line: `[-]ca-valid:${serving} failed: no CA loaded`,
  },
  {
    name: 'a signer whose CA expired is not ready',
    modifiers: [withSigner(serving, { ca: { subject: 'CN=old', notAfter: new Date('2029-12-31T23:59:59Z') } })],
    status: 500, line: `[-]ca-valid:${serving} failed: CA expired at 2029-12-31T23:59:59.000Z`,
  },
  {
    name: 'a CA whose notAfter is this very moment counts as expired',
    modifiers: [withSigner(serving, { ca: { subject: 'CN=edge', notAfter: now } })], status: 500, line: `[-]ca-valid:${serving} failed: CA expired at ${now.toISOString()}`,
  },
  {
    name: 'a watch that has not completed its first list is not ready',
    modifiers: [withSigner(serving, { watchSynced: false })], status: 500, line: `[-]watch-synced:${serving} failed: the watch has not completed its first list`,
  },
  {
    name: 'with leader election off, an unsynced watch is not ready',
    modifiers: [electionOff, withSigner(serving, { watchSynced: false })], status: 500, line: `[-]watch-synced:${serving} failed: the watch has not completed its first list`,
  },
  {
    name: 'a watch quiet for longer than the timeout is not ready',
    modifiers: [quietFor(300_001)], status: 500, line: `[-]watch-active:${serving} failed: no event or bookmark for 300.0s, silent 300.0s past the watch's own timeout, limit 300.0s`,
  },
  { name: 'a watch quiet for exactly the timeout is still ready', modifiers: [quietFor(300_000)], status: 200, line: 'ok' },
  {
    name: 'a watch silent for 9 minutes that asked the server to end it in 10 is ready: no event and no bookmark are promised',
    modifiers: [withSigner(serving, { sinceWatchActivityMs: 540_000, watchQuietMs: -60_000 })], status: 200, line: 'ok',
  },
  {
    name: 'a watch silent more than the quiet timeout past the end it asked for is not ready (a hung connection)',
    modifiers: [withSigner(serving, { sinceWatchActivityMs: 900_001, watchQuietMs: 300_001 })], status: 500,
    line: `[-]watch-active:${serving} failed: no event or bookmark for 900.0s, silent 300.0s past the watch's own timeout, limit 300.0s`,
  },
  {
    name: 'a watch that has delivered nothing yet is not ready',
    modifiers: [withSigner(serving, { sinceWatchActivityMs: undefined })], status: 500, line: `[-]watch-active:${serving} failed: no list, event or bookmark received yet`,
  },
  { name: 'a leader whose approver and cleaner watch too, all synced and active, is ready', modifiers: [withApproverAndCleaner()], status: 200, line: 'ok' },
  {
    name: 'an approver watch that has not completed its first list is not ready',
    modifiers: [withApproverAndCleaner({ watchSynced: false, sinceWatchActivityMs: undefined })], status: 500,
    line: `[-]watch-synced:approver:${serving} failed: the watch has not completed its first list`,
  },
  {
    name: 'an approver watch silent past the quiet timeout is not ready',
    modifiers: [withApproverAndCleaner({ sinceWatchActivityMs: 300_001 })], status: 500,
    line: `[-]watch-active:approver:${serving} failed: no event or bookmark for 300.0s, silent 300.0s past the watch's own timeout, limit 300.0s`,
  },
  {
    name: 'a standby checks no approver or cleaner watch: it runs none',
    modifiers: [notLeading, withApproverAndCleaner({ watchSynced: false, sinceWatchActivityMs: undefined })], status: 200, line: 'ok',
  },
  { name: 'with signing off there is no CA to wait for: approver and cleaner synced is ready', modifiers: [notSigning, withApproverAndCleaner()], status: 200, line: 'ok' },
  { name: 'a replica shutting down is not ready', modifiers: [stopping], status: 500, line: '[-]shutdown failed: shutting down' },
  {
    name: 'a standby the API server refuses the Lease is not ready: it could never take over, and the reason names the permission',
    modifiers: [notLeading, withLeader({ leaseError: refused })], status: 500, line: `[-]leader-lease failed: ${refused}`,
  },
  {
    name: 'a reason longer than 200 characters is cut to one line of 200',
    modifiers: [notLeading, withLeader({ leaseError: `${refused}; ${'x'.repeat(300)}` })], status: 500, line: `[-]leader-lease failed: ${`${refused}; ${'x'.repeat(300)}`.slice(0, 199)}…`,
  },
  {
    name: 'a signer with podCertificates whose oldest pending request waited 5 minutes is still ready',
    modifiers: [withSigner(serving, { podCertificatesPending: 4, podCertificatesOldestPendingSeconds: 300 })], status: 200, line: 'ok',
  },
  {
    name: 'a PodCertificateRequest pending longer than 5 minutes makes the signer not ready, naming the count and the age',
    modifiers: [withSigner(serving, { podCertificatesPending: 3, podCertificatesOldestPendingSeconds: 372 })], status: 500,
    line: `[-]pod-certificate-backlog:${serving} failed: 3 PodCertificateRequests pending, the oldest for 372.0s (more than 5 minutes; the controller manager deletes them at 15)`,
  },
  {
    name: 'one request pending is named in the singular',
    modifiers: [withSigner(serving, { podCertificatesPending: 1, podCertificatesOldestPendingSeconds: 301 })], status: 500,
    line: `[-]pod-certificate-backlog:${serving} failed: 1 PodCertificateRequest pending, the oldest for 301.0s (more than 5 minutes; the controller manager deletes them at 15)`,
  },
  {
    name: 'a signer with podCertificates whose CA has less than an hour left is not ready: no pod certificate fits',
    modifiers: [withSigner(serving, { podCertificatesPending: 0, podCertificatesOldestPendingSeconds: 0, ca: { subject: 'CN=late', notAfter: new Date('2030-01-01T00:59:59Z') } })], status: 500,
    line: `[-]ca-valid:${serving} failed: CA expires at 2030-01-01T00:59:59.000Z, less than the one hour a pod certificate needs: PodCertificateRequests wait`,
  },
  {
    name: 'a signer with podCertificates whose CA intermediates alone are over 100 KiB is not ready, naming the size (runtime.ts says it)',
    modifiers: [withSigner(serving, {
      podCertificatesPending: 0, podCertificatesOldestPendingSeconds: 0,
      ca: { subject: 'CN=long', notAfter: new Date('2031-01-01T00:00:00Z'), podCertificateChainTooLong: "the CA's intermediates are 108000 bytes of PEM, over the 102400 of a pod certificate's chain: PodCertificateRequests wait" },
    })], status: 500,
    line: `[-]ca-valid:${serving} failed: the CA's intermediates are 108000 bytes of PEM, over the 102400 of a pod certificate's chain: PodCertificateRequests wait`,
  },
  {
    name: 'a signer of CSRs only with the same CA is ready',
    modifiers: [withSigner(serving, { ca: { subject: 'CN=late', notAfter: new Date('2030-01-01T00:59:59Z') } })], status: 200, line: 'ok',
  },
  {
    name: 'a standby has no backlog check: it watches no PodCertificateRequests',
    modifiers: [notLeading, withSigner(serving, { podCertificatesPending: 3, podCertificatesOldestPendingSeconds: 900 })], status: 200, line: 'ok',
  },
  {
    name: 'with leader election off there is no Lease to be refused',
    modifiers: [electionOff, withLeader({ leaseError: refused })], status: 200, line: 'ok',
  },
];

const liveness: readonly Case[] = [
  { name: 'a leader that renewed within the renew deadline is alive', modifiers: [], status: 200, line: 'ok' },
  { name: 'a leader that renewed exactly at the renew deadline is alive', modifiers: [withLeader({ sinceRenewMs: 10_000 })], status: 200, line: 'ok' },
  {
    name: 'a leader that has not renewed within the renew deadline is not alive',
    modifiers: [withLeader({ sinceRenewMs: 12_500 })], status: 500, line: '[-]leader-lease failed: lease last renewed 12.5s ago, renew deadline 10.0s',
  },
  {
    name: 'a leader with no renewal recorded is not alive',
    modifiers: [withLeader({ sinceRenewMs: undefined })], status: 500, line: '[-]leader-lease failed: leading with no renewal of the lease recorded',
  },
  { name: 'a replica that is not leading is alive', modifiers: [notLeading], status: 200, line: 'ok' },
  { name: 'a replica with leader election off is alive', modifiers: [electionOff], status: 200, line: 'ok' },
  { name: 'a replica shutting down, with no CA and a quiet watch, is still alive', modifiers: [stopping, withSigner(serving, { ca: undefined }), quietFor(1e9)], status: 200, line: 'ok' },
  { name: 'an event loop lagging within the limit is alive', modifiers: [], eventLoopLagMs: 4_000, status: 200, line: 'ok' },
  { name: 'an event loop lagging beyond the limit is not alive', modifiers: [], eventLoopLagMs: 6_000, status: 500, line: '[-]event-loop failed: event loop lag 6.0s exceeds 5.0s' },
];

for (const [path, cases] of [['/readyz', readiness], ['/livez', liveness]] as const) {
  const kind = path.slice(1);
  for (const c of cases) {
    void t.test(`${path}: ${c.name}`, async (t) => {
      const res = await probe(path, snapshotBuilder(...c.modifiers), c.eventLoopLagMs === undefined ? {} : { eventLoopLagMs: c.eventLoopLagMs });
      t.equal(res.status, c.status);
      if (c.status === 200) t.equal(res.body, 'ok');
      else {
        t.ok(res.body.split('\n').includes(c.line), c.line, { body: res.body });
        t.match(res.body, new RegExp(`\\n${kind} check failed\\n$`), 'a failure lists the checks and the verdict');
      }
    });
  }
}

void t.test('?verbose lists every check of a ready leader, then the verdict', async (t) => {
  const res = await probe('/readyz?verbose', snapshotBuilder());
  t.equal(res.status, 200);
  t.equal(res.body, [
    '[+]shutdown ok',
    '[+]leader-lease ok',
    ...['example.com/serving', 'example.com/client'].flatMap((s) => [`[+]ca-loaded:${s} ok`, `[+]ca-valid:${s} ok`, `[+]watch-synced:${s} ok`, `[+]watch-active:${s} ok`]),
    'readyz check passed', '',
  ].join('\n'));
});

void t.test('?verbose with signing off lists the approver\'s and the cleaner\'s watches and no CA', async (t) => {
  const res = await probe('/readyz?verbose', snapshotBuilder(notSigning, withApproverAndCleaner()));
  t.equal(res.body, [
    '[+]shutdown ok', '[+]leader-lease ok',
    `[+]watch-synced:approver:${serving} ok`, `[+]watch-active:approver:${serving} ok`, '[+]watch-synced:cleaner ok', '[+]watch-active:cleaner ok',
    'readyz check passed', '',
  ].join('\n'));
});

void t.test('?verbose on a standby lists no watch checks: it runs no watch', async (t) => {
  const res = await probe('/readyz?verbose', snapshotBuilder(notLeading));
  t.equal(res.status, 200);
  t.notMatch(res.body, /watch-/);
  t.match(res.body, /\[\+\]ca-valid:example\.com\/client ok\nreadyz check passed\n$/);
});

void t.test('/livez?verbose lists ping, the event loop and the lease', async (t) => {
  const res = await probe('/livez?verbose', snapshotBuilder(), { eventLoopLagMs: 3 });
  t.equal(res.body, '[+]ping ok\n[+]event-loop ok\n[+]leader-lease ok\nlivez check passed\n');
});

void t.test('/healthz, as kube-controller-manager serves it: the liveness checks, answering ok', async (t) => {
  const ok = await probe('/healthz', snapshotBuilder(), { eventLoopLagMs: 3 });
  t.same(ok, { status: 200, body: 'ok' }, 'the body is "ok"');
  const verbose = await probe('/healthz?verbose', snapshotBuilder(), { eventLoopLagMs: 3 });
  t.equal(verbose.body, '[+]ping ok\n[+]event-loop ok\n[+]leader-lease ok\nhealthz check passed\n', '?verbose: the liveness checks');
});

void t.test('/healthz fails for what a restart cures, and stays ok for what it cannot (a copied liveness probe must not crash-loop the pod)', async (t) => {
  const failing = await probe('/healthz?verbose', snapshotBuilder(), { eventLoopLagMs: 60_000 });
  t.equal(failing.status, 500, 'a wedged event loop: 500');
  t.ok(failing.body.split('\n').includes('[-]event-loop failed: event loop lag 60.0s exceeds 5.0s'), 'naming the check');
  t.match(failing.body, /\nhealthz check failed\n$/, 'the verdict');
  const cases: [string, SnapshotModifier[]][] = [
    ['a quiet watch', [quietFor(1e9)]],
    ['a refused lease', [withLeader({ leading: false, sinceRenewMs: undefined, leaseError: refused })]],
  ];
  for (const [name, modifiers] of cases) {
    t.equal((await probe('/readyz', snapshotBuilder(...modifiers))).status, 500, `${name}: not ready`);
    t.same(await probe('/healthz', snapshotBuilder(...modifiers)), { status: 200, body: 'ok' }, `${name}: /healthz ok`);
  }
});

interface ExcludeCase {
  readonly name: string;
  readonly query: string;
  readonly modifiers: readonly SnapshotModifier[];
  readonly status: 200 | 500;
  readonly lines: readonly string[];
}

const excludes: readonly ExcludeCase[] = [
  {
    name: 'excluding the failing check by its full name makes the probe pass and shows it excluded',
    query: `exclude=watch-active:${serving}&verbose`, modifiers: [quietFor(1e9)], status: 200,
    lines: [`[+]watch-active:${serving} excluded: ok`, 'readyz check passed'],
  },
  {
    name: 'excluding a family leaves out that check for every signer',
    query: 'exclude=ca-valid', modifiers: [withSigner(serving, { ca: { subject: 'CN=old', notAfter: new Date(0) } })], status: 200, lines: ['ok'],
  },
  {
    name: 'several exclusions combine',
    query: 'exclude=shutdown&exclude=watch-synced', modifiers: [stopping, withSigner(serving, { watchSynced: false })], status: 200, lines: ['ok'],
  },
  {
    name: 'excluding another check leaves the failing one failing',
    query: 'exclude=shutdown', modifiers: [withSigner(serving, { watchSynced: false })], status: 500,
    lines: ['[+]shutdown excluded: ok', `[-]watch-synced:${serving} failed: the watch has not completed its first list`],
  },
  {
    name: 'an exclusion matching no check is counted in a warning without being repeated back',
    query: 'verbose&exclude=%3Cscript%3E', modifiers: [], status: 200,
    lines: ['warn: some health checks cannot be excluded: 1 name matches no check', 'readyz check passed'],
  },
];

for (const c of excludes) {
  void t.test(`/readyz?exclude: ${c.name}`, async (t) => {
    const res = await probe(`/readyz?${c.query}`, snapshotBuilder(...c.modifiers));
    t.equal(res.status, c.status);
    for (const line of c.lines) t.ok(res.body.split('\n').includes(line), line, { body: res.body });
    t.notMatch(res.body, /script/);
  });
}
