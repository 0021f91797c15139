/**
 * Exactly once under faults. Two `csr-signer run` replicas with leader
 * election against devapi (as a Kubernetes 1.37 cluster); CHAOS_CSRS (2,000) approved
 * CSRs, plus denied, unapproved and foreign-signer ones, and CHAOS_PCRS (200)
 * PodCertificateRequests for a second signer of the same replicas, plus ones with a key
 * type it denies and ones for a foreign signer, created in bursts while a seeded schedule
 * (CHAOS_SEED) injects over 100 faults: devapi stopped (SIGTERM, SIGKILL) and
 * restarted on the same port and state, watches closed, failed status writes,
 * status, approval and create writes stored whose answer is lost (504, 500, or
 * the connection dropped), latency, compacted history, the leader killed.
 * The status faults hit CSR and PodCertificateRequest writes alike.
 * devapi's audit (collected before every devapi stop, merged) and the final
 * objects are the witnesses; the signers' audit records and the Events show
 * each certificate in a CSR exactly once; each PodCertificateRequest gets exactly one
 * terminal condition in one status write, and no certificate is issued for it twice.
 * Every log line, Event and sidecar response is scanned for the CA key and the
 * bearer tokens.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { makeOpensslCa } from '../helpers/ca.js';
import { freePort, rssMb, secretNeedles, seeded } from '../helpers/chaos.js';
import { DevapiClient, startDevapi, type DevapiProcess, type Reply } from '../helpers/devapi.js';
import { httpGet } from '../helpers/http.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { p256Request } from '../helpers/requests.js';
import { podKey, stubRequest } from '../helpers/pod-kubelet.js';
import { spkiOf } from '../helpers/der-build.js';
import { needTool, tempDir } from '../helpers/tools.js';
import { pause, until } from '../helpers/wait.js';

if (!needTool(t, 'openssl')) process.exit(0);
t.setTimeout(420_000);

const CSRS = Number(process.env.CHAOS_CSRS ?? 2000);
const PCRS = Number(process.env.CHAOS_PCRS ?? 200);
const SEED = Number(process.env.CHAOS_SEED ?? 7);
const BURSTS = 20;
const RSS_LIMIT_MB = 250;
const SIGNER = 'example.com/serving';
const FOREIGN = 'example.com/other';
const POD_SIGNER = 'example.com/pods';
const POD_FOREIGN = 'example.com/other-pods';
const PCR_NAMESPACE = 'chaos';
/** Kubernetes 1.37: PodCertificateRequests served through certificates.k8s.io/v1 (and v1beta1). */
const DEVAPI_ARGS = ['--kubernetes-minor', '37'];
const pcrPath = `/apis/certificates.k8s.io/v1/namespaces/${PCR_NAMESPACE}/podcertificaterequests`;
const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const leasePath = '/apis/coordination.k8s.io/v1/namespaces/csr-signer/leases/csr-signer';
const debug = (m: string): void => { if (process.env.CHAOS_DEBUG) process.stderr.write(`chaos ${new Date().toISOString()} ${m}\n`); };
/** The schedule's own pauses (jitter between faults, a quiet spell before an audit), not waits for a condition. */
const sleep = (ms: number): Promise<void> => pause(ms, 'the chaos schedule');
const rand = seeded(SEED);
const between = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

interface Obj {
  metadata: { name: string; resourceVersion: string };
  spec: { signerName: string };
  status?: { certificate?: string; conditions?: { type: string }[] };
}
interface Write { csr: string; user: string; approved: boolean; denied: boolean; failed: boolean; replaced: boolean }
/** devapi's audit of one PodCertificateRequest status write. */
interface PcrWrite { namespace: string; name: string; user?: string }
interface Pcr {
  metadata: { name: string; resourceVersion: string; creationTimestamp?: string };
  status?: { certificateChain?: string; conditions?: { type: string; reason?: string }[] };
}
/** issued: a key type the pod signer allows; denied: one it does not (ECDSAP384); foreign: another signer's. */
type PcrKind = 'issued' | 'denied' | 'foreign';
interface PcrSpec { name: string; kind: PcrKind; spki: Buffer; body: Record<string, unknown>; rv?: string }
type Kind = 'approved' | 'denied' | 'unapproved' | 'foreign';
interface Spec { name: string; kind: Kind; request: string; rv?: string }

const dir = tempDir('chaos-');
const ca = makeOpensslCa(dir, 'chaos', 'p256');
const config = join(dir, 'signers.yaml');
writeFileSync(config, stringify({
  apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration',
  signers: [
    { name: SIGNER, ca: { certFile: ca.certPath, keyFile: ca.keyPath }, policy: { unrestricted: true } },
    {
      name: POD_SIGNER, ca: { certFile: ca.certPath, keyFile: ca.keyPath }, certificateSigningRequests: false,
      podCertificates: { namespaces: { names: [PCR_NAMESPACE] }, keyTypes: ['ECDSAP256', 'ED25519'] },
    },
  ],
}));
const stateDir = join(dir, 'state');
let port = 0;
let api: DevapiProcess;
let client: DevapiClient;

// ------------------------------------------------------------------ replicas: keep two alive

const everySigner: SignerProcess[] = [];
const live = new Set<SignerProcess>();
const killedOnPurpose = new Set<SignerProcess>();
const selfExits: string[] = [];
const sigtermExitCodes: (number | null)[] = [];
let finishing = false;
let starting = 0;
const startups = new Set<Promise<void>>();

async function startReplica(): Promise<void> {
  const p = await startSigner([
    '--kubeconfig', api.kubeconfig('signer'), '--config', config, '--leader-elect-resource-namespace', 'csr-signer', '--leader-elect-lease-duration', '3s',
    '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms', '--http-address', '127.0.0.1:0', '--retry-base-delay', '50ms',
  ], { waitFor: 'started' });
  everySigner.push(p);
  live.add(p);
  p.child.once('exit', (code, signal) => {
    live.delete(p);
    if (!killedOnPurpose.has(p) && !finishing) selfExits.push(`pid ${p.child.pid} exited by itself: code ${code} signal ${signal}`);
    replenish();
  });
}

function replenish(): void {
  while (!finishing && live.size + starting < 2) {
    starting++;
    const s: Promise<void> = startReplica()
      .catch((e: unknown) => { selfExits.push(`a replica did not start: ${String(e).slice(0, 300)}`); })
      .finally(() => { starting--; startups.delete(s); replenish(); });
    startups.add(s);
  }
}

const identityOf = (p: SignerProcess): string => String(p.logs.find((l) => l.msg === 'started')?.identity);
const addressOf = (p: SignerProcess): string => String(p.logs.find((l) => l.msg === 'started')?.http);

async function leader(): Promise<SignerProcess | undefined> {
  try {
    const r = await client.call('GET', leasePath, undefined, 'admin', 3000);
    const holder = (r.body as { spec?: { holderIdentity?: string } }).spec?.holderIdentity;
    return [...live].find((p) => identityOf(p) === holder);
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ secrets scan

const hits: string[] = [];
let needles: { name: string; text: string }[] = [];
const scanned = { lines: 0, events: 0, responses: 0 };
function scan(source: string, text: string): void {
  const lower = text.toLowerCase();
  for (const n of needles) if (text.includes(n.text) || (/hex/.test(n.name) && lower.includes(n.text))) hits.push(`${n.name} in ${source}`);
}
async function scrapeReplicas(): Promise<void> {
  for (const p of [...live]) {
    for (const path of ['/metrics', '/readyz?verbose', '/livez']) {
      try {
        const r = await httpGet(`http://${addressOf(p)}${path}`);
        scanned.responses++;
        scan(`${path} of pid ${p.child.pid}`, r.body);
      } catch { /* the replica was just killed */ }
    }
  }
}
interface KubeEvent { involvedObject?: { name?: string; kind?: string }; reason?: string; message?: string }
/** The Events last read, by namespace/name (they survive devapi restarts): the CSRs' in default, the PodCertificateRequests' in theirs. */
const events = new Map<string, KubeEvent>();
async function scanEvents(): Promise<void> {
  for (const namespace of ['default', PCR_NAMESPACE]) {
    const r = await client.until('GET', `/api/v1/namespaces/${namespace}/events`, undefined, 'admin', (x) => x.status === 200);
    const items = (r.body as { items: (KubeEvent & { metadata: { name: string } })[] }).items;
    scanned.events += items.length;
    for (const e of items) events.set(`${namespace}/${e.metadata.name}`, e);
    scan(`Events of ${namespace}`, r.text);
  }
}

// ------------------------------------------------------------------ the load

const specs: Spec[] = [];
const bursts = new Set<Promise<void>>();
const errors: string[] = [];

function burstSpecs(b: number): Spec[] {
  const n = Math.floor(CSRS / BURSTS) + (b < CSRS % BURSTS ? 1 : 0);
  const kinds: Kind[] = [...Array<Kind>(n).fill('approved'), 'denied', 'unapproved', 'foreign'];
  return kinds.map((kind, i) => ({ name: `chaos-${b}-${i}-${kind}`, kind, request: p256Request(`chaos-${b}-${i}.example.com`) }));
}

const ok = (r: Reply): boolean => r.status < 300;
async function createOne(s: Spec): Promise<void> {
  const object = {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: s.name },
    spec: { request: Buffer.from(s.request).toString('base64'), signerName: s.kind === 'foreign' ? FOREIGN : SIGNER, usages: ['digital signature', 'server auth'] },
  };
  await client.until('POST', csrPath, object, 'requester', (r) => ok(r) || r.status === 409);
  if (s.kind !== 'unapproved') {
    const type = s.kind === 'denied' ? 'Denied' : 'Approved';
    await until(async () => {
      const got = await client.until('GET', `${csrPath}/${s.name}`, undefined, 'admin', ok);
      const o = got.body as Obj;
      if (o.status?.conditions?.some((c) => c.type === type)) return true;
      const put = await client.call('PUT', `${csrPath}/${s.name}/approval`, { ...o, status: { ...o.status, conditions: [{ type, status: 'True', reason: 'Chaos', message: 'by the chaos suite' }] } }, 'approver')
        .catch((): undefined => undefined);
      return put !== undefined && ok(put);
    }, { what: `the ${type} condition on ${s.name}`, ms: 120_000, intervalMs: 100 });
  }
  if (s.kind !== 'approved') s.rv = ((await client.until('GET', `${csrPath}/${s.name}`, undefined, 'admin', ok)).body as Obj).metadata.resourceVersion;
}

// ------------------------------------------------------------------ the pod certificate load

const pcrSpecs: PcrSpec[] = [];
/** The uids the requests name: a Pod web of ServiceAccount web on Node worker-1, made by admin at the start. */
let pod = { podUID: '', serviceAccountUID: '', nodeUID: '' };

async function createWorkload(): Promise<void> {
  const uidOf = (r: Reply): string => (r.body as { metadata: { uid: string } }).metadata.uid;
  const created = (r: Reply): boolean => r.status === 201 || r.status === 200;
  await client.until('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PCR_NAMESPACE } }, 'admin', created);
  const node = await client.until('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1' } }, 'admin', created);
  const sa = await client.until('POST', `/api/v1/namespaces/${PCR_NAMESPACE}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web' } }, 'admin', created);
  const p = await client.until('POST', `/api/v1/namespaces/${PCR_NAMESPACE}/pods`, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' },
    spec: { nodeName: 'worker-1', serviceAccountName: 'web', containers: [{ name: 'app', image: 'registry.example/app:1' }] },
  }, 'admin', created);
  pod = { podUID: uidOf(p), serviceAccountUID: uidOf(sa), nodeUID: uidOf(node) };
}

/**
 * PodCertificateRequests as a 1.37 kubelet sends them (v1, a stub PKCS#10 request), by
 * admin with a fixed name: a create whose answer is lost is sent again and meets a 409.
 */
function burstPcrs(b: number): PcrSpec[] {
  const n = Math.floor(PCRS / BURSTS) + (b < PCRS % BURSTS ? 1 : 0);
  const kinds: PcrKind[] = [...Array<PcrKind>(n).fill('issued'), 'denied', 'foreign'];
  return kinds.map((kind, i) => {
    const key = podKey(kind === 'denied' ? 'ECDSAP384' : 'ECDSAP256');
    const name = `chaos-pcr-${b}-${i}-${kind}`;
    return {
      name, kind, spki: spkiOf(key),
      body: {
        apiVersion: 'certificates.k8s.io/v1', kind: 'PodCertificateRequest', metadata: { name, namespace: PCR_NAMESPACE },
        spec: {
          signerName: kind === 'foreign' ? POD_FOREIGN : POD_SIGNER, podName: 'web', podUID: pod.podUID,
          serviceAccountName: 'web', serviceAccountUID: pod.serviceAccountUID, nodeName: 'worker-1', nodeUID: pod.nodeUID,
          stubPKCS10Request: stubRequest(key).toString('base64'),
        },
      },
    };
  });
}

async function createPcr(s: PcrSpec): Promise<void> {
  await client.until('POST', pcrPath, s.body, 'admin', (r) => ok(r) || r.status === 409);
  if (s.kind === 'foreign') s.rv = ((await client.until('GET', `${pcrPath}/${s.name}`, undefined, 'admin', ok)).body as Pcr).metadata.resourceVersion;
}

async function listPcrs(): Promise<Map<string, Pcr>> {
  const r = await client.until('GET', pcrPath, undefined, 'admin', ok);
  return new Map((r.body as { items: Pcr[] }).items.map((o) => [o.metadata.name, o]));
}

const terminalOf = (o: Pcr | undefined): { type: string; reason?: string }[] =>
  (o?.status?.conditions ?? []).filter((c) => ['Issued', 'Denied', 'Failed'].includes(c.type));

function startBurst(b: number): void {
  const batch = burstSpecs(b);
  const pcrs = burstPcrs(b);
  specs.push(...batch);
  pcrSpecs.push(...pcrs);
  const csrWork = batch.map((s) => (): Promise<void> => createOne(s).catch((e: unknown) => { errors.push(`${s.name}: ${String(e)}`); }));
  const pcrWork = pcrs.map((s) => (): Promise<void> => createPcr(s).catch((e: unknown) => { errors.push(`${s.name}: ${String(e)}`); }));
  // The two kinds interleaved, so that the faults meet both.
  const every = Math.max(1, Math.floor(csrWork.length / Math.max(1, pcrWork.length)));
  const order = csrWork.flatMap((w, i) => ((i + 1) % every === 0 ? [w, ...pcrWork.splice(0, 1)] : [w]));
  order.push(...pcrWork);
  let next = 0;
  const p: Promise<void> = Promise.all(Array.from({ length: 8 }, async () => {
    while (next < order.length) await order[next++]?.();
  })).then(() => { bursts.delete(p); });
  bursts.add(p);
}

// ------------------------------------------------------------------ the faults

type Fault = 'status500' | 'status503' | 'status429' | 'status409' | 'latency' | 'watchesClean' | 'watchesReset' | 'compact'
  | 'leaderSigkill' | 'leaderSigterm' | 'devapiSigterm' | 'devapiSigkill'
  | 'statusReplyLost504' | 'statusReplyLost500' | 'statusReplyDropped' | 'approvalReplyLost' | 'createReplyDropped' | 'pcrCreateReplyDropped';
const plan: Fault[] = (Object.entries({
  status500: 14, status503: 12, status429: 10, status409: 12, latency: 10, watchesClean: 10, watchesReset: 10, compact: 10,
  leaderSigkill: 5, leaderSigterm: 5, devapiSigterm: 3, devapiSigkill: 3,
  statusReplyLost504: 10, statusReplyLost500: 5, statusReplyDropped: 8, approvalReplyLost: 4, createReplyDropped: 4, pcrCreateReplyDropped: 2,
} satisfies Record<Fault, number>) as [Fault, number][]).flatMap(([f, n]) => Array<Fault>(n).fill(f));
for (let i = plan.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [plan[i], plan[j]] = [plan[j] as Fault, plan[i] as Fault];
}
const applied = new Map<string, number>();
/** When each leader was killed with SIGKILL: a certificate written just before has no audit record or Event (nothing is left to write them). */
const sigkilledAt: number[] = [];
const count = (what: string): void => { applied.set(what, (applied.get(what) ?? 0) + 1); };
const audits: Write[][] = [];
const pcrAudits: PcrWrite[][] = [];
const lostByDevapi: string[] = [];
/**
 * When devapi was killed with SIGKILL: it writes its state log every 500 ms, so an Event it acknowledged just before
 * can be gone after the restart (certificate writes are checked separately: "devapi kept every acknowledged write").
 */
const devapiSigkilledAt: number[] = [];
/** devapi is a test double: a stop that hangs is reported, not failed, and ended with SIGKILL. */
const stopHangs: string[] = [];

async function getAudit(): Promise<{ csr: Write[]; pcr: PcrWrite[] }> {
  const r = await client.until('GET', '/devapi/v1/audit', undefined, 'admin', ok);
  const body = r.body as { certificateWrites: Write[]; pcrStatusWrites?: PcrWrite[] };
  return { csr: body.certificateWrites, pcr: body.pcrStatusWrites ?? [] };
}
async function controlCall(method: string, path: string, body?: unknown): Promise<void> {
  await client.until(method, path, body, 'admin', ok, 20_000);
}
async function listCsrs(): Promise<Map<string, Obj>> {
  const r = await client.until('GET', csrPath, undefined, 'admin', ok);
  return new Map((r.body as { items: Obj[] }).items.map((o) => [o.metadata.name, o]));
}

/**
 * Stops devapi and starts it again on the same port and state. The load is
 * paused and status writes held (503) for 0.7 s first, so the state log (appended
 * every 500 ms) holds every acknowledged write and the audit collected is complete.
 */
async function restartDevapi(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  await Promise.all(bursts);
  await controlCall('POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', status: 503, count: 1_000_000, retryAfterSeconds: 1 });
  await sleep(700);
  const { csr: audit, pcr: pcrAudit } = await getAudit();
  audits.push(audit);
  pcrAudits.push(pcrAudit);
  await scanEvents();
  debug(`devapi ${signal}: audit ${audit.length} + ${pcrAudit.length}`);
  if (signal === 'SIGTERM') {
    const child = api.child;
    const hung = setTimeout(() => { stopHangs.push(`devapi pid ${child.pid} still running 10 s after SIGTERM: killed`); child.kill('SIGKILL'); }, 10_000);
    await api.stop();
    clearTimeout(hung);
  }
  else await new Promise<void>((resolve) => { api.child.once('exit', () => resolve()); devapiSigkilledAt.push(Date.now()); api.child.kill('SIGKILL'); });
  await sleep(between(200, 1500));
  debug('devapi stopped');
  api = await startDevapi({ stateDir, port, args: DEVAPI_ARGS });
  client.reset();
  debug('devapi started');
  const csrs = await listCsrs();
  for (const w of audit) if (!csrs.get(w.csr)?.status?.certificate) lostByDevapi.push(`${w.csr} (devapi ${signal})`);
  const pcrs = await listPcrs();
  for (const w of pcrAudit) if (terminalOf(pcrs.get(w.name)).length === 0) lostByDevapi.push(`${w.name} (devapi ${signal})`);
}

/** Writes stored whose answer is lost (devapi's `apply-then-…` faults): only writes that succeed spend them. */
const replyLost: Partial<Record<Fault, Record<string, unknown>>> = {
  statusReplyLost504: { method: 'PUT', path: '/status', mode: 'apply-then-fail', status: 504 },
  statusReplyLost500: { method: 'PUT', path: '/status', mode: 'apply-then-fail', status: 500 },
  statusReplyDropped: { method: 'PUT', path: '/status', mode: 'apply-then-drop' },
  approvalReplyLost: { method: 'PUT', path: '/approval', mode: 'apply-then-fail', status: 504 },
  createReplyDropped: { method: 'POST', path: '/certificatesigningrequests', mode: 'apply-then-drop' },
  pcrCreateReplyDropped: { method: 'POST', path: '/podcertificaterequests', mode: 'apply-then-drop' },
};

async function inject(f: Fault): Promise<void> {
  const status = { status500: 500, status503: 503, status429: 429, status409: 409 } as Record<string, number>;
  const code = status[f];
  const lost = replyLost[f];
  if (lost) {
    await controlCall('POST', '/devapi/v1/faults', { ...lost, count: between(1, 3) });
  } else if (code !== undefined) {
    const retry = code === 429 || (code === 503 && rand() < 0.5) ? { retryAfterSeconds: 1 } : {};
    await controlCall('POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', status: code, count: between(1, 4), ...retry });
  } else if (f === 'latency') {
    await controlCall('POST', '/devapi/v1/latency', { ms: between(0, 4) * 25 });
  } else if (f === 'watchesClean' || f === 'watchesReset') {
    await controlCall('POST', '/devapi/v1/watches/close', { mode: f === 'watchesClean' ? 'clean' : 'reset' });
  } else if (f === 'compact') {
    await controlCall('POST', '/devapi/v1/history/compact', {});
    await controlCall('POST', '/devapi/v1/watches/close', { mode: rand() < 0.5 ? 'clean' : 'reset' });
  } else if (f === 'leaderSigkill' || f === 'leaderSigterm') {
    // Right after a kill or a devapi restart nobody may hold the Lease yet: wait for the next leader.
    const l = await until(leader, { what: 'a leader', ms: 10_000, intervalMs: 250 }).catch((): undefined => undefined);
    if (!l) return count(`${f} (no leader to kill: skipped)`);
    killedOnPurpose.add(l);
    if (f === 'leaderSigkill') sigkilledAt.push(Date.now());
    const code = await l.stop(f === 'leaderSigkill' ? 'SIGKILL' : 'SIGTERM');
    if (f === 'leaderSigterm') sigtermExitCodes.push(code);
  } else {
    await restartDevapi(f === 'devapiSigterm' ? 'SIGTERM' : 'SIGKILL');
  }
  count(f);
}

// ------------------------------------------------------------------ the run

t.teardown(async () => {
  finishing = true;
  await Promise.all(startups);
  for (const p of everySigner) await p.stop('SIGKILL');
  await api.stop();
});

void t.test(`${CSRS} approved CSRs under ${plan.length} seeded faults (seed ${SEED}): issued exactly once, nothing else touched, no secret leaked`, async (t) => {
  const started = Date.now();
  port = await freePort();
  api = await startDevapi({ stateDir, port, args: DEVAPI_ARGS });
  client = new DevapiClient(api.url, stateDir, { pooled: true });
  await createWorkload();
  const kubeconfigTokens = readdirSync(stateDir).filter((f) => f.endsWith('.kubeconfig'))
    .map((f) => [f, /token: (\S+)/.exec(readFileSync(join(stateDir, f), 'utf8'))?.[1] ?? ''] as const).filter(([, tok]) => tok !== '');
  needles = secretNeedles(ca.keyPem, { ...client.tokens, ...Object.fromEntries(kubeconfigTokens) });
  replenish();
  await Promise.all(startups);
  const scraper = setInterval(() => { void scrapeReplicas(); }, 1500);

  const burstAt = new Set(Array.from({ length: BURSTS }, (_v, b) => Math.floor((b * plan.length) / BURSTS)));
  for (const [i, f] of plan.entries()) {
    if (burstAt.has(i)) startBurst([...burstAt].filter((x) => x < i).length);
    debug(`step ${i} ${f}; bursts in flight ${bursts.size}; live ${live.size}`);
    await inject(f);
    await sleep(between(100, 400));
  }
  debug('plan done');
  await Promise.all(bursts);
  debug('load done');
  const loadDone = Date.now();
  await controlCall('DELETE', '/devapi/v1/faults');

  const approved = specs.filter((s) => s.kind === 'approved');
  const answered = pcrSpecs.filter((s) => s.kind !== 'foreign');
  let csrs = await listCsrs();
  let pcrs = await listPcrs();
  // Bounded, not fatal: what is still missing after 90 s is counted by the assertions below.
  await until(async () => {
    csrs = await listCsrs();
    pcrs = await listPcrs();
    return !approved.some((s) => !csrs.get(s.name)?.status?.certificate) && !answered.some((s) => terminalOf(pcrs.get(s.name)).length === 0);
  }, { what: 'a certificate on every approved CSR and a terminal condition on every PodCertificateRequest of the pod signer', ms: 90_000, intervalMs: 1000 }).catch(() => undefined);
  await sleep(2000); // late duplicates, if any, land in the audit
  csrs = await listCsrs();
  pcrs = await listPcrs();
  // A pod certificate's audit record and Event follow the signer's seeing its status in the request
  // (its watch, which the faults stall); one written last may still be on its way. Bounded, not fatal.
  const issuedShas = [...pcrs.values()].flatMap((o) => {
    const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(o.status?.certificateChain ?? '')?.[0];
    return block ? [new X509Certificate(block).fingerprint256.replace(/:/g, '').toLowerCase()] : [];
  });
  await until(() => issuedShas.every((sha) => everySigner.some((p) => p.logs.some((l) => l.sha256 === sha && l.audit === 'certificate-issued'))),
    { what: 'an audit record of every pod certificate', ms: 30_000, intervalMs: 250 }).catch(() => undefined);
  const issuedNames = [...pcrs.values()].filter((o) => o.status?.certificateChain).map((o) => o.metadata.name);
  await until(async () => {
    await scanEvents();
    return issuedNames.every((name) => [...events.values()].some((e) => e.reason === 'PodCertificateIssued' && e.involvedObject?.name === name));
  }, { what: 'an Event for every pod certificate', ms: 15_000, intervalMs: 500 }).catch(() => undefined);
  const last = await getAudit();
  audits.push(last.csr);
  pcrAudits.push(last.pcr);
  await scanEvents();
  await scrapeReplicas();
  clearInterval(scraper);
  const rss = [...live].map((p) => ({ pid: p.child.pid ?? 0, mb: rssMb(p.child.pid ?? 0) }));
  for (const p of everySigner) {
    for (const l of p.logs) {
      scanned.lines++;
      scan(`a log line of pid ${p.child.pid}`, JSON.stringify(l));
    }
    scan(`stderr of pid ${p.child.pid}`, p.stderr());
  }

  // ---------------------------------------------------------------- invariants
  const writes = audits.flat();
  const byCsr = new Map<string, Write[]>();
  for (const w of writes) byCsr.set(w.csr, [...(byCsr.get(w.csr) ?? []), w]);
  const lostNames = new Set(lostByDevapi.map((l) => l.split(' ')[0]));
  const caKey = new X509Certificate(ca.certPem).publicKey;
  const notOnce = approved.filter((s) => (byCsr.get(s.name)?.length ?? 0) - (lostNames.has(s.name) ? 1 : 0) !== 1).map((s) => `${s.name}: ${byCsr.get(s.name)?.length ?? 0} writes`);
  const noCertificate = approved.filter((s) => !csrs.get(s.name)?.status?.certificate).map((s) => s.name);
  const badCertificate = approved.filter((s) => {
    const pem = csrs.get(s.name)?.status?.certificate;
    if (!pem) return false;
    const cert = new X509Certificate(Buffer.from(pem, 'base64'));
    return !cert.verify(caKey) || cert.checkHost(s.name.replace(/-approved$/, '.example.com')) === undefined;
  }).map((s) => s.name);
  const certAndFailed = [...csrs.values()].filter((o) => o.status?.certificate && o.status.conditions?.some((c) => c.type === 'Failed')).map((o) => o.metadata.name);
  const anyFailed = approved.filter((s) => csrs.get(s.name)?.status?.conditions?.some((c) => c.type === 'Failed')).map((s) => s.name);
  const replaced = writes.filter((w) => w.replaced).map((w) => w.csr);
  const untouched = specs.filter((s) => s.kind !== 'approved');
  const touched = untouched.filter((s) => {
    const o = csrs.get(s.name);
    return byCsr.has(s.name) || !o || o.status?.certificate || o.status?.conditions?.some((c) => c.type === 'Failed') || o.metadata.resourceVersion !== s.rv;
  }).map((s) => `${s.name} (rv ${s.rv} → ${csrs.get(s.name)?.metadata.resourceVersion})`);
  const notBySigner = writes.filter((w) => !w.user.includes('csr-signer') || !w.approved || w.denied || w.failed).map((w) => w.csr);
  const overRss = rss.filter((r) => !(r.mb <= RSS_LIMIT_MB));

  // Every certificate in a CSR: exactly one audit record `certificate-issued` and one Event (by serial), from
  // whichever replica signed it, even when its write's answer was lost; every other certificate signed is
  // recorded as not delivered, and no certificate is recorded twice. Excused, and counted: a certificate
  // signed within 5 s before its signer was killed with SIGKILL (nothing is left to record it).
  const bare = (serial: string): string => serial.toLowerCase().replace(/^0+(?=.)/, '');
  const allAuditLines = everySigner.flatMap((p) => p.logs).filter((l) => typeof l.audit === 'string');
  const isPcrLine = (l: Record<string, unknown>): boolean => l.kind === 'PodCertificateRequest';
  const auditLines = allAuditLines.filter((l) => !isPcrLine(l));
  /** What every replica logged about one object, for a failure message. */
  const trailOf = (name: string): string => everySigner.flatMap((p) => p.logs.filter((l) => JSON.stringify(l).includes(`"${name}"`))
    .map((l) => `pid ${p.child.pid} ${JSON.stringify(l.time)} ${String(l.audit ?? l.msg)}`)).join('; ');
  const auditsOf = (sha256: string, kind: string): number => auditLines.filter((l) => l.sha256 === sha256 && l.audit === kind).length;
  const stored = approved.flatMap((s) => {
    const pem = csrs.get(s.name)?.status?.certificate;
    if (!pem) return [];
    const cert = new X509Certificate(Buffer.from(pem, 'base64'));
    const signedAt = Date.parse(cert.validFrom) + 5 * 60_000;
    return [{ name: s.name, sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(), serial: bare(cert.serialNumber), signedAt }];
  });
  const storedSha = new Set(stored.map((c) => c.sha256));
  const excused = (c: { signedAt: number }): boolean => sigkilledAt.some((k) => c.signedAt >= k - 6_000 && c.signedAt <= k + 1_000);
  const eventsFor = (c: { name: string; serial: string }): number => [...events.values()]
    .filter((e) => e.reason === 'CertificateIssued' && e.involvedObject?.name === c.name && bare(/serial ([0-9a-fA-F]+),/.exec(e.message ?? '')?.[1] ?? '') === c.serial).length;
  // A certificate whose write's answer was lost, on a replica stopped (SIGTERM, lost lease) before it could read the
  // CSR again (devapi down, or the write still in flight), is recorded `certificate-delivery-unknown`: the record
  // names it (sha256, serial), so an investigator still finds it, and no replica ever learns that it was delivered,
  // so none posts its Event. That record, alone, is its one record; `certificate-issued` and it together are two.
  const unknownAlone = (c: { sha256: string }): boolean => auditsOf(c.sha256, 'certificate-issued') === 0 && auditsOf(c.sha256, 'certificate-delivery-unknown') === 1;
  // A leader whose write's answer was lost holds the certificate until it reads the CSR again; SIGKILLed meanwhile
  // (its last log line no later than the kill), it leaves no record and no Event however long after the signing that
  // was. The holding replica is the one that logged `will retry` for the object before the kill.
  const killedHolding = (name: string): boolean => everySigner.some((p) => {
    const last = Date.parse(String(p.logs[p.logs.length - 1]?.time));
    return p.logs.some((l) => {
      if (l.msg !== 'will retry' || (l.csr !== name && l.name !== name)) return false;
      const at = Date.parse(String(l.time));
      return sigkilledAt.some((k) => k >= at && k <= at + 30_000 && last <= k + 1_000);
    });
  });
  const auditNotOnce = stored.filter((c) => auditsOf(c.sha256, 'certificate-issued') + auditsOf(c.sha256, 'certificate-delivery-unknown') !== 1
    && !((excused(c) || killedHolding(c.name)) && auditsOf(c.sha256, 'certificate-issued') === 0 && auditsOf(c.sha256, 'certificate-delivery-unknown') === 0))
    .map((c) => `${c.name}: ${auditsOf(c.sha256, 'certificate-issued')} issued, ${auditsOf(c.sha256, 'certificate-not-delivered')} not delivered, ${auditsOf(c.sha256, 'certificate-delivery-unknown')} delivery unknown (signed ${new Date(c.signedAt).toISOString()}; SIGKILLs ${sigkilledAt.map((k) => new Date(k).toISOString()).join(' ')}): ${trailOf(c.name)}`);
  // Events are best effort: a POST refused or unanswered (devapi down) is logged `could not record event` with the
  // object's name and the Event's reason, and not retried; such a warning stands for the missing Event.
  const eventLost = (name: string, reason: string): boolean => everySigner.some((p) => p.logs.some((l) =>
    l.msg === 'could not record event' && l.reason === reason && (l.csr === name || l.name === name)));
  // The audit record is written when the delivery is known, which after a lost answer comes seconds after the
  // signing; the Event's POST follows it. A leader SIGKILLed within 6 s after that record may leave no Event, and
  // devapi SIGKILLed within 2 s after it may have acknowledged the Event without writing it down.
  const killedAfterRecord = (name: string, audit: string): boolean => everySigner.some((p) => p.logs.some((l) => {
    if (l.audit !== audit || (l.csr !== name && l.name !== name)) return false;
    const at = Date.parse(String(l.time));
    return sigkilledAt.some((k) => k >= at && k <= at + 6_000) || devapiSigkilledAt.some((k) => k >= at && k <= at + 2_000);
  }));
  const eventNotOnce = stored.filter((c) => eventsFor(c) !== 1
    && !((excused(c) || killedHolding(c.name) || unknownAlone(c) || eventLost(c.name, 'CertificateIssued') || killedAfterRecord(c.name, 'certificate-issued')) && eventsFor(c) === 0)).map((c) => `${c.name}: ${eventsFor(c)} Events (SIGKILLs ${sigkilledAt.map((k) => new Date(k).toISOString()).join(' ')}): ${trailOf(c.name)}`);
  const deliveryUnknownCount = stored.filter(unknownAlone).length;
  const excusedCount = stored.filter((c) => excused(c) && (auditsOf(c.sha256, 'certificate-issued') === 0 || eventsFor(c) === 0)).length;
  const storedNotDelivered = stored.filter((c) => auditsOf(c.sha256, 'certificate-not-delivered') > 0).map((c) => c.name);
  const issuedNotStored = auditLines.filter((l) => l.audit === 'certificate-issued' && !storedSha.has(String(l.sha256))).map((l) => String(l.csr));
  const bySha = new Map<string, number>();
  for (const l of allAuditLines) if (l.audit !== 'certificate-delivery-unknown' && typeof l.sha256 === 'string') bySha.set(String(l.sha256), (bySha.get(String(l.sha256)) ?? 0) + 1);
  const recordedTwice = [...bySha].filter(([, n]) => n > 1).map(([sha]) => sha);
  const notDelivered = auditLines.filter((l) => l.audit === 'certificate-not-delivered').length;

  // PodCertificateRequests: one terminal condition each, in one status write (merged audit; a write devapi
  // lost in a restart is the one it lost); the issued ones carry a certificate for their own key from the CA,
  // recorded once in the signers' audit and once as an Event; the denied ones carry nothing; the foreign ones
  // were never touched; no certificate was issued for a request twice.
  const pcrWrites = pcrAudits.flat().filter((w) => w.namespace === PCR_NAMESPACE);
  const writesOf = (name: string): number => pcrWrites.filter((w) => w.name === name).length - (lostNames.has(name) ? 1 : 0);
  const pcrNotOnce = answered.filter((s) => writesOf(s.name) !== 1 || terminalOf(pcrs.get(s.name)).length !== 1)
    .map((s) => `${s.name}: ${writesOf(s.name)} writes, conditions ${JSON.stringify(pcrs.get(s.name)?.status?.conditions ?? [])}`);
  const wrongOutcome = answered.filter((s) => {
    const [c] = terminalOf(pcrs.get(s.name));
    return s.kind === 'issued' ? c?.type !== 'Issued' : c?.type !== 'Denied' || c.reason !== 'UnsupportedKeyType' || Boolean(pcrs.get(s.name)?.status?.certificateChain);
  }).map((s) => `${s.name} (${s.kind}): ${JSON.stringify(terminalOf(pcrs.get(s.name)))}`);
  const leafOf = (o: Pcr | undefined): X509Certificate | undefined => {
    const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(o?.status?.certificateChain ?? '')?.[0];
    return block ? new X509Certificate(block) : undefined;
  };
  // When a pod certificate was signed, from its notBefore: now in whole seconds minus a minute, so
  // signed in [notBefore + 60 s, notBefore + 61 s) — unless that falls before the CA's own notBefore,
  // where it is cut to the CA's. This CA is made as the run starts, so in the run's first minute the
  // notBefore says only "signed before CA notBefore + 61 s", and the request's creation (whole seconds,
  // floored by the apiserver) is the earliest it can have been signed. An excusal needs a SIGKILL in
  // the window below around some instant of that span, no wider.
  const caNotBefore = Date.parse(new X509Certificate(ca.certPem).validFrom);
  const pcrStored = pcrSpecs.filter((s) => s.kind === 'issued').flatMap((s) => {
    const o = pcrs.get(s.name);
    const leaf = leafOf(o);
    if (!leaf) return [];
    const notBefore = Date.parse(leaf.validFrom);
    const cut = notBefore <= caNotBefore;
    const signedAt = cut ? Date.parse(o?.metadata.creationTimestamp ?? '') : notBefore + 60_000;
    const signedBy = cut ? caNotBefore + 61_000 : notBefore + 61_000;
    return [{ s, leaf, sha256: leaf.fingerprint256.replace(/:/g, '').toLowerCase(), signedAt, signedBy, cut }];
  });
  // As `excused`, for a signing instant known only to lie in [signedAt, signedBy].
  const pcrExcused = (c: { signedAt: number; signedBy: number }): boolean => sigkilledAt.some((k) => c.signedBy >= k - 6_000 && c.signedAt <= k + 1_000);
  const pcrBadCertificate = pcrStored.filter(({ s, leaf }) => !leaf.verify(caKey) || !leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(s.spki)).map(({ s }) => s.name);
  const pcrAuditLines = allAuditLines.filter(isPcrLine);
  const pcrAuditsOf = (sha256: string): number => pcrAuditLines.filter((l) => l.sha256 === sha256 && l.audit === 'certificate-issued').length;
  const pcrStoredSha = new Set(pcrStored.map((c) => c.sha256));
  const pcrTrail = (name: string): string => everySigner.flatMap((p) => p.logs.filter((l) => l.name === name || JSON.stringify(l).includes(name))
    .map((l) => `pid ${p.child.pid} ${JSON.stringify(l.time)} ${String(l.audit ?? l.msg)}`)).join('; ');
  const pcrAuditNotOnce = pcrStored.filter((c) => pcrAuditsOf(c.sha256) !== 1 && !((pcrExcused(c) || killedHolding(c.s.name)) && pcrAuditsOf(c.sha256) === 0))
    .map((c) => `${c.s.name}: ${pcrAuditsOf(c.sha256)} audit records (signed ${new Date(c.signedAt).toISOString()} to ${new Date(c.signedBy).toISOString()}; SIGKILLs ${sigkilledAt.map((k) => new Date(k).toISOString()).join(' ')}): ${pcrTrail(c.s.name)}`);
  const pcrIssuedNotStored = pcrAuditLines.filter((l) => l.audit === 'certificate-issued' && !pcrStoredSha.has(String(l.sha256))).map((l) => JSON.stringify(l).slice(0, 200));
  const pcrEventsFor = (name: string): number => [...events.values()].filter((e) => e.reason === 'PodCertificateIssued' && e.involvedObject?.name === name).length;
  const pcrEventNotOnce = pcrStored.filter((c) => pcrEventsFor(c.s.name) !== 1 && !((pcrExcused(c) || killedHolding(c.s.name) || eventLost(c.s.name, 'PodCertificateIssued') || killedAfterRecord(c.s.name, 'certificate-issued')) && pcrEventsFor(c.s.name) === 0))
    .map((c) => `${c.s.name}: ${pcrEventsFor(c.s.name)} Events (signed ${new Date(c.signedAt).toISOString()} to ${new Date(c.signedBy).toISOString()}; SIGKILLs ${sigkilledAt.map((k) => new Date(k).toISOString()).join(' ')}): ${pcrTrail(c.s.name)}`);
  const pcrExcusedCount = pcrStored.filter((c) => pcrExcused(c) && (pcrAuditsOf(c.sha256) === 0 || pcrEventsFor(c.s.name) === 0)).length;
  const pcrTouched = pcrSpecs.filter((s) => s.kind === 'foreign').filter((s) => {
    const o = pcrs.get(s.name);
    return !o || writesOf(s.name) !== 0 || o.status?.conditions?.length || o.status?.certificateChain || o.metadata.resourceVersion !== s.rv;
  }).map((s) => `${s.name} (rv ${s.rv} → ${pcrs.get(s.name)?.metadata.resourceVersion})`);

  const rows: [string, boolean, string][] = [
    ['every PodCertificateRequest of the pod signer: one terminal condition, one status write', pcrNotOnce.length === 0, `${answered.length - pcrNotOnce.length}/${answered.length}`],
    ['PodCertificateRequests: Issued for an allowed key type, Denied UnsupportedKeyType otherwise', wrongOutcome.length === 0, `${wrongOutcome.length} wrong`],
    ['every pod certificate verifies with the CA, for the requested key', pcrBadCertificate.length === 0, `${pcrStored.length - pcrBadCertificate.length}/${pcrStored.length}`],
    ['every pod certificate: exactly one audit record; none issued twice', pcrAuditNotOnce.length === 0 && pcrIssuedNotStored.length === 0, `${pcrAuditNotOnce.length} not once, ${pcrIssuedNotStored.length} issued but not stored; ${pcrExcusedCount} excused (SIGKILL); ${pcrStored.filter((c) => c.cut).length} with notBefore cut to the CA's`],
    ['every pod certificate: exactly one Event', pcrEventNotOnce.length === 0, `${pcrStored.length - pcrEventNotOnce.length}/${pcrStored.length}`],
    ['no foreign PodCertificateRequest touched', pcrTouched.length === 0, `${pcrTouched.length}`],
    ['every approved CSR issued exactly once (merged audit)', notOnce.length === 0, `${approved.length - notOnce.length}/${approved.length}`],
    ['every approved CSR has status.certificate', noCertificate.length === 0, `${approved.length - noCertificate.length}/${approved.length}`],
    ['every certificate in a CSR has exactly one audit record', auditNotOnce.length === 0, `${stored.length - auditNotOnce.length}/${stored.length}; ${excusedCount} excused (SIGKILL); ${deliveryUnknownCount} recorded as delivery unknown (stopped before it knew)`],
    ['every certificate in a CSR has exactly one Event', eventNotOnce.length === 0, `${stored.length - eventNotOnce.length}/${stored.length}`],
    ['no certificate in a CSR recorded as not delivered', storedNotDelivered.length === 0, `${notDelivered} recorded as not delivered`],
    ['no audit record `certificate-issued` for a certificate not in its CSR', issuedNotStored.length === 0, `${issuedNotStored.length}`],
    ['no certificate recorded twice', recordedTwice.length === 0, `${bySha.size} certificates signed`],
    ['every certificate verifies with the CA', badCertificate.length === 0, `${badCertificate.length} bad`],
    ['no approved CSR Failed', anyFailed.length === 0, `${anyFailed.length}`],
    ['no CSR with both a certificate and Failed', certAndFailed.length === 0, `${certAndFailed.length}`],
    ['no certificate ever replaced', replaced.length === 0, `${replaced.length}`],
    ['every write by the signer, on an Approved CSR, never Denied or Failed', notBySigner.length === 0, `${writes.length} writes`],
    ['no denied, unapproved or foreign CSR touched', touched.length === 0, `${untouched.length - touched.length}/${untouched.length} untouched`],
    ['(reported) devapi stopped within 10 s of every SIGTERM', stopHangs.length === 0, stopHangs.join('; ') || '0 hangs'],
    ['devapi kept every acknowledged certificate write across restarts', lostByDevapi.length === 0, `${lostByDevapi.length} lost`],
    [`both replicas' VmRSS ≤ ${RSS_LIMIT_MB} MB`, rss.length === 2 && overRss.length === 0, rss.map((r) => `${r.mb.toFixed(0)} MB`).join(', ')],
    ['leaders stopped by SIGTERM exited 0', sigtermExitCodes.every((c) => c === 0), sigtermExitCodes.join(',')],
    ['no replica exited or failed to start by itself', selfExits.length === 0, `${selfExits.length}`],
    ['the load generator finished without errors', errors.length === 0, `${errors.length}`],
    ['no secret in logs, Events, /metrics, /readyz, /livez', hits.length === 0, `${needles.length} needles; ${scanned.lines} log lines, ${scanned.events} events, ${scanned.responses} responses`],
  ];
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  t.comment(`chaos seed ${SEED}: ${specs.length} CSRs (${approved.length} approved), ${pcrSpecs.length} PodCertificateRequests, ${everySigner.length} signer processes; load and faults ${seconds(loadDone - started)} s, total ${seconds(Date.now() - started)} s`);
  const faultsApplied = [...applied].filter(([f]) => !f.includes('skipped')).reduce((a, [, n]) => a + n, 0);
  t.comment('| fault | applied |');
  for (const [f, n] of [...applied].sort()) t.comment(`| ${f} | ${n} |`);
  t.comment(`| total | ${faultsApplied} |`);
  t.comment('| invariant | holds | detail |');
  for (const [name, holds, detail] of rows) t.comment(`| ${name} | ${holds ? 'yes' : 'NO'} | ${detail} |`);

  t.ok(faultsApplied >= 100, `at least 100 faults applied (${faultsApplied})`);
  t.equal(pcrSpecs.length, PCRS + 2 * BURSTS, 'every PodCertificateRequest was sent');
  t.same(pcrNotOnce, [], 'every PodCertificateRequest: exactly one terminal condition, in one status write');
  t.same(wrongOutcome, [], 'PodCertificateRequests: Issued or Denied UnsupportedKeyType as their key type says');
  t.same(pcrBadCertificate, [], 'every pod certificate verifies with the CA, for the requested key');
  t.same(pcrAuditNotOnce, [], 'every pod certificate: exactly one audit record');
  t.same(pcrIssuedNotStored, [], 'no pod certificate issued and not stored (none issued twice)');
  t.same(pcrEventNotOnce, [], 'every pod certificate: exactly one Event');
  t.same(pcrTouched, [], 'no foreign PodCertificateRequest touched');
  t.same(notOnce, [], 'every approved CSR issued exactly once');
  t.same(noCertificate, [], 'every approved CSR has status.certificate');
  t.same(auditNotOnce, [], 'every certificate in a CSR: exactly one audit record');
  t.same(eventNotOnce, [], 'every certificate in a CSR: exactly one Event');
  t.same(storedNotDelivered, [], 'no certificate in a CSR recorded as not delivered');
  t.same(issuedNotStored, [], 'no audit record for a certificate not in its CSR');
  t.same(recordedTwice, [], 'no certificate recorded twice');
  t.same(badCertificate, [], 'every certificate verifies with the CA');
  t.same(anyFailed, [], 'no approved CSR Failed');
  t.same(certAndFailed, [], 'no CSR with both a certificate and Failed');
  t.same(replaced, [], 'no certificate ever replaced');
  t.same(notBySigner, [], 'every certificate write by the signer on an Approved CSR');
  t.same(touched, [], 'no denied, unapproved or foreign CSR touched');
  t.same(lostByDevapi, [], 'devapi kept every acknowledged certificate write');
  t.equal(rss.length, 2, 'two replicas alive at the end');
  t.same(overRss, [], `both replicas' VmRSS ≤ ${RSS_LIMIT_MB} MB`);
  t.same(sigtermExitCodes.filter((c) => c !== 0), [], 'SIGTERM: exit 0');
  t.same(selfExits, [], 'no replica exited by itself');
  t.same(errors, [], 'the load generator finished');
  for (const n of needles) t.notOk(hits.some((h) => h.startsWith(`${n.name} in`)), `secrets: no ${n.name} anywhere`);
  t.same(hits, [], 'secrets: no hits');
});
