/**
 * A Lease the identity may not use (403) or cannot create (404): the error names
 * what is missing, the elector keeps it for /readyz, and logs it once when it
 * starts or changes and once when it ends, not on every retry. The elector runs
 * against the in-memory Lease on a manual clock.
 */
import { pino } from 'pino';
import t from 'tap';
import { KubeApiError } from '../../src/kube/http.js';
import { LeaderElector } from '../../src/leader/leader-election.js';
import { forbiddenUserOf, leaseAccessError } from '../../src/leader/lease-access.js';
import { serializeError } from '../../src/telemetry/logger.js';
import { ManualClock } from '../helpers/clock.js';
import { FakeLeaseStore } from '../helpers/fake-lease-lock.js';

const config = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const user = 'system:serviceaccount:csr-signer:csr-signer';
const lease = { namespace: 'kube-system', name: 'csr-signer' };

/** kube-apiserver's 403 for one verb on the Lease, as KubeHttp reports it. */
const forbidden = (verb: string, namespace = 'test'): KubeApiError => new KubeApiError(403, 'Forbidden',
  `403 Forbidden: leases.coordination.k8s.io "lease" is forbidden: User "${user}" cannot ${verb} resource "leases" in API group "coordination.k8s.io" in the namespace "${namespace}"`, undefined);
const namespaceMissing = new KubeApiError(404, 'NotFound', '404 NotFound: namespaces "test" not found', undefined);
const unavailable = new KubeApiError(503, 'ServiceUnavailable', '503 ServiceUnavailable: etcd is down', undefined);

void t.test('the error for a refused Lease request names the verb, the resource, the group, the namespace and the user', (t) => {
  const cases: [string, 'get' | 'create' | 'update', unknown, string | undefined][] = [
    ['a 403 on get', 'get', forbidden('get', 'kube-system'),
      `cannot acquire lease: forbidden: user "${user}" may not get leases (API group coordination.k8s.io) in namespace "kube-system"; grant get, update on Lease csr-signer and create on leases there, or name the Lease's namespace with --leader-elect-resource-namespace`],
    ['a 403 on update', 'update', forbidden('update', 'kube-system'),
      `cannot acquire lease: forbidden: user "${user}" may not update leases (API group coordination.k8s.io) in namespace "kube-system"; grant get, update on Lease csr-signer and create on leases there, or name the Lease's namespace with --leader-elect-resource-namespace`],
    ['a 403 whose text names no user (an authorizer webhook\'s own words)', 'create', new KubeApiError(403, 'Forbidden', '403 Forbidden: denied by policy', undefined),
      'cannot acquire lease: forbidden: the signer\'s identity may not create leases (API group coordination.k8s.io) in namespace "kube-system"; grant get, update on Lease csr-signer and create on leases there, or name the Lease\'s namespace with --leader-elect-resource-namespace'],
    ['a 404 on create: the namespace is missing', 'create', new KubeApiError(404, 'NotFound', '404 NotFound: namespaces "kube-system" not found', undefined),
      'cannot acquire lease: not found: Lease csr-signer cannot be created in namespace "kube-system" (namespaces "kube-system" not found); create the namespace, or name another with --leader-elect-resource-namespace'],
    ['not a 404 on update: the Lease was deleted since it was read, and the next attempt creates it', 'update', new KubeApiError(404, 'NotFound', '404 NotFound: leases "csr-signer" not found', undefined), undefined],
    ['not a 409: another replica wrote first', 'update', new KubeApiError(409, 'Conflict', '409 Conflict: the object has been modified', undefined), undefined],
    ['not a 503: retrying may cure it', 'get', unavailable, undefined],
    ['not a network error', 'get', new Error('connect ECONNREFUSED 127.0.0.1:6443'), undefined],
  ];
  for (const [name, verb, e, message] of cases) {
    const error = leaseAccessError(verb, e, lease);
    t.equal(error?.message, message, name);
    if (error) t.equal(error.cause, e, `${name}: keeps the server's answer as the cause`);
  }
  t.equal(leaseAccessError('get', forbidden('get'), lease)?.code, 'CSR_SIGNER_ERR_LEASE_FORBIDDEN');
  t.equal(leaseAccessError('create', namespaceMissing, lease)?.code, 'CSR_SIGNER_ERR_LEASE_NOT_FOUND');
  t.equal(forbiddenUserOf('User "a \\"quoted\\" name" cannot get resource'), 'a "quoted" name', 'a quoted user name is unquoted as Go quoted it');
  t.end();
});

interface LogLine { level: number; msg: string; err?: { message: string; code?: string; causes?: { message: string }[] }; was?: string }

function elector(store: FakeLeaseStore, clock: ManualClock): { elector: LeaderElector; lock: ReturnType<FakeLeaseStore['lock']>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  // The production logger's error serializer: the message, and the server's answer as a cause.
  const logger = pino({ level: 'debug', serializers: { err: serializeError } }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const lock = store.lock('a');
  const e = new LeaderElector({
    lock, identity: 'a', config, logger, clock, random: () => 0,
    onStartedLeading: () => undefined, onStoppedLeading: () => undefined,
  });
  return { elector: e, lock, lines };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves the clock in retry-period steps, letting the elector's promises settle after each. */
async function retries(clock: ManualClock, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    clock.advance(config.retryPeriodMs);
    await flush();
  }
}

const accessLines = (lines: readonly LogLine[]): string[] =>
  lines.filter((l) => l.msg === 'cannot use the leader lease; retrying' || l.msg === 'the lease is usable again').map((l) => l.err?.message ?? `${l.msg} (was ${l.was ?? '?'})`);

void t.test('a 403 on the Lease: not leading, the reason kept for /readyz, one log line over many retries, and one when it is fixed', async (t) => {
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  const { elector: e, lock, lines } = elector(store, clock);
  lock.failWith = forbidden('get');
  e.start();
  await flush();
  await retries(clock, 30);
  t.ok(lock.calls.length >= 30, `retried all along (${lock.calls.length} requests)`);
  t.notOk(e.isLeader);
  t.equal(e.leaseError, `cannot acquire lease: forbidden: user "${user}" may not get leases (API group coordination.k8s.io) in namespace "test"; grant get, update on Lease lease and create on leases there, or name the Lease's namespace with --leader-elect-resource-namespace`);
  t.same(accessLines(lines), [e.leaseError], 'logged once, not once per retry');
  const logged = lines.find((l) => l.msg === 'cannot use the leader lease; retrying');
  t.equal(logged?.level, 50, 'at level error');
  t.equal(logged?.err?.code, 'CSR_SIGNER_ERR_LEASE_FORBIDDEN');
  t.match(logged?.err?.causes?.[0]?.message, /^403 Forbidden: leases\.coordination\.k8s\.io "lease" is forbidden: User /, 'with the server\'s own words as the cause');
  t.equal(lines.filter((l) => l.msg === 'lease request failed').length, 0, 'no warning per attempt');

  // A failure that says nothing about access neither clears the reason nor logs it again.
  lock.failWith = unavailable;
  await retries(clock, 3);
  t.match(e.leaseError, /^cannot acquire lease: forbidden: /, 'a 503 leaves the reason as it was');
  t.equal(accessLines(lines).length, 1);

  // Granted get, still refused create: a new reason, logged once.
  lock.failWith = forbidden('create');
  lock.failOnly = ['create'];
  await retries(clock, 10);
  t.match(e.leaseError, /may not create leases \(API group coordination\.k8s\.io\) in namespace "test"/);
  t.equal(accessLines(lines).length, 2, 'the changed reason is logged once');

  // RBAC fixed: it leads on the next attempt, the reason is gone, one line says so.
  lock.failWith = undefined;
  lock.failOnly = undefined;
  await retries(clock, 1);
  t.ok(e.isLeader, 'leads once allowed');
  t.equal(e.leaseError, undefined);
  await retries(clock, 20);
  t.same(accessLines(lines).slice(2), ['the lease is usable again (was CSR_SIGNER_ERR_LEASE_FORBIDDEN)'], 'the recovery is logged once');
  await e.stop();
});

void t.test('a 404 on create (no such namespace) is kept and logged once; a standby that is let in is not refused', async (t) => {
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  const { elector: e, lock, lines } = elector(store, clock);
  lock.failWith = namespaceMissing;
  lock.failOnly = ['create'];
  e.start();
  await flush();
  await retries(clock, 10);
  t.match(e.leaseError, /^cannot acquire lease: not found: Lease lease cannot be created in namespace "test" \(namespaces "test" not found\)/);
  t.equal(accessLines(lines).length, 1);

  // Someone else creates the Lease and holds it: reading it is allowed, nothing is refused any more.
  store.put('b', { holderIdentity: 'b', leaseDurationSeconds: 15, acquireTime: undefined, renewTime: undefined, leaseTransitions: 0 });
  await retries(clock, 1);
  t.notOk(e.isLeader);
  t.equal(e.leaseError, undefined, 'a standby the server lets in is ready to take over');
  t.equal(accessLines(lines).length, 2);
  await e.stop();
});

void t.test('a leader refused its renewal reports it, and stops leading at the renew deadline as for any failure', async (t) => {
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  const { elector: e, lock, lines } = elector(store, clock);
  e.start();
  await flush();
  t.ok(e.isLeader);
  lock.failWith = forbidden('update');
  lock.failOnly = ['update'];
  await retries(clock, 10);
  t.notOk(e.isLeader, 'stopped leading');
  t.match(e.leaseError, /may not update leases/);
  t.equal(accessLines(lines).length, 1);
  await e.stop();
});
