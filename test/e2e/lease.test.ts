/**
 * Leader election against a real devapi, as the signer's ServiceAccount: two
 * electors share the Lease csr-signer/csr-signer, exactly one leads, kubectl
 * shows it as the holder, a released lease passes to the other, and the
 * signer's Role lets it touch no other Lease.
 */
import { pino } from 'pino';
import t from 'tap';
import { loadKubeConfig } from '../../src/kube/config.js';
import { KubeApiError, kubeHttp, type KubeHttp } from '../../src/kube/http.js';
import { LeaderElector } from '../../src/leader/leader-election.js';
import { leaseLock } from '../../src/leader/lease-lock.js';
import { kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { needTool } from '../helpers/tools.js';
import { pause, until } from '../helpers/wait.js';

if (!needTool(t, 'kubectl')) process.exit(0);

const NAMESPACE = 'csr-signer';
const NAME = 'csr-signer';
const config = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 300 };
const microTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

let api: DevapiProcess;
let kube: KubeHttp;
t.before(async () => {
  api = await startDevapi();
  kube = kubeHttp((await loadKubeConfig(api.kubeconfig('signer'), {})).endpoint);
});
t.teardown(async () => {
  kube.close();
  await api.stop();
});

/** Polls until `check` holds; `check` may also throw to fail at once. */
const waitFor = async (what: string, check: () => boolean, ms = 20_000): Promise<void> => {
  await until(check, { what, ms, intervalMs: 20 });
};

interface Replica {
  readonly identity: string;
  readonly elector: LeaderElector;
  started: number;
  stopped: number;
}

function replica(identity: string): Replica {
  const r: Replica = {
    identity, started: 0, stopped: 0,
    elector: new LeaderElector({
      lock: leaseLock(kube, NAMESPACE, NAME), identity, config, logger: pino({ level: 'silent' }),
      onStartedLeading: () => { r.started++; },
      onStoppedLeading: () => { r.stopped++; },
    }),
  };
  return r;
}

/** The Lease as admin sees it, through kubectl. kubectl runs synchronously and holds up the electors' timers meanwhile, so tests call it sparingly. */
function leaseJson(): { spec: Record<string, unknown> } {
  const r = kubectl(api, 'admin', ['get', 'lease', NAME, '-n', NAMESPACE, '-o', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { spec: Record<string, unknown> };
}

void t.test('two replicas: exactly one leads, kubectl shows it, and a release hands the lease to the other', async (t) => {
  const replicas = [replica('replica-a'), replica('replica-b')];
  const reader = leaseLock(kube, NAMESPACE, NAME);
  const leaderNow = (): Replica | undefined => {
    const leaders = replicas.filter((r) => r.elector.isLeader);
    if (leaders.length > 1) throw new Error('two leaders');
    return leaders[0];
  };
  for (const r of replicas) r.elector.start();
  await waitFor('a leader', () => leaderNow() !== undefined);

  // Renewals go on, both replicas read them, and the two never lead together.
  const first = await reader.get();
  await until(async () => {
    leaderNow();
    const now = await reader.get();
    return now !== undefined && now.resourceVersion !== first?.resourceVersion && now.holderIdentity === first?.holderIdentity;
  }, { what: 'a renewal', ms: 20_000, intervalMs: 20 });
  await waitFor('each replica to know the holder', () => replicas.every((r) => r.elector.currentHolder === leaderNow()?.identity));

  const leader = leaderNow();
  const table = kubectl(api, 'admin', ['get', 'lease', '-n', NAMESPACE]);
  const spec = leaseJson().spec;
  t.ok(leader, 'still one leader');
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /^NAME\s+HOLDER\s+AGE\n/);
  t.match(table.stdout, new RegExp(`^${NAME}\\s+${spec.holderIdentity as string}\\s+`, 'm'), 'kubectl shows the holder');
  t.equal(spec.holderIdentity, leader?.identity);
  t.equal(spec.leaseDurationSeconds, 2);
  t.match(spec.acquireTime, microTime);
  t.match(spec.renewTime, microTime);

  // Stop the current leader with release; the other takes over without waiting out the lease.
  await waitFor('a leader', () => leaderNow() !== undefined);
  const from = leaderNow();
  const to = replicas.find((r) => r !== from);
  if (!from || !to) throw new Error('unreachable');
  const before = await reader.get();
  const released = Date.now();
  await from.elector.stop({ release: true });
  t.equal(from.stopped, from.started, 'the leader stopped leading (before it released)');
  t.notOk(from.elector.isLeader);
  await waitFor('the other replica to take over', () => to.elector.isLeader);
  t.comment(`taken over ${Date.now() - released} ms after the release (the lease duration is ${config.leaseDurationMs} ms)`);
  const after = await reader.get();
  t.equal(after?.holderIdentity, to.identity);
  t.equal(after?.leaseTransitions, (before?.leaseTransitions ?? NaN) + 1, 'one transition: the release, then the take-over');
  t.equal(leaseJson().spec.holderIdentity, to.identity, 'kubectl sees the new holder');

  await to.elector.stop({ release: true });
  t.match(leaseJson().spec, { holderIdentity: '', leaseDurationSeconds: 1 }, 'released on stop');
});

void t.test('the signer may read and write only its own Lease (403 elsewhere)', async (t) => {
  const forbidden = async (what: string, call: () => Promise<unknown>): Promise<void> => {
    const e = await call().then(() => undefined, (err: unknown) => err);
    t.ok(e instanceof KubeApiError && e.status === 403, `${what}: ${String(e)}`);
  };
  const other = leaseLock(kube, NAMESPACE, 'someone-else');
  await forbidden('get another lease', () => other.get());
  await forbidden('update another lease', () => other.update(
    { holderIdentity: 'x', leaseDurationSeconds: 2, acquireTime: undefined, renewTime: undefined, leaseTransitions: 0 }, '1'));
  await forbidden('get its lease name in another namespace', () => leaseLock(kube, 'kube-system', NAME).get());

  const elector = new LeaderElector({
    lock: other, identity: 'intruder', config, logger: pino({ level: 'silent' }),
    onStartedLeading: () => t.fail('led on a lease it may not read'), onStoppedLeading: () => undefined,
  });
  elector.start();
  await pause(4 * config.retryPeriodMs, 'four retry periods for the intruder to lead, which it must not');
  await elector.stop();
  t.notOk(elector.isLeader);
});
