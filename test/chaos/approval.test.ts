/**
 * Approved once, signed only when approved, under faults. Two `csr-signer run` replicas
 * that approve (`approver:` for example.com/serving, its policy: *.ok.example.com for user
 * requester, and a SubjectAccessReview: `use` on signers example.com/serving, which RBAC
 * grants requester) and sign, and two that only approve (`--signing=false`, their own
 * Lease), with leader election, against devapi; APPROVAL_CHAOS_CSRS (120) CSRs in
 * bursts, three in four inside the policy and the rest outside it, while a seeded
 * schedule (APPROVAL_CHAOS_SEED) injects faults: failed approval and status writes,
 * approval and status writes stored whose answer is lost (504) or dropped, failed
 * SubjectAccessReviews, closed watches, compacted history, latency, and the leader killed
 * (SIGKILL, SIGTERM). No human approves anything. Every CSR must end approved and issued,
 * or denied with a reason. Once every replica has been stopped (so no late write can
 * land), devapi's audit is the witness: each CSR has exactly one accepted /approval write
 * that added Approved or Denied, and no write was refused for deciding a CSR already
 * decided (devapi refuses a second condition of a type, and Approved beside Denied, as
 * the apiserver does — such a refusal means an approver tried to decide twice); every
 * certificate devapi stored was written on an Approved CSR, and no denied CSR was
 * signed. About 30 s on two cores.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { seeded } from '../helpers/chaos.js';
import { DevapiClient, startDevapi, type DevapiProcess, type Reply } from '../helpers/devapi.js';
import { p256Request } from '../helpers/requests.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, tempDir } from '../helpers/tools.js';
import { pause, until } from '../helpers/wait.js';

if (!needTool(t, 'openssl')) process.exit(0);
t.setTimeout(300_000);

const CSRS = Number(process.env.APPROVAL_CHAOS_CSRS ?? 120);
const SEED = Number(process.env.APPROVAL_CHAOS_SEED ?? 17);
const BURSTS = 6;
const SIGNER = 'example.com/serving';
const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
/** The schedule's own pauses (jitter between faults), not waits for a condition. */
const sleep = (ms: number): Promise<void> => pause(ms, 'the approval chaos schedule');
const rand = seeded(SEED);
const between = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

interface Condition { type: string; status: string; reason?: string; message?: string }
interface Obj { metadata: { name: string }; status?: { certificate?: string; conditions?: Condition[] } }
interface Write { csr: string; user: string; approved: boolean; denied: boolean; failed: boolean; replaced: boolean }
/** devapi's record of one PUT to /approval (devapi/server/rest.ts, ApprovalWrite). */
interface ApprovalWrite { csr: string; user: string; resourceVersion?: string; status: number; accepted: boolean; added: string[]; attempted: string[]; reason?: string; message?: string; injected?: boolean }
type Kind = 'allowed' | 'refused';
interface Spec { name: string; kind: Kind; host: string }

const dir = tempDir('approval-chaos-');
const ca = makeOpensslCa(dir, 'approval-chaos', 'p256');
const config = join(dir, 'signer.yaml');
writeFileSync(config, `apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
signers:
  - name: ${SIGNER}
    ca: { certFile: ${ca.certPath}, keyFile: ${ca.keyPath} }
    usages:
      allowed: [digital signature, key encipherment, server auth]
    policy:
      dnsNames: ["*.ok.example.com"]
      ipRanges: []
      requesters: { usernames: [requester] }
approver:
  mode: enforce
  signers:
    - signerName: ${SIGNER}
      subjectAccessReview: { verb: use, group: certificates.k8s.io, resource: signers, name: ${SIGNER} }
`);
// The approver-only replicas' Lease: the signer identity may keep it too (devapi grants the signer's own Lease only);
// and the requester may use the signer, which the approver's SubjectAccessReview asks.
const approverLease = join(dir, 'approver-lease.yaml');
writeFileSync(approverLease, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: csr-signer-approver-lease, namespace: csr-signer }
rules:
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    resourceNames: [csr-signer-approver]
    verbs: [get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: csr-signer-approver-lease, namespace: csr-signer }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: csr-signer-approver-lease }
subjects:
  - { kind: ServiceAccount, name: csr-signer, namespace: csr-signer }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: example-serving-user }
rules:
  - apiGroups: [certificates.k8s.io]
    resources: [signers]
    resourceNames: [${SIGNER}]
    verbs: [use]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: requester-uses-example-serving }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: example-serving-user }
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: User, name: requester }
`);
let api: DevapiProcess;
let client: DevapiClient;
const ok = (r: Reply): boolean => r.status < 300;

// ------------------------------------------------------------------ replicas: two groups, each kept at two

/**
 * `both`: replicas that approve and sign (Lease csr-signer); `approver`: replicas that only
 * approve (`--signing=false`, Lease csr-signer-approver), as the chart's separate approver
 * Deployment runs. Both groups' leaders approve at once: their writes race, and the
 * resourceVersion decides.
 */
type Group = 'both' | 'approver';
const GROUPS: Record<Group, { lease: string; args: string[] }> = {
  both: { lease: 'csr-signer', args: [] },
  approver: { lease: 'csr-signer-approver', args: ['--signing=false', '--leader-elect-resource-name', 'csr-signer-approver'] },
};
const everyReplica: SignerProcess[] = [];
const live: Record<Group, Set<SignerProcess>> = { both: new Set(), approver: new Set() };
const starting: Record<Group, number> = { both: 0, approver: 0 };
const killedOnPurpose = new Set<SignerProcess>();
const selfExits: string[] = [];
let finishing = false;
const startups = new Set<Promise<void>>();

async function startReplica(group: Group): Promise<void> {
  const p = await startSigner([
    '--kubeconfig', api.kubeconfig('signer'), '--config', config, '--leader-elect-resource-namespace', 'csr-signer',
    '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms', '--retry-base-delay', '50ms',
    ...GROUPS[group].args,
  ], { waitFor: 'started' });
  everyReplica.push(p);
  live[group].add(p);
  p.child.once('exit', (code, signal) => {
    live[group].delete(p);
    if (!killedOnPurpose.has(p) && !finishing) selfExits.push(`${group} pid ${p.child.pid} exited by itself: code ${code} signal ${signal}`);
    replenish();
  });
}

function replenish(): void {
  for (const group of ['both', 'approver'] as const) {
    while (!finishing && live[group].size + starting[group] < 2) {
      starting[group]++;
      const s: Promise<void> = startReplica(group)
        .catch((e: unknown) => { selfExits.push(`a ${group} replica did not start: ${String(e).slice(0, 300)}`); })
        .finally(() => { starting[group]--; startups.delete(s); replenish(); });
      startups.add(s);
    }
  }
}

const identityOf = (p: SignerProcess): string => String(p.logs.find((l) => l.msg === 'started')?.identity);
async function leader(group: Group): Promise<SignerProcess | undefined> {
  try {
    const r = await client.call('GET', `/apis/coordination.k8s.io/v1/namespaces/csr-signer/leases/${GROUPS[group].lease}`, undefined, 'admin', 3000);
    const holder = (r.body as { spec?: { holderIdentity?: string } }).spec?.holderIdentity;
    return [...live[group]].find((p) => identityOf(p) === holder);
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ the load: created, never approved by hand

const specs: Spec[] = [];
const bursts = new Set<Promise<void>>();
const errors: string[] = [];

function startBurst(b: number): void {
  const n = Math.floor(CSRS / BURSTS) + (b < CSRS % BURSTS ? 1 : 0);
  const batch: Spec[] = Array.from({ length: n }, (_v, i) => {
    const kind: Kind = i % 4 === 3 ? 'refused' : 'allowed';
    return { name: `ac-${b}-${i}-${kind}`, kind, host: kind === 'allowed' ? `ac-${b}-${i}.ok.example.com` : `ac-${b}-${i}.example.org` };
  });
  specs.push(...batch);
  const p: Promise<void> = Promise.all(batch.map(async (s) => {
    const object = {
      apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: s.name },
      spec: { request: Buffer.from(p256Request(s.host)).toString('base64'), signerName: SIGNER, usages: ['digital signature', 'server auth'] },
    };
    await client.until('POST', csrPath, object, 'requester', (r) => ok(r) || r.status === 409).catch((e: unknown) => { errors.push(`${s.name}: ${String(e)}`); });
  })).then(() => { bursts.delete(p); });
  bursts.add(p);
}

// ------------------------------------------------------------------ the faults

type Fault = 'approval500' | 'approval503' | 'approval409' | 'approvalReplyLost' | 'approvalReplyDropped' | 'status500' | 'statusReplyLost'
  | 'review500' | 'watchesClean' | 'watchesReset' | 'compact' | 'latency' | 'leaderSigkill' | 'leaderSigterm';
const plan: Fault[] = (Object.entries({
  approval500: 4, approval503: 3, approval409: 4, approvalReplyLost: 5, approvalReplyDropped: 4, status500: 3, statusReplyLost: 3,
  review500: 4, watchesClean: 3, watchesReset: 3, compact: 2, latency: 3, leaderSigkill: 3, leaderSigterm: 3,
} satisfies Record<Fault, number>) as [Fault, number][]).flatMap(([f, n]) => Array<Fault>(n).fill(f));
for (let i = plan.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [plan[i], plan[j]] = [plan[j] as Fault, plan[i] as Fault];
}
const applied = new Map<string, number>();
const count = (what: string): void => { applied.set(what, (applied.get(what) ?? 0) + 1); };
const controlCall = async (method: string, path: string, body?: unknown): Promise<void> => { await client.until(method, path, body, 'admin', ok, 20_000); };

const faultRules: Partial<Record<Fault, Record<string, unknown>>> = {
  approval500: { method: 'PUT', path: '/approval', status: 500 },
  approval503: { method: 'PUT', path: '/approval', status: 503, retryAfterSeconds: 1 },
  approval409: { method: 'PUT', path: '/approval', status: 409 },
  approvalReplyLost: { method: 'PUT', path: '/approval', mode: 'apply-then-fail', status: 504 },
  approvalReplyDropped: { method: 'PUT', path: '/approval', mode: 'apply-then-drop' },
  status500: { method: 'PUT', path: '/status', status: 500 },
  statusReplyLost: { method: 'PUT', path: '/status', mode: 'apply-then-fail', status: 504 },
  // devapi's fault rules answer a status only: a review answered `allowed: false` with an
  // evaluationError cannot be injected, so the review fails with a 500 only.
  review500: { method: 'POST', path: '/apis/authorization.k8s.io/v1/subjectaccessreviews', status: 500 },
};

async function inject(f: Fault): Promise<void> {
  const rule = faultRules[f];
  if (rule) {
    await controlCall('POST', '/devapi/v1/faults', { ...rule, count: between(1, 3) });
  } else if (f === 'latency') {
    await controlCall('POST', '/devapi/v1/latency', { ms: between(0, 4) * 25 });
  } else if (f === 'watchesClean' || f === 'watchesReset') {
    await controlCall('POST', '/devapi/v1/watches/close', { mode: f === 'watchesClean' ? 'clean' : 'reset' });
  } else if (f === 'compact') {
    await controlCall('POST', '/devapi/v1/history/compact', {});
    await controlCall('POST', '/devapi/v1/watches/close', { mode: 'reset' });
  } else {
    const group: Group = rand() < 0.5 ? 'both' : 'approver';
    const l = await until(() => leader(group), { what: `a ${group} leader`, ms: 10_000, intervalMs: 250 }).catch((): undefined => undefined);
    if (!l) return count(`${f} ${group} (no leader to kill: skipped)`);
    killedOnPurpose.add(l);
    await l.stop(f === 'leaderSigkill' ? 'SIGKILL' : 'SIGTERM');
    return count(`${f} ${group}`);
  }
  count(f);
}

async function listCsrs(): Promise<Map<string, Obj>> {
  const r = await client.until('GET', csrPath, undefined, 'admin', ok);
  return new Map((r.body as { items: Obj[] }).items.map((o) => [o.metadata.name, o]));
}

// ------------------------------------------------------------------ the run

t.teardown(async () => {
  finishing = true;
  await Promise.all(startups);
  for (const p of everyReplica) await p.stop('SIGKILL');
  await api.stop();
});

void t.test(`${CSRS} CSRs, no human, two approving and signing replicas and two approve-only ones under ${plan.length} seeded faults (seed ${SEED})`, async (t) => {
  const started = Date.now();
  api = await startDevapi({ signerApproves: true, args: ['--policy', approverLease, '--verbose'] });
  client = new DevapiClient(api.url, api.stateDir, { pooled: true });
  replenish();
  await Promise.all(startups);

  const burstAt = new Set(Array.from({ length: BURSTS }, (_v, b) => Math.floor((b * plan.length) / BURSTS)));
  for (const [i, f] of plan.entries()) {
    if (burstAt.has(i)) startBurst([...burstAt].filter((x) => x < i).length);
    await inject(f);
    await sleep(between(100, 400));
  }
  await Promise.all(bursts);
  await controlCall('DELETE', '/devapi/v1/faults');

  const settled = (o: Obj | undefined, s: Spec): boolean =>
    s.kind === 'allowed' ? o?.status?.certificate !== undefined : (o?.status?.conditions ?? []).some((c) => c.type === 'Denied');
  let csrs = await listCsrs();
  // Bounded, not fatal: what is still open after 90 s is counted by the assertions below.
  await until(async () => {
    csrs = await listCsrs();
    return specs.every((s) => settled(csrs.get(s.name), s));
  }, { what: 'every CSR issued or denied', ms: 90_000, intervalMs: 1000 }).catch(() => undefined);
  // Nothing running, nothing late: every replica is stopped before the witnesses are read.
  while (startups.size > 0) await Promise.all(startups); // a replacement for a replica killed last is up before the count
  const aliveAtEnd = { both: live.both.size, approver: live.approver.size };
  finishing = true;
  await Promise.all(startups);
  const exits = await Promise.all([...live.both, ...live.approver].map(async (p) => ({ pid: p.child.pid, code: await p.stop('SIGTERM') })));
  csrs = await listCsrs();
  const audit = (await client.until('GET', '/devapi/v1/audit', undefined, 'admin', ok)).body as { certificateWrites: Write[]; approvalWrites: ApprovalWrite[] };
  const writes = audit.certificateWrites;
  const approvalWrites = audit.approvalWrites;

  // ---------------------------------------------------------------- invariants
  const typed = (s: Spec, type: string): Condition[] => (csrs.get(s.name)?.status?.conditions ?? []).filter((c) => c.type === type);
  const caKey = new X509Certificate(ca.certPem).publicKey;
  const allowed = specs.filter((s) => s.kind === 'allowed');
  const refused = specs.filter((s) => s.kind === 'refused');
  const notIssued = allowed.filter((s) => {
    const pem = csrs.get(s.name)?.status?.certificate;
    if (!pem) return true;
    const cert = new X509Certificate(Buffer.from(pem, 'base64'));
    return !cert.verify(caKey) || cert.checkHost(s.host) === undefined;
  }).map((s) => s.name);
  const notApprovedOnce = allowed.filter((s) => typed(s, 'Approved').length !== 1 || typed(s, 'Approved')[0]?.reason !== 'AutoApproved'
    || typed(s, 'Denied').length > 0 || typed(s, 'Failed').length > 0).map((s) => `${s.name}: ${JSON.stringify(csrs.get(s.name)?.status?.conditions ?? [])}`);
  const notDeniedOnce = refused.filter((s) => typed(s, 'Denied').length !== 1 || typed(s, 'Denied')[0]?.reason !== 'CsrSignerPolicyDenied'
    || !(typed(s, 'Denied')[0]?.message ?? '').includes(s.host) || typed(s, 'Approved').length > 0)
    .map((s) => `${s.name}: ${JSON.stringify(csrs.get(s.name)?.status?.conditions ?? [])}`);
  const deniedButSigned = refused.filter((s) => csrs.get(s.name)?.status?.certificate !== undefined || writes.some((w) => w.csr === s.name)).map((s) => s.name);
  const signedUnapproved = writes.filter((w) => !w.approved || w.denied).map((w) => w.csr);
  const writesPer = new Map<string, number>();
  for (const w of writes) writesPer.set(w.csr, (writesPer.get(w.csr) ?? 0) + 1);
  const signedTwice = [...writesPer].filter(([, n]) => n > 1).map(([csr]) => csr);
  // One approval record per decision written; a replica whose answer was lost or that was killed may leave none, never two.
  const records = everyReplica.flatMap((p) => p.logs).filter((l) => l.audit === 'csr-approved' || l.audit === 'csr-denied');
  const recordsPer = new Map<string, number>();
  // A record found after a lost answer (answerLost) may share its CSR with the other approving
  // leader's record: both sent the same condition; the one-condition check below still holds.
  for (const l of records) if (l.answerLost !== true) recordsPer.set(String(l.csr), (recordsPer.get(String(l.csr)) ?? 0) + 1);
  const decidedTwice = [...recordsPer].filter(([, n]) => n > 1).map(([csr, n]) => `${csr}: ${n} records`);
  // devapi's side: one accepted write per CSR that added its decision, and no approver trying to decide a decided CSR.
  const decisionsPer = new Map<string, ApprovalWrite[]>();
  for (const w of approvalWrites) if (w.accepted && w.added.some((type) => type === 'Approved' || type === 'Denied')) decisionsPer.set(w.csr, [...(decisionsPer.get(w.csr) ?? []), w]);
  const notDecidedOnce = specs.filter((s) => {
    const decisions = decisionsPer.get(s.name) ?? [];
    return decisions.length !== 1 || !(decisions[0]?.added ?? []).includes(s.kind === 'allowed' ? 'Approved' : 'Denied');
  }).map((s) => `${s.name}: ${JSON.stringify(decisionsPer.get(s.name) ?? [])}`);
  const decidingDecided = approvalWrites.filter((w) => w.status === 422 && /Duplicate value|mutually exclusive|already/.test(w.message ?? ''))
    .map((w) => `${w.csr} by ${w.user} at version ${String(w.resourceVersion)}: ${String(w.message)}`);
  const byStatus = new Map<string, number>();
  for (const w of approvalWrites) {
    const key = `${w.status}${w.injected === true ? ' injected' : ''}`;
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }
  // devapi's request log (--verbose): the SubjectAccessReviews answered, and those a fault failed.
  const reviews = api.stderr().split('\n').filter((l) => l.startsWith('POST /apis/authorization.k8s.io/v1/subjectaccessreviews '));
  const reviewsFailed = reviews.filter((l) => / 500 \d+ms/.test(l)).length;
  const wrongRecord = records.filter((l) => (l.audit === 'csr-approved') !== String(l.csr).endsWith('-allowed')).map((l) => String(l.csr));

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  t.comment(`approval chaos seed ${SEED}: ${specs.length} CSRs (${allowed.length} allowed, ${refused.length} refused), ${everyReplica.length} replica processes (two that approve and sign, two that only approve, replaced when killed), ${seconds} s`);
  for (const [f, n] of [...applied].sort()) t.comment(`| ${f} | ${n} |`);
  t.comment(`${records.length} approval records for ${specs.length} CSRs; ${writes.length} certificate writes`);
  t.comment(`${reviews.length} SubjectAccessReviews, ${reviewsFailed} failed by injected faults`);
  t.comment(`${approvalWrites.length} /approval writes by status: ${[...byStatus].sort().map(([k, n]) => `${k}: ${n}`).join(', ')}`);

  t.same(notIssued, [], 'every CSR inside the policy is issued, and the certificate verifies with the CA and names its host');
  t.same(notApprovedOnce, [], 'each of them has exactly one Approved condition (AutoApproved) and no Denied or Failed');
  t.same(notDeniedOnce, [], 'every CSR outside the policy has exactly one Denied condition (CsrSignerPolicyDenied, naming its host) and no Approved');
  t.same(deniedButSigned, [], 'no denied CSR was signed');
  t.same(signedUnapproved, [], 'every certificate write was on an Approved, not Denied, CSR (devapi\'s audit)');
  t.same(signedTwice, [], 'no CSR signed twice');
  t.same(notDecidedOnce, [], 'devapi accepted exactly one /approval write per CSR that added a decision, Approved inside the policy and Denied outside it');
  t.same(decidingDecided, [], 'devapi refused no /approval write for deciding a CSR already decided');
  t.ok(approvalWrites.some((w) => w.injected === true), 'some /approval writes were refused by injected faults (and not counted as decisions)');
  t.ok(reviewsFailed > 0 && reviews.length > reviewsFailed, 'the approvers asked SubjectAccessReviews, and some failed with a 500 (retried: the CSRs still end approved)');
  t.same(decidedTwice, [], 'no replica logged a second decision for a CSR');
  t.same(wrongRecord, [], 'every approval record matches the CSR\'s kind');
  t.ok(records.length > 0, 'the approver recorded its decisions');
  t.same(aliveAtEnd, { both: 2, approver: 2 }, 'two replicas of each kind alive at the end');
  t.same(exits.filter((e) => e.code !== 0), [], 'every replica left on SIGTERM with code 0');
  t.ok(everyReplica.some((p) => p.logs.some((l) => l.audit === 'csr-approved' || l.audit === 'csr-denied') && p.logs.some((l) => l.signing === false)), 'an approver-only replica decided some');
  t.same(selfExits, [], 'no replica exited by itself');
  t.same(errors, [], 'the load generator finished');
});
