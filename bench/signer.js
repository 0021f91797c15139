// Signer end to end: devapi, `csr-signer run` and this load generator as three processes.
// A burst of 2,000 approved CSRs and a steady 50 CSRs/s for 15 s, with a P-256 CA. devapi and the
// signer run on the Node that runs this script (process.execPath), the signer with the Node flags
// ./csr-signer and the image give it (bench/launch.js).
// Run after a build: `node bench/signer.js` (npm run bench runs it after bench/devapi.js). See README.md.
//
// Knobs: BENCH_SIGNER_BURST (2000), BENCH_SIGNER_RATE (50), BENCH_SIGNER_SECONDS (15),
// (0: burst only), BENCH_SIGNER_ARGS (extra `run` flags, e.g. "--workers 8"), BENCH_SIGNER_PROFILE_DIR
// (write a --cpu-prof of each signer process there), BENCH_SIGNER_NODE_ARGS (node flags for the signer, e.g. "--single-threaded-gc").
import { Buffer } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { productEnv, scratch } from './launch.js';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadCertificateAuthority, signRequest, randomSource } from '../dist/pki/index.js';
import { floorOp } from './baselines.js';
import { goCheck } from './go-check.js';
import { approved as approveObject, makeRequest } from './requests.js';
import { splitRequest, tbsLength } from './fixtures.js';
import { eachLine, machineBusySeconds, median, processCpuSeconds, rateAsync, rateSync, reportTarget } from './measure.js';

const BURST = Number(process.env.BENCH_SIGNER_BURST ?? 2000);
const RATE = Number(process.env.BENCH_SIGNER_RATE ?? 50);
// 15 s at 50/s: 750 CSRs; the latency percentiles are of the 700 after the first second (the p99 is the 7th worst).
const STEADY_SECONDS = Number(process.env.BENCH_SIGNER_SECONDS ?? 15);
const EXTRA_ARGS = (process.env.BENCH_SIGNER_ARGS ?? '').split(/\s+/).filter(Boolean);
const PROFILE_DIR = process.env.BENCH_SIGNER_PROFILE_DIR;
const NODE_ARGS = (process.env.BENCH_SIGNER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
// A free port for the signer's metrics and probes (the default, 127.0.0.1:8080, may be taken by another
// signer on the machine), unless BENCH_SIGNER_ARGS names one.
const HTTP_ARGS = EXTRA_ARGS.some((a) => a.startsWith('--http-address')) ? [] : ['--http-address', '127.0.0.1:0'];
const IN_FLIGHT = 8; // creates and approvals of the burst, as bench/devapi.js
const SIGNER = 'example.com/serving';
const USAGES = ['digital signature', 'key encipherment', 'server auth'];
// The signer's targets, on the image's Node release (Events on, every check passing).
const TARGETS = { burstRate: 500, steadyP99Ms: 50, burstCpuPer1000: 0.8, steadyCpuPer1000: 1.5, burstPeakRssMb: 140, idleRssMb: 80 };

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const out = (line = '') => process.stdout.write(`${line}\n`);
const { dir, children, track } = scratch('signer-bench-');

// ------------------------------------------------------------------ requests

const csrObject = (r) => ({
  apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: r.name },
  spec: { request: Buffer.from(r.pem).toString('base64'), signerName: SIGNER, usages: USAGES },
});
const approved = (o) => approveObject(o, 'bench/signer.js');

// ------------------------------------------------------------------ processes

const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** CPU seconds of a process, all threads (utime + stime). */
const cpuOf = (pid) => processCpuSeconds(pid) * (100 / ticks);
/**
 * CPU seconds of a process: its JavaScript (main) thread, its other threads together (libuv's threadpool,
 * where the signer verifies and signs when several CSRs are in flight; V8's GC and compiler threads: in
 * Node 20 they all share one name, so they are not told apart), user and system.
 */
function threadsOf(pid) {
  const kinds = { main: 0, otherThreads: 0, user: 0, system: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1').replace(/^.*\) /s, '').split(' ').map(Number);
      const [user, system] = [f[11] / ticks, f[12] / ticks];
      kinds[tid === String(pid) ? 'main' : 'otherThreads'] += user + system;
      kinds.user += user;
      kinds.system += system;
    } catch { /* the thread ended */ }
  }
  return kinds;
}

/** Peak and current resident set of a process, MB. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

function startProcess(args, logFile, ready, env = process.env) {
  const fd = openSync(logFile, 'w');
  // Output goes to a file so that this process pays nothing for reading the signer's log lines.
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, 'pipe'], env });
  closeSync(fd);
  const exited = track(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const started = (async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = await ready(readFileSync(logFile, 'utf8'));
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`${args[1]} ${args[2]} exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`${args[1]} ${args[2]} not ready in 30 s: ${stderr}`);
      await sleep(50);
    }
  })();
  return { child, started, stop: () => { child.kill('SIGTERM'); return exited; }, stderr: () => stderr };
}

async function startDevapi(state) {
  mkdirSync(state, { recursive: true });
  const p = startProcess([cli, 'devapi', '--state-dir', state, '--port', '0'], join(state, '..', 'devapi.log'), (text) => /ready at (https:\/\/\S+)/.exec(text)?.[1]);
  const url = await p.started;
  const tokenOf = (id) => /token: (\S+)/.exec(readFileSync(join(state, `${id}.kubeconfig`), 'utf8'))?.[1] ?? '';
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT, ca: readFileSync(join(state, 'ca.pem')) });
  const call = (method, path, body, token = tokenOf('admin')) => new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => (res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
  return { ...p, url, state, agent, call, tokenOf };
}

async function startSignerProcess(api, ca, logFile) {
  const profile = [...NODE_ARGS, ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [])];
  // Ready when its watch is open (devapi counts open watches): that holds at any --log-level.
  const watchesBefore = (await api.call('GET', '/devapi/v1/audit')).openWatches;
  const p = startProcess([...profile, cli, 'run', '--kubeconfig', join(api.state, 'signer.kubeconfig'),
    '--cluster-signing-cert-file', ca.cert, '--cluster-signing-key-file', ca.key, '--signer-name', SIGNER, '--signer-unrestricted', '--leader-elect=false', ...HTTP_ARGS, ...EXTRA_ARGS],
  logFile, async () => (await api.call('GET', '/devapi/v1/audit')).openWatches > watchesBefore, productEnv());
  await p.started;
  return p;
}

/**
 * One watch on every CSR, from this process: the time each CSR was first seen
 * with status.certificate, and the PEM. Only lines with a certificate are parsed.
 */
function watchCertificates(api) {
  const issued = new Map(); // name → { at, certificate }
  let onIssued = () => undefined;
  const req = request(`${api.url}${csrPath}?watch=true`, { headers: { Authorization: `Bearer ${api.tokenOf('admin')}` }, ca: readFileSync(join(api.state, 'ca.pem')) }, (res) => {
    eachLine(res, (line) => {
      if (!line.includes('"certificate":"')) return;
      const at = performance.now();
      const o = JSON.parse(line).object;
      if (issued.has(o.metadata.name) || !o.status?.certificate) return;
      issued.set(o.metadata.name, { at, certificate: o.status.certificate });
      onIssued();
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    issued,
    /** Resolves when `count` CSRs have a certificate, or after `ms`. */
    until: (count, ms) => new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      onIssued = () => { if (issued.size >= count) { clearTimeout(timer); resolve(); } };
      onIssued();
    }),
    stop: () => req.destroy(),
  };
}

function cpuSnapshot(devapi, signer) {
  const own = process.cpuUsage();
  return {
    t: performance.now(), signer: cpuOf(signer.child.pid), devapi: cpuOf(devapi.child.pid), threads: threadsOf(signer.child.pid),
    load: (own.user + own.system) / 1e6, machine: machineBusySeconds(),
  };
}
function cpuBetween(a, b) {
  const d = (k) => b[k] - a[k];
  const threads = Object.fromEntries(Object.keys(b.threads).map((k) => [k, b.threads[k] - a.threads[k]]));
  return { wall: (b.t - a.t) / 1000, signer: d('signer'), devapi: d('devapi'), load: d('load'), others: Math.max(0, d('machine') - d('signer') - d('devapi') - d('load')), threads };
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

/** Every CSR issued exactly once (devapi's audit), by the signer, approved, never replaced; each certificate verifies and holds its request's key. */
async function checkIssued(api, requests, issued, caCert) {
  const audit = await api.call('GET', '/devapi/v1/audit');
  const writes = new Map();
  for (const w of audit.certificateWrites) writes.set(w.csr, [...(writes.get(w.csr) ?? []), w]);
  const problems = [];
  let once = 0;
  let verified = 0;
  const caCertificate = new X509Certificate(caCert);
  const caKey = caCertificate.publicKey;
  const forGo = [];
  for (const r of requests) {
    const w = writes.get(r.name) ?? [];
    if (w.length === 1 && w[0].approved && !w[0].replaced && !w[0].denied && !w[0].failed && w[0].user.includes('csr-signer')) once++;
    else problems.push(`${r.name}: ${w.length} certificate writes ${JSON.stringify(w)}`);
    const seen = issued.get(r.name);
    if (!seen) continue;
    const cert = new X509Certificate(Buffer.from(seen.certificate, 'base64'));
    forGo.push({ der: cert.raw, issuerDer: caCertificate.raw });
    if (cert.verify(caKey) && cert.publicKey.export({ type: 'spki', format: 'der' }).equals(r.spki) && cert.checkHost(r.name)) verified++;
    else problems.push(`${r.name}: certificate does not verify, or has another key or name`);
  }
  const extra = audit.certificateWrites.length - once;
  // Every certificate issued, through Go's crypto/x509 too (one oracle run, after the timed part).
  let goAccepts = true;
  try {
    goCheck('bench/signer.js: dist/cli.js run', forGo);
  } catch (e) {
    goAccepts = false;
    problems.push(e.message);
  }
  return { once, verified, extra, problems, goAccepts };
}

// ------------------------------------------------------------------ phases

const QUIET_CORES = 0.25;
// 10 s: on a quiet machine no wait is needed; on a busy one 30 s bought little (other benches run for minutes).
const quietBudget = { leftMs: 10_000 };
/** Waits (0.5 s samples, at most 10 s in the whole bench) until other processes keep fewer than QUIET_CORES busy; returns the last sample. */
async function quiet() {
  for (;;) {
    const [m0, s0] = [machineBusySeconds(), processCpuSeconds()];
    await sleep(500);
    const others = (machineBusySeconds() - m0 - (processCpuSeconds() - s0)) / 0.5;
    quietBudget.leftMs -= 500;
    if (others < QUIET_CORES || quietBudget.leftMs <= 0) return others;
  }
}
const threadLine = (c) => `JavaScript thread ${f2(c.threads.main)}, other threads (threadpool crypto, GC, compiler) ${f2(c.threads.otherThreads)}; user ${f2(c.threads.user)}, system ${f2(c.threads.system)}`;

async function burst(ca, requests) {
  const api = await startDevapi(join(dir, 'burst', 'state'));
  const signer = await startSignerProcess(api, ca, join(dir, 'burst', 'signer.log'));
  const watch = watchCertificates(api);
  try {
    await sleep(300);
    await quiet();
    const idleMemory = memoryOf(signer.child.pid);
    const before = cpuSnapshot(api, signer);
    const created = new Array(requests.length);
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < requests.length) {
        const i = next++;
        created[i] = await api.call('POST', csrPath, csrObject(requests[i]), api.tokenOf('requester'));
      }
    }));
    const createdAt = cpuSnapshot(api, signer);
    const approvedAt = new Map();
    next = 0;
    const approvalStart = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < created.length) {
        const o = created[next++];
        await api.call('PUT', `${csrPath}/${o.metadata.name}/approval`, approved(o), api.tokenOf('approver'));
        approvedAt.set(o.metadata.name, performance.now());
      }
    }));
    const approvalEnd = performance.now();
    await watch.until(requests.length, 60_000);
    const lastSeen = Math.max(...[...watch.issued.values()].map((v) => v.at));
    const doneAt = cpuSnapshot(api, signer);
    await sleep(500); // the signer's Events after the last status write
    const settled = cpuSnapshot(api, signer);
    const latencies = requests.filter((r) => watch.issued.has(r.name)).map((r) => watch.issued.get(r.name).at - approvedAt.get(r.name));
    const check = await checkIssued(api, requests, watch.issued, ca.certPem);
    const signerMemory = memoryOf(signer.child.pid);
    const issuedCount = watch.issued.size;
    return {
      issued: issuedCount, seconds: (lastSeen - approvalStart) / 1000, approvalSeconds: (approvalEnd - approvalStart) / 1000,
      rate: issuedCount / ((lastSeen - approvalStart) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies),
      create: cpuBetween(before, createdAt), issue: cpuBetween(createdAt, doneAt), all: cpuBetween(before, settled),
      signerMemory, idleMemory, devapiMemory: memoryOf(api.child.pid), check, auditLines: countAuditLines(join(dir, 'burst', 'signer.log')),
    };
  } finally {
    watch.stop();
    api.agent.destroy();
    await signer.stop();
    await api.stop();
  }
}

async function steady(ca, requests) {
  const api = await startDevapi(join(dir, 'steady', 'state'));
  const signer = await startSignerProcess(api, ca, join(dir, 'steady', 'signer.log'));
  const watch = watchCertificates(api);
  try {
    await sleep(300);
    await quiet();
    const before = cpuSnapshot(api, signer);
    const approvedAt = new Map();
    const start = performance.now() + 20;
    let rssMax = 0;
    const sampler = setInterval(() => { rssMax = Math.max(rssMax, memoryOf(signer.child.pid).rssMb); }, 250);
    const errors = [];
    // CSR i is created at start + i / RATE (a timer per CSR, not an interval: no drift), then approved.
    await Promise.all(requests.map(async (r, i) => {
      await sleep(Math.max(0, start + (i * 1000) / RATE - performance.now()));
      try {
        const o = await api.call('POST', csrPath, csrObject(r), api.tokenOf('requester'));
        await api.call('PUT', `${csrPath}/${o.metadata.name}/approval`, approved(o), api.tokenOf('approver'));
        approvedAt.set(r.name, performance.now());
      } catch (e) {
        errors.push(e.message);
      }
    }));
    const sent = (performance.now() - start) / 1000;
    await watch.until(requests.length, 30_000);
    clearInterval(sampler);
    const doneAt = cpuSnapshot(api, signer);
    await sleep(500);
    const settled = cpuSnapshot(api, signer);
    const latencyOf = (list) => list.filter((r) => watch.issued.has(r.name) && approvedAt.has(r.name)).map((r) => watch.issued.get(r.name).at - approvedAt.get(r.name));
    // The signer was started just before: its first second meets cold code (JIT, first connections,
    // first Event), which a signer pays once, not at 50/s. The percentiles are of the CSRs after it;
    // the first second is reported on its own, and the CPU figures include it.
    const latencies = latencyOf(requests.slice(RATE));
    const cold = latencyOf(requests.slice(0, RATE));
    const check = await checkIssued(api, requests, watch.issued, ca.certPem);
    return {
      issued: watch.issued.size, sent, errors, p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: Math.max(...latencies),
      cold: { count: cold.length, max: Math.max(...cold), over: cold.filter((l) => l > TARGETS.steadyP99Ms).length },
      cpu: cpuBetween(before, doneAt), all: cpuBetween(before, settled), signerMemory: { ...memoryOf(signer.child.pid), sampledMaxMb: rssMax },
      check, auditLines: countAuditLines(join(dir, 'steady', 'signer.log')),
    };
  } finally {
    watch.stop();
    api.agent.destroy();
    await signer.stop();
    await api.stop();
  }
}

function countAuditLines(file) {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"audit":"certificate-issued"')).length;
}

/** The same-run baseline: the PKI core in this process (dist/pki), and the crypto floor of bench/run.js. */
async function baseline(ca, requests) {
  const authority = await loadCertificateAuthority({
    certificate: { name: ca.cert, bytes: readFileSync(ca.cert) }, key: { name: ca.key, bytes: readFileSync(ca.key) },
  }, new Date());
  const profile = { usages: USAGES, maxDurationMs: 365 * 24 * 3_600_000 };
  const random = randomSource(); // the serials' randomness, as the signer draws it
  const pool = requests.slice(0, 64);
  const core = (i) => signRequest(pool[i % pool.length].pem, profile, authority, { now: new Date(), random });
  const sample = await core(0);
  const floor = floorOp(pool.map((r) => splitRequest(r.pem)), createPrivateKey(readFileSync(ca.key)), 'sha256', tbsLength(sample.der));
  const measured = { floor: [], core: [], coreCpu: [], core5: [], core5Cpu: [] };
  const runMs = 400;
  const timed = async (rates, cpu, run) => {
    const c0 = process.cpuUsage();
    const rate = await run();
    const c = process.cpuUsage(c0);
    rates.push(rate);
    cpu.push((((c.user + c.system) / 1e6) * 1000) / ((rate * runMs) / 1000)); // CPU-s per 1,000 certificates
  };
  rateSync(floor, 200);
  await rateAsync(core, 200);
  for (let round = 0; round < 3; round++) {
    measured.floor.push(rateSync(floor, runMs));
    await timed(measured.core, measured.coreCpu, () => rateAsync(core, runMs));
    await timed(measured.core5, measured.core5Cpu, () => rateAsync(core, runMs, 5));
  }
  return Object.fromEntries(Object.entries(measured).map(([k, v]) => [k, median(v)]));
}

function makeCa() {
  const cert = join(dir, 'ca.pem');
  const key = join(dir, 'ca-key.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'pipe' });
  execFileSync('openssl', ['req', '-x509', '-new', '-key', key, '-subj', '/CN=csr-signer bench CA', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash', '-out', cert], { stdio: 'pipe' });
  return { cert, key, certPem: readFileSync(cert, 'utf8') };
}

// ------------------------------------------------------------------ report

const f0 = (n) => Math.round(n).toLocaleString('en-US');
const f2 = (n) => n.toFixed(2);
const verdict = (ok) => (ok ? 'target met' : 'target NOT met');
const target = (what, figure, pass) => reportTarget('signer.js', what, figure, pass);
const per1000 = (cpu, count) => (cpu * 1000) / count;

function reportSteady(s, steadyRequests) {
  const sc = per1000(s.all.signer, s.issued);
  out(`## Steady: ${RATE} CSRs/s for ${STEADY_SECONDS} s (create then approve, one timer per CSR), fresh devapi and signer`);
  out(`- certificates: ${s.issued} of ${steadyRequests.length}; the load took ${f2(s.sent)} s to send${s.errors.length ? `; ${s.errors.length} errors: ${s.errors.slice(0, 3).join('; ')}` : ''}`);
  const p99Met = s.p99 <= TARGETS.steadyP99Ms && s.issued === steadyRequests.length;
  out(`- approval→issued latency after the first second: p50 ${f0(s.p50)} ms, p90 ${f0(s.p90)} ms, **p99 ${f0(s.p99)} ms**, max ${f0(s.max)} ms — p99 ≤ ${TARGETS.steadyP99Ms} ms: ${verdict(p99Met)}`);
  out(`- the first second after the signer started (${s.cold.count} CSRs, cold code and connections): max ${f0(s.cold.max)} ms, ${s.cold.over} over ${TARGETS.steadyP99Ms} ms`);
  target(`signer p99 approval→issued latency at ${RATE}/s ≤ ${TARGETS.steadyP99Ms} ms (after the first second)`, `${f0(s.p99)} ms (p50 ${f0(s.p50)} ms; first second max ${f0(s.cold.max)} ms; ${s.issued} of ${steadyRequests.length} issued)`, p99Met);
  out(`- signer CPU: ${f2(s.all.signer)} s = **${f2(sc)} CPU-s per 1,000** — ≤ ${TARGETS.steadyCpuPer1000}: ${verdict(sc <= TARGETS.steadyCpuPer1000)}; ` +
    `devapi ${f2(s.all.devapi)} s, load generator ${f2(s.all.load)} s, other processes ${f2(s.all.others)} s over ${f2(s.all.wall)} s`);
  out(`- signer CPU by thread (CPU-s): ${threadLine(s.all)}`);
  target(`signer CPU per 1,000 certificates at ${RATE}/s ≤ ${TARGETS.steadyCpuPer1000} CPU-s`, `${f2(sc)} CPU-s`, sc <= TARGETS.steadyCpuPer1000);
  out(`- signer memory: peak RSS (VmHWM) **${f0(s.signerMemory.peakMb)} MB** (sampled max ${f0(s.signerMemory.sampledMaxMb)} MB; the target is the burst's)`);
  out(`- check: ${s.check.once} of ${steadyRequests.length} CSRs have exactly one certificate write in devapi's audit; ${s.check.extra} other writes; ` +
    `${s.check.verified} certificates verify; signer audit log lines: ${s.auditLines}; Go's crypto/x509 accepts all: ${s.check.goAccepts ? 'yes' : 'NO'}` + (s.check.problems.length ? `; PROBLEMS: ${s.check.problems.slice(0, 5).join('; ')}` : ''));
  out();
}

async function main() {
  const t0 = Date.now();
  out('# csr-signer bench: the signer end to end');
  out(`date: ${new Date().toISOString()}; machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}); ` +
    `node ${process.version} (${process.execPath}: devapi and the signer run on it too); load average at start: ${loadavg().map(f2).join(' ')}`);
  out(`signer: csr-signer run --signer-name ${SIGNER} --signer-unrestricted --leader-elect=false ${[...HTTP_ARGS, ...EXTRA_ARGS].join(' ')} (defaults otherwise: 5 workers, log level info, Events on), started as ./csr-signer starts it: NODE_OPTIONS=${productEnv().NODE_OPTIONS}`);
  const ca = makeCa();
  const g0 = performance.now();
  const burstRequests = Array.from({ length: BURST }, (_, i) => makeRequest(`burst-${i}.bench.example.com`));
  const steadyRequests = Array.from({ length: Math.round(RATE * STEADY_SECONDS) }, (_, i) => makeRequest(`steady-${i}.bench.example.com`));
  out(`requests: ${burstRequests.length + steadyRequests.length} distinct P-256 keys and PKCS#10 requests made in ${f2((performance.now() - g0) / 1000)} s`);
  execFileSync('openssl', ['req', '-verify', '-noout'], { input: burstRequests[0].pem, stdio: ['pipe', 'pipe', 'pipe'] });

  const base = await baseline(ca, burstRequests);
  out(`baseline (this process, dist/pki, P-256, median of 3 × 0.4 s): crypto floor ${f0(base.floor)} verify+sign pairs/s; ` +
    `PKI core signRequest sequential ${f0(base.core)} certs/s (${f2(base.coreCpu)} CPU-s per 1,000), 5 in flight ${f0(base.core5)} certs/s (${f2(base.core5Cpu)} CPU-s per 1,000)`);
  out();

  const b = await burst(ca, burstRequests);
  out(`## Burst: ${BURST} CSRs created (${IN_FLIGHT} in flight), then approved (${IN_FLIGHT} in flight) with the signer running`);
  const rateMet = b.rate >= TARGETS.burstRate && b.issued === BURST;
  out(`- certificates: ${b.issued} of ${BURST} in ${f2(b.seconds)} s from the first approval sent to the last certificate seen = **${f0(b.rate)} certificates/s** ` +
    `(approvals took ${f2(b.approvalSeconds)} s) — ≥ ${TARGETS.burstRate}/s: ${verdict(rateMet)}`);
  target(`signer burst of ${BURST} ≥ ${TARGETS.burstRate} certificates/s`, `${f0(b.rate)}/s (${b.issued} of ${BURST})`, rateMet);
  out(`- approval→issued latency: p50 ${f0(b.p50)} ms, p99 ${f0(b.p99)} ms, max ${f0(b.max)} ms (approvals queue behind each other in a burst; no target)`);
  const burstCpu = per1000(b.all.signer, b.issued);
  out(`- signer CPU: ${f2(b.issue.signer)} s from the first approval to the last certificate = ${f2(per1000(b.issue.signer, b.issued))} CPU-s per 1,000; ` +
    `with the creates and the Events after: ${f2(b.all.signer)} s = **${f2(burstCpu)} CPU-s per 1,000** — ≤ ${TARGETS.burstCpuPer1000}: ${verdict(burstCpu <= TARGETS.burstCpuPer1000)}`);
  target(`signer CPU per 1,000 certificates in the burst ≤ ${TARGETS.burstCpuPer1000} CPU-s`, `${f2(burstCpu)} CPU-s`, burstCpu <= TARGETS.burstCpuPer1000);
  out(`- signer CPU by thread, whole burst (CPU-s): ${threadLine(b.all)}`);
  out(`- signer memory: peak RSS (VmHWM) **${f0(b.signerMemory.peakMb)} MB** — ≤ ${TARGETS.burstPeakRssMb} MB: ${verdict(b.signerMemory.peakMb <= TARGETS.burstPeakRssMb)}; ` +
    `RSS when started and idle **${f0(b.idleMemory.rssMb)} MB** — ≤ ${TARGETS.idleRssMb} MB: ${verdict(b.idleMemory.rssMb <= TARGETS.idleRssMb)}; devapi peak ${f0(b.devapiMemory.peakMb)} MB`);
  target(`signer peak RSS (VmHWM) in the burst ≤ ${TARGETS.burstPeakRssMb} MB`, `${f0(b.signerMemory.peakMb)} MB`, b.signerMemory.peakMb <= TARGETS.burstPeakRssMb);
  target(`signer RSS when started and idle ≤ ${TARGETS.idleRssMb} MB`, `${f0(b.idleMemory.rssMb)} MB`, b.idleMemory.rssMb <= TARGETS.idleRssMb);
  out(`- who is busy, approval to last certificate (${f2(b.issue.wall)} s wall, ${f2(2 * b.issue.wall)} CPU-s on 2 cores): devapi ${f2(b.issue.devapi)}, signer ${f2(b.issue.signer)}, ` +
    `load generator ${f2(b.issue.load)}, other processes ${f2(b.issue.others)} CPU-s; during the creates (${f2(b.create.wall)} s): devapi ${f2(b.create.devapi)}, signer ${f2(b.create.signer)}, load generator ${f2(b.create.load)}, others ${f2(b.create.others)}`);
  out(`- check: ${b.check.once} of ${BURST} CSRs have exactly one certificate write in devapi's audit (approved, by the signer, none replaced); ` +
    `${b.check.extra} other writes; ${b.check.verified} certificates verify with the CA and carry their request's key and name; signer audit log lines: ${b.auditLines}; Go's crypto/x509 parses all and checks their signatures: ${b.check.goAccepts ? 'yes' : 'NO'}` +
    (b.check.problems.length ? `; PROBLEMS: ${b.check.problems.slice(0, 5).join('; ')}` : ''));
  out();

  const s = steadyRequests.length > 0 ? await steady(ca, steadyRequests) : undefined;
  if (s) reportSteady(s, steadyRequests);
  out(`SUMMARY burst ${f0(b.rate)} certs/s | burst p50/p99 ${f0(b.p50)}/${f0(b.p99)} ms | burst signer ${f2(per1000(b.all.signer, b.issued))} CPU-s/1000 | ` +
    `burst devapi ${f2(b.issue.devapi)} CPU-s | burst peak RSS ${f0(b.signerMemory.peakMb)} MB | ` +
    (s ? `steady p50/p99 ${f0(s.p50)}/${f0(s.p99)} ms | steady signer ${f2(per1000(s.all.signer, s.issued))} CPU-s/1000 | steady peak RSS ${f0(s.signerMemory.peakMb)} MB | ` : '') +
    `core ${f0(base.core)} certs/s | checks ${b.check.once}/${BURST}${s ? ` ${s.check.once}/${steadyRequests.length}` : ''}`);
  out(`load average at end: ${loadavg().map(f2).join(' ')}; total time ${f0((Date.now() - t0) / 1000)} s`);
  const allGood = b.check.problems.length === 0 && b.issued === BURST && (!s || (s.check.problems.length === 0 && s.issued === steadyRequests.length));
  target('signer checks: every CSR issued once by the signer (devapi audit), each certificate verifies and Go\'s crypto/x509 accepts it',
    `burst ${b.check.once}/${BURST}${s ? `, steady ${s.check.once}/${steadyRequests.length}` : ''}`, allGood);
  if (!allGood) process.exitCode = 1;
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
  process.exitCode = 1;
} finally {
  for (const c of children) c.kill('SIGKILL');
}
