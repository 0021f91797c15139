// Scale and memory: `csr-signer run` started against a devapi that already holds 10,000 CSRs (2,000 for its
// signer name, 8,000 for others), and an optional soak at a steady rate. See README.md, "Scale and memory".
// Run after a build: `node bench/scale.js` (npm run bench runs it last).
//
// Knobs: BENCH_SCALE_RUNS (3), BENCH_SCALE_OURS (2000), BENCH_SCALE_FOREIGN (8000), BENCH_SCALE_APPROVED (1: also
// start a signer with the 2,000 approved; 0: skip), BENCH_SOAK_MINUTES (0 = no soak), BENCH_SOAK_RATE (20 CSRs/s),
// BENCH_SCALE_ONLY_SOAK (1: skip the scale runs).
import { Buffer } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { Agent, request } from 'node:https';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { productEnv, scratch } from './launch.js';
import { machineBusySeconds, median, processCpuSeconds, reportTarget } from './measure.js';
import { approved as approveObject, makeRequest } from './requests.js';

/* global AbortController -- Node's, as in every supported version */

const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 3);
const OURS = Number(process.env.BENCH_SCALE_OURS ?? 2000);
const FOREIGN = Number(process.env.BENCH_SCALE_FOREIGN ?? 8000);
const APPROVED_VARIANT = (process.env.BENCH_SCALE_APPROVED ?? '1') !== '0';
const SOAK_MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 0);
const SOAK_RATE = Number(process.env.BENCH_SOAK_RATE ?? 20);
const ONLY_SOAK = process.env.BENCH_SCALE_ONLY_SOAK === '1';
const IN_FLIGHT = 8;
const SIGNER = 'example.com/serving';
const FOREIGN_SIGNERS = ['example.com/client', 'example.org/serving', 'foreign.example.net/a', 'foreign.example.net/b'];
const USAGES = ['digital signature', 'key encipherment', 'server auth'];
const TARGETS = { readySeconds: 1.5, idleRssMb: 120, loadedRssMb: 160 };
const SETTLE_MS = 2000; // after ready, before RSS is read: the list pages are parsed, the first GCs have run
const SOAK_SAMPLE_MS = 10_000;
const SOAK_KEEP_MS = 60_000; // the bench deletes each CSR this long after creating it (a short csrcleaner): ~1,200 live CSRs
const SOAK_NO_GROWTH = { slopeMbPer10Min: 5, bandMb: 15 };

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const out = (line = '') => process.stdout.write(`${line}\n`);
const { dir, children, track } = scratch('scale-bench-');

// ------------------------------------------------------------------ requests
// A pool of PKCS#10 requests (P-256, CN and one DNS name) reused under distinct CSR names: the signer
// does not care that two CSRs share a key, and 10,000 fresh keys would cost more than the bench measures.

const pool = Array.from({ length: 64 }, (_, i) => Buffer.from(makeRequest(`pool-${i}.bench.example.com`).pem).toString('base64'));

const csrObject = (name, signerName, i) => ({
  apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
  spec: { request: pool[i % pool.length], signerName, usages: USAGES },
});
const approved = (o) => approveObject(o, 'bench/scale.js');

function makeCa() {
  const cert = join(dir, 'ca.pem');
  const key = join(dir, 'ca-key.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'pipe' });
  execFileSync('openssl', ['req', '-x509', '-new', '-key', key, '-subj', '/CN=csr-signer scale bench CA', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', cert], { stdio: 'pipe' });
  return { cert, key };
}

// ------------------------------------------------------------------ processes

const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const cpuOf = (pid) => processCpuSeconds(pid) * (100 / ticks);
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

function startProcess(args, logFile, env = process.env) {
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, 'pipe'], env });
  closeSync(fd);
  const exited = track(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  /** Polls `found(logText)` every `everyMs` until it returns something (30 s at most). */
  const waitFor = async (found, everyMs = 50) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await found(readFileSync(logFile, 'utf8'));
      if (value) return value;
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`${args.join(' ')} not ready in 30 s: ${stderr}`);
      await sleep(everyMs);
    }
  };
  return { child, waitFor, stop: () => { child.kill('SIGTERM'); return exited; } };
}

async function startDevapi(state) {
  mkdirSync(state, { recursive: true });
  const p = startProcess([cli, 'devapi', '--state-dir', state, '--port', '0'], join(state, '..', 'devapi.log'));
  const url = await p.waitFor((text) => /ready at (https:\/\/\S+)/.exec(text)?.[1]);
  const tokenOf = (id) => /token: (\S+)/.exec(readFileSync(join(state, `${id}.kubeconfig`), 'utf8'))?.[1] ?? '';
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT, ca: readFileSync(join(state, 'ca.pem')) });
  const admin = tokenOf('admin');
  const call = (method, path, body, token = admin, retry = true) => new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => (res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
    });
    // A kept-alive socket the server closed while idle: the request never reached it, send it once more (Node's
    // http docs, "reusedSocket").
    req.on('error', (e) => (retry && req.reusedSocket && e.code === 'ECONNRESET' ? call(method, path, body, token, false).then(resolve, reject) : reject(e)));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
  return { ...p, state, agent, call, tokenOf };
}

/** Runs `op(i)` for i in [0, count) with IN_FLIGHT in flight. */
async function inFlight(count, op) {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await op(next++);
  }));
}

const httpText = (url) => new Promise((resolve) => {
  const req = httpGet(url, { agent: false }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { text += d; });
    res.on('end', () => resolve({ status: res.statusCode, text }));
  });
  req.on('error', () => resolve({ status: 0, text: '' }));
});

/** The value of one sample of a Prometheus text exposition (first line whose name and labels start with `prefix`). */
const metric = (text, prefix) => {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
};

/**
 * Spawns the signer and times it: spawn → its `started` log line (with the sidecar address) → first 200 from
 * /readyz (polled every 10 ms). CPU of the signer from spawn to ready, and of devapi over the same window.
 */
async function startSigner(api, ca, logFile) {
  const devapiCpu0 = cpuOf(api.child.pid);
  const machine0 = machineBusySeconds();
  const self0 = processCpuSeconds();
  const t0 = performance.now();
  const p = startProcess([cli, 'run', '--kubeconfig', join(api.state, 'signer.kubeconfig'), '--cluster-signing-cert-file', ca.cert,
    '--cluster-signing-key-file', ca.key, '--signer-name', SIGNER, '--signer-unrestricted', '--leader-elect=false', '--http-address', '127.0.0.1:0'], logFile, productEnv());
  const address = await p.waitFor((text) => {
    for (const line of text.split('\n')) {
      if (!line.includes('"started"')) continue;
      const http = JSON.parse(line).http;
      if (http) return http.startsWith('http') ? http : `http://${http}`;
    }
    return undefined;
  }, 10);
  const startedAt = performance.now();
  await p.waitFor(async () => (await httpText(`${address}/readyz`)).status === 200, 10);
  const readyAt = performance.now();
  const signerCpu = cpuOf(p.child.pid);
  const devapiCpu = cpuOf(api.child.pid) - devapiCpu0;
  const others = Math.max(0, machineBusySeconds() - machine0 - signerCpu - devapiCpu - (processCpuSeconds() - self0));
  return {
    ...p, address,
    startup: { logged: (startedAt - t0) / 1000, ready: (readyAt - t0) / 1000, signerCpu, devapiCpu, othersCores: others / ((readyAt - t0) / 1000) },
  };
}

/** Starts a signer, waits SETTLE_MS after ready, reads its memory and metrics, stops it. */
async function measureStart(api, ca, label, afterReady = async () => undefined) {
  const signer = await startSigner(api, ca, join(dir, `signer-${label}.log`));
  try {
    const extra = await afterReady(signer);
    await sleep(SETTLE_MS);
    const memory = memoryOf(signer.child.pid);
    const metrics = (await httpText(`${signer.address}/metrics`)).text;
    return {
      ...signer.startup, ...memory, ...extra,
      approvedPending: metric(metrics, `csr_signer_approved_pending{signer="${SIGNER}"}`),
      issuedTotal: metric(metrics, `csr_signer_certificates_issued_total{signer="${SIGNER}"}`),
      heapMb: metric(metrics, 'nodejs_heap_size_used_bytes') / 2 ** 20,
    };
  } finally {
    await signer.stop();
  }
}

// ------------------------------------------------------------------ the scale run

async function scaleRun(ca, run) {
  const api = await startDevapi(join(dir, `run-${run}`, 'state'));
  try {
    const r = {};
    r.idle = await measureStart(api, ca, `${run}-idle`);
    const c0 = performance.now();
    await inFlight(OURS, (i) => api.call('POST', csrPath, csrObject(`ours-${i}`, SIGNER, i)));
    r.oursCreateSeconds = (performance.now() - c0) / 1000;
    r.ours = await measureStart(api, ca, `${run}-ours`);
    const c1 = performance.now();
    await inFlight(FOREIGN, (i) => api.call('POST', csrPath, csrObject(`foreign-${i}`, FOREIGN_SIGNERS[i % FOREIGN_SIGNERS.length], i)));
    r.foreignCreateSeconds = (performance.now() - c1) / 1000;
    r.all = await measureStart(api, ca, `${run}-all`);
    if (APPROVED_VARIANT) {
      await inFlight(OURS, async (i) => {
        const o = await api.call('GET', `${csrPath}/ours-${i}`);
        await api.call('PUT', `${csrPath}/ours-${i}/approval`, approved(o));
      });
      r.approved = await measureStart(api, ca, `${run}-approved`, async (signer) => {
        // Time from spawn until devapi has all OURS certificates written.
        const t = performance.now();
        for (;;) {
          const audit = await api.call('GET', '/devapi/v1/audit');
          if (audit.certificateWrites.length >= OURS || performance.now() - t > 120_000) {
            return { issuedSeconds: signer.startup.ready + (performance.now() - t) / 1000, writes: audit.certificateWrites.length, issueCpu: cpuOf(signer.child.pid) };
          }
          await sleep(100);
        }
      });
    }
    r.devapiRssMb = memoryOf(api.child.pid).rssMb;
    return r;
  } finally {
    api.agent.destroy();
    await api.stop();
  }
}

// ------------------------------------------------------------------ the soak

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function soak(ca) {
  const api = await startDevapi(join(dir, 'soak', 'state'));
  const signer = await startSigner(api, ca, join(dir, 'signer-soak.log'));
  const seconds = SOAK_MINUTES * 60;
  const warmupSeconds = Math.max(120, seconds / 6);
  const samples = [];
  const errors = [];
  let created = 0;
  let deleted = 0;
  const pending = new Set();
  const stopped = new AbortController();
  setMaxListeners(0, stopped.signal); // one listener per CSR waiting for its delete
  try {
    const [requester, approver] = [api.tokenOf('requester'), api.tokenOf('approver')];
    const start = performance.now() + 20;
    const cpu0 = cpuOf(signer.child.pid);
    // Other processes' cores since the previous sample: machine busy time minus signer, devapi and this process.
    let busy = { at: performance.now(), machine: machineBusySeconds(), ours: cpuOf(signer.child.pid) + cpuOf(api.child.pid) + processCpuSeconds() };
    const sample = async () => {
      const t = Math.max(0, (performance.now() - start) / 1000);
      const now = { at: performance.now(), machine: machineBusySeconds(), ours: cpuOf(signer.child.pid) + cpuOf(api.child.pid) + processCpuSeconds() };
      const othersCores = Math.max(0, (now.machine - busy.machine - (now.ours - busy.ours)) / Math.max(0.001, (now.at - busy.at) / 1000));
      busy = now;
      const metrics = (await httpText(`${signer.address}/metrics`)).text;
      samples.push({
        t, ...memoryOf(signer.child.pid), cpu: cpuOf(signer.child.pid) - cpu0, othersCores,
        lag: metric(metrics, 'nodejs_eventloop_lag_seconds '), lagMax: metric(metrics, 'nodejs_eventloop_lag_max_seconds '),
        lagP99: metric(metrics, 'nodejs_eventloop_lag_p99_seconds '), heapMb: metric(metrics, 'nodejs_heap_size_used_bytes ') / 2 ** 20,
        issued: metric(metrics, `csr_signer_certificates_issued_total{signer="${SIGNER}"}`),
        pendingApproved: metric(metrics, `csr_signer_approved_pending{signer="${SIGNER}"}`),
      });
    };
    await sample();
    const sampler = setInterval(() => { sample().catch((e) => errors.push(e.message)); }, SOAK_SAMPLE_MS);
    const total = Math.round(seconds * SOAK_RATE);
    // CSR i is created at start + i / RATE and approved at once; deleted SOAK_KEEP_MS after its creation.
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / SOAK_RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const name = `soak-${i}`;
      const job = (async () => {
        try {
          const o = await api.call('POST', csrPath, csrObject(name, SIGNER, i), requester);
          created++;
          await api.call('PUT', `${csrPath}/${name}/approval`, approved(o), approver);
          await sleep(SOAK_KEEP_MS, undefined, { signal: stopped.signal });
          await api.call('DELETE', `${csrPath}/${name}`);
          deleted++;
        } catch (e) {
          if (!stopped.signal.aborted) errors.push(e.message);
        }
      })();
      pending.add(job);
      job.finally(() => pending.delete(job));
    }
    const sendSeconds = (performance.now() - start) / 1000;
    await sleep(SOAK_SAMPLE_MS); // one more sample with the load still on (the deletes run on)
    clearInterval(sampler);
    await sample();
    const audit = await api.call('GET', '/devapi/v1/audit');
    const after = samples.filter((s) => s.t >= warmupSeconds);
    const rssSlope = slope(after.map((s) => ({ x: s.t, y: s.rssMb }))) * 600;
    const heapSlope = slope(after.map((s) => ({ x: s.t, y: s.heapMb }))) * 600;
    const first = after[0]?.rssMb ?? NaN;
    const band = Math.max(...after.map((s) => Math.abs(s.rssMb - first)));
    return {
      seconds, warmupSeconds, sendSeconds, total, created, deleted, errors, samples, after, rssSlope, heapSlope, band,
      writes: audit.certificateWrites.length, cpu: samples.at(-1).cpu,
      noGrowth: Math.abs(rssSlope) <= SOAK_NO_GROWTH.slopeMbPer10Min && band <= SOAK_NO_GROWTH.bandMb,
    };
  } finally {
    stopped.abort();
    await Promise.race([Promise.all(pending), sleep(1000)]);
    api.agent.destroy();
    await signer.stop();
    await api.stop();
  }
}

// ------------------------------------------------------------------ report

const f0 = (n) => Math.round(n).toLocaleString('en-US');
const f1 = (n) => n.toFixed(1);
const f2 = (n) => n.toFixed(2);
const verdict = (ok) => (ok ? 'target met' : 'target NOT met');
const target = (what, figure, pass) => reportTarget('scale.js', what, figure, pass);

function reportScale(runs) {
  const row = (label, pick, fmt = f2) => out(`| ${label} | ${runs.map((r) => fmt(pick(r))).join(' | ')} | **${fmt(median(runs.map(pick)))}** |`);
  out(`## Scale: ${f0(OURS)} CSRs for ${SIGNER} and ${f0(FOREIGN)} for ${FOREIGN_SIGNERS.length} other signer names, created (admin, ${IN_FLIGHT} in flight) before each signer starts`);
  out(`| | ${runs.map((_, i) => `run ${i + 1}`).join(' | ')} | median |`);
  out(`|---|${runs.map(() => '---:').join('|')}|---:|`);
  for (const [key, label] of [['idle', 'no CSRs'], ['ours', `${f0(OURS)} ours`], ['all', `${f0(OURS)} ours + ${f0(FOREIGN)} foreign`], ...(APPROVED_VARIANT ? [['approved', `same, the ${f0(OURS)} approved`]] : [])]) {
    row(`${label}: spawn → /readyz 200, s`, (r) => r[key].ready);
    row(`${label}: spawn → \`started\` logged, s`, (r) => r[key].logged);
    row(`${label}: signer CPU-s, spawn → ready`, (r) => r[key].signerCpu);
    row(`${label}: devapi CPU-s, same window`, (r) => r[key].devapiCpu);
    row(`${label}: other processes, cores`, (r) => r[key].othersCores);
    row(`${label}: signer RSS ${SETTLE_MS / 1000} s after ready, MB`, (r) => r[key].rssMb, f0);
    row(`${label}: signer peak RSS (VmHWM), MB`, (r) => r[key].peakMb, f0);
    row(`${label}: V8 heap used, MB`, (r) => r[key].heapMb, f1);
    row(`${label}: csr_signer_approved_pending`, (r) => r[key].approvedPending, f0);
  }
  if (APPROVED_VARIANT) {
    row(`approved: spawn → all ${f0(OURS)} certificates written, s`, (r) => r.approved.issuedSeconds);
    row('approved: certificate writes in devapi audit', (r) => r.approved.writes, f0);
    row('approved: signer CPU-s, spawn → all written', (r) => r.approved.issueCpu);
  }
  row(`creating ${f0(OURS)} ours, s`, (r) => r.oursCreateSeconds);
  row(`creating ${f0(FOREIGN)} foreign, s`, (r) => r.foreignCreateSeconds);
  row('devapi RSS at the end, MB', (r) => r.devapiRssMb, f0);
  out();
  const m = (pick) => median(runs.map(pick));
  const perCsrKb = ((m((r) => r.ours.rssMb) - m((r) => r.idle.rssMb)) * 1024) / OURS;
  const foreignMb = m((r) => r.all.rssMb) - m((r) => r.ours.rssMb);
  const worst = Math.max(...runs.map((r) => r.all.ready));
  out(`- startup to ready, ${f0(OURS + FOREIGN)}-CSR case: median **${f2(m((r) => r.all.ready))} s** (worst ${f2(worst)} s) — ≤ ${TARGETS.readySeconds} s: ${verdict(m((r) => r.all.ready) <= TARGETS.readySeconds)}`);
  target(`signer startup to ready with ${f0(OURS + FOREIGN)} CSRs ≤ ${TARGETS.readySeconds} s`, `${f2(m((r) => r.all.ready))} s (median; worst ${f2(worst)} s)`, m((r) => r.all.ready) <= TARGETS.readySeconds);
  out(`- idle RSS: median **${f0(m((r) => r.idle.rssMb))} MB** — ≤ ${TARGETS.idleRssMb} MB: ${verdict(m((r) => r.idle.rssMb) <= TARGETS.idleRssMb)}`);
  target(`signer RSS with no CSRs, 2 s after ready ≤ ${TARGETS.idleRssMb} MB`, `${f0(m((r) => r.idle.rssMb))} MB (median)`, m((r) => r.idle.rssMb) <= TARGETS.idleRssMb);
  out(`- RSS after the ${f0(OURS + FOREIGN)}-CSR case: median **${f0(m((r) => r.all.rssMb))} MB** (peak ${f0(m((r) => r.all.peakMb))} MB) — ≤ ${TARGETS.loadedRssMb} MB: ${verdict(m((r) => r.all.rssMb) <= TARGETS.loadedRssMb)}`);
  target(`signer RSS with ${f0(OURS + FOREIGN)} CSRs ≤ ${TARGETS.loadedRssMb} MB`, `${f0(m((r) => r.all.rssMb))} MB (median)`, m((r) => r.all.rssMb) <= TARGETS.loadedRssMb);
  const heapPerCsrKb = ((m((r) => r.ours.heapMb) - m((r) => r.idle.heapMb)) * 1024) / OURS;
  out(`- field selector: ${f0(OURS)} ours cost ${f1(perCsrKb)} KB of RSS (${f1(heapPerCsrKb)} KB of V8 heap) each over idle; adding ${f0(FOREIGN)} foreign CSRs changed RSS by ${f1(foreignMb)} MB ` +
    `and the heap by ${f1(m((r) => r.all.heapMb) - m((r) => r.ours.heapMb))} MB (held in memory they would cost about ${f0((perCsrKb * FOREIGN) / 1024)} MB of RSS, ` +
    `${f0((heapPerCsrKb * FOREIGN) / 1024)} MB of heap), and the signer's CPU to ready by ${f2(m((r) => r.all.signerCpu) - m((r) => r.ours.signerCpu))} CPU-s`);
  out();
}

function reportSoak(s) {
  out(`## Soak: ${SOAK_RATE} CSRs/s for ${SOAK_MINUTES} min (create, approve; each deleted ${SOAK_KEEP_MS / 1000} s after creation), samples every ${SOAK_SAMPLE_MS / 1000} s`);
  out(`- CSRs: ${f0(s.created)} created of ${f0(s.total)} (sent in ${f1(s.sendSeconds)} s), ${f0(s.writes)} certificates written, ${f0(s.deleted)} deleted; errors: ${s.errors.length}${s.errors.length ? ` (${s.errors.slice(0, 3).join('; ')})` : ''}`);
  out(`- signer CPU: ${f1(s.cpu)} CPU-s = ${f2((s.cpu * 1000) / Math.max(1, s.writes))} per 1,000 certificates`);
  out('| t, s | RSS, MB | heap used, MB | lag at scrape, ms | lag max (10 s), ms | lag p99, ms | issued | approved pending | other processes, cores |');
  out('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const x of s.samples) out(`| ${f0(x.t)} | ${f0(x.rssMb)} | ${f1(x.heapMb)} | ${f1(x.lag * 1000)} | ${f1(x.lagMax * 1000)} | ${f1(x.lagP99 * 1000)} | ${f0(x.issued)} | ${f0(x.pendingApproved)} | ${f2(x.othersCores)} |`);
  const lagMax = Math.max(...s.samples.map((x) => x.lagMax)) * 1000;
  out(`- after the ${f0(s.warmupSeconds)} s warm-up: RSS ${f0(Math.min(...s.after.map((x) => x.rssMb)))}–${f0(Math.max(...s.after.map((x) => x.rssMb)))} MB, slope **${f1(s.rssSlope)} MB per 10 min** ` +
    `(heap used ${f1(s.heapSlope)} MB per 10 min), largest distance from the first post-warm-up sample ${f1(s.band)} MB; peak RSS (VmHWM) ${f0(s.samples.at(-1).peakMb)} MB`);
  out(`- event-loop lag: max ${f1(lagMax)} ms, median of the 10 s maxima ${f1(median(s.samples.map((x) => x.lagMax)) * 1000)} ms`);
  out(`- verdict: ${s.noGrowth ? '**no growth**' : '**growth (or noise above the bound)**'} (bound: |slope| ≤ ${SOAK_NO_GROWTH.slopeMbPer10Min} MB per 10 min and every post-warm-up sample within ${SOAK_NO_GROWTH.bandMb} MB of the first)`);
  out();
}

async function main() {
  const t0 = Date.now();
  out('# csr-signer bench: scale and memory');
  out(`date: ${new Date().toISOString()}; machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${f0(totalmem() / 2 ** 30)} GB; node ${process.version}; load average at start: ${loadavg().map(f2).join(' ')}`);
  const ca = makeCa();
  if (!ONLY_SOAK) {
    const runs = [];
    for (let i = 1; i <= RUNS; i++) runs.push(await scaleRun(ca, i));
    reportScale(runs);
  }
  if (SOAK_MINUTES > 0) reportSoak(await soak(ca));
  else out('soak: skipped (BENCH_SOAK_MINUTES=0; e.g. `BENCH_SOAK_MINUTES=30 node bench/scale.js` for the 30-minute soak)');
  out(`load average at end: ${loadavg().map(f2).join(' ')}; total time ${f0((Date.now() - t0) / 1000)} s`);
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
  process.exitCode = 1;
} finally {
  for (const c of children) c.kill('SIGKILL');
}
