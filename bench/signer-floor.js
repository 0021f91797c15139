// The floor of a Node signer end to end, beside the signer itself in the same window.
// The "floor" is a child process that does per CSR only what any signer must: read the watch events'
// JSON (one keep-alive HTTPS watch), `signRequest` from dist/pki, one keep-alive HTTPS PUT of
// /status and one POST of an Event. No cache, queue, decision ladder, logging, metrics or retries.
// Each round runs the same burst as bench/signer.js (2,000 CSRs created, then approved, 8 in
// flight) against a fresh devapi twice, once with `csr-signer run` and once with the floor, in
// alternating order, and reports each one's CPU-s per 1,000 certificates and their ratio.
// Run after a build: `node bench/signer-floor.js`. Knobs: BENCH_FLOOR_ROUNDS (3), BENCH_SIGNER_BURST
// (2000), BENCH_SIGNER_ARGS (extra `run` flags), BENCH_SIGNER_NODE_ARGS (node flags for both).
import { Buffer } from 'node:buffer';
import { execFileSync, fork, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { productEnv, scratch } from './launch.js';
import { approved as approveObject, makeRequest } from './requests.js';
import { eachLine, median, processCpuSeconds } from './measure.js';

const SIGNER = 'example.com/serving';
const USAGES = ['digital signature', 'key encipherment', 'server auth'];
const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const NODE_ARGS = (process.env.BENCH_SIGNER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

// ------------------------------------------------------------------ the floor (child process)

/** One keep-alive HTTPS request; resolves with the status and, when `parse`, the JSON answer. */
function call(agent, url, token, method, path, body, parse) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = request(`${url}${path}`, { method, agent, headers }, (res) => {
      if (!parse) {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
        return;
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function floorMain() {
  const { url, token, caPem, caCertFile, caKeyFile, workers } = JSON.parse(process.env.FLOOR_CONFIG);
  const { loadCertificateAuthority, signRequest, randomSource } = await import('../dist/pki/index.js');
  const authority = await loadCertificateAuthority({
    certificate: { name: caCertFile, bytes: readFileSync(caCertFile) }, key: { name: caKeyFile, bytes: readFileSync(caKeyFile) },
  }, new Date());
  const profile = { usages: USAGES, maxDurationMs: 365 * 24 * 3_600_000 };
  const random = randomSource(); // the serials' randomness, as the signer draws it
  const agent = new Agent({ keepAlive: true, maxSockets: 16, ca: caPem });
  const done = new Set();
  const queue = [];
  let busy = 0;
  let issued = 0;
  let failures = 0;

  async function sign(csr) {
    const now = new Date();
    const cert = await signRequest(Buffer.from(csr.spec.request, 'base64'), profile, authority, { now, random });
    const name = csr.metadata.name;
    const put = await call(agent, url, token, 'PUT', `${csrPath}/${name}/status`,
      { ...csr, status: { ...csr.status, certificate: Buffer.from(cert.pem).toString('base64') } }, false);
    if (put.status !== 200) throw new Error(`PUT ${name}/status: ${put.status}`);
    const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const event = await call(agent, url, token, 'POST', '/api/v1/namespaces/default/events', {
      apiVersion: 'v1', kind: 'Event', metadata: { generateName: `${name}.`, namespace: 'default' },
      involvedObject: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name, uid: csr.metadata.uid },
      type: 'Normal', reason: 'CertificateIssued', message: `Issued certificate serial ${cert.serialHex}`,
      source: { component: 'csr-signer-floor' }, firstTimestamp: time, lastTimestamp: time, count: 1,
    }, false);
    if (event.status !== 201) throw new Error(`POST event for ${name}: ${event.status}`);
    issued++;
  }
  const pump = () => {
    while (busy < workers && queue.length > 0) {
      const csr = queue.shift();
      busy++;
      sign(csr).catch(() => { failures++; done.delete(csr.metadata.name); }).finally(() => { busy--; pump(); });
    }
  };
  const onEvent = (e) => {
    const csr = e.object;
    if (e.type === 'DELETED' || csr.status?.certificate || done.has(csr.metadata.name)) return;
    if (!(csr.status?.conditions ?? []).some((c) => c.type === 'Approved' && c.status === 'True')) return;
    done.add(csr.metadata.name);
    queue.push(csr);
    pump();
  };

  const watchPath = `${csrPath}?watch=1&fieldSelector=${encodeURIComponent(`spec.signerName=${SIGNER}`)}`;
  const req = request(`${url}${watchPath}`, { agent, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } }, (res) => {
    eachLine(res, (line) => onEvent(JSON.parse(line)));
  });
  req.end();
  process.on('message', (m) => {
    if (m === 'cpu') process.send({ cpu: process.cpuUsage(), issued, failures });
    if (m === 'stop') { req.destroy(); agent.destroy(); process.disconnect(); }
  });
  process.send({ ready: true });
}

// ------------------------------------------------------------------ the driver

const out = (line = '') => process.stdout.write(`${line}\n`);
const f2 = (n) => n.toFixed(2);
const f0 = (n) => Math.round(n).toLocaleString('en-US');

async function driverMain() {
  const ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 3);
  const BURST = Number(process.env.BENCH_SIGNER_BURST ?? 2000);
  const EXTRA_ARGS = (process.env.BENCH_SIGNER_ARGS ?? '').split(/\s+/).filter(Boolean);
  const IN_FLIGHT = 8;
  const WORKERS = 5; // as `csr-signer run`'s default --workers
  const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
  const { dir, track } = scratch('signer-floor-');

  const cpuOf = (pid) => processCpuSeconds(pid);
  const waitFor = async (what, check, ms = 30_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = await check();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`${what}: not ready in ${ms / 1000} s`);
      await sleep(50);
    }
  };
  const startLogged = (args, logFile, env = process.env) => {
    const fd = openSync(logFile, 'w');
    const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    const exited = track(child);
    return { child, stop: () => { child.kill('SIGTERM'); return exited; } };
  };

  // CA and requests, as bench/signer.js makes them.
  const caCertFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', caKeyFile], { stdio: 'pipe' });
  execFileSync('openssl', ['req', '-x509', '-new', '-key', caKeyFile, '-subj', '/CN=csr-signer bench CA', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash', '-out', caCertFile], { stdio: 'pipe' });
  const requests = Array.from({ length: BURST }, (_, i) => makeRequest(`burst-${i}.bench.example.com`));

  async function oneBurst(kind, round) {
    const state = join(dir, `${kind}-${round}`, 'state');
    mkdirSync(state, { recursive: true });
    const devapiLog = join(state, '..', 'devapi.log');
    const api = startLogged([cli, 'devapi', '--state-dir', state, '--port', '0'], devapiLog);
    const url = await waitFor('devapi', () => /ready at (https:\/\/\S+)/.exec(readFileSync(devapiLog, 'utf8'))?.[1]);
    const tokenOf = (id) => /token: (\S+)/.exec(readFileSync(join(state, `${id}.kubeconfig`), 'utf8'))?.[1] ?? '';
    const caPem = readFileSync(join(state, 'ca.pem'));
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT, ca: caPem });
    const api$ = async (method, path, body, id = 'admin') => {
      const r = await call(agent, url, tokenOf(id), method, path, body, true);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const watches = async () => (await api$('GET', '/devapi/v1/audit')).openWatches;
    const before0 = await watches();
    let signer;
    let cpu; // () => Promise<CPU seconds of the signer process>
    if (kind === 'signer') {
      signer = startLogged([...NODE_ARGS, cli, 'run', '--kubeconfig', join(state, 'signer.kubeconfig'),
        '--cluster-signing-cert-file', caCertFile, '--cluster-signing-key-file', caKeyFile, '--signer-name', SIGNER, '--signer-unrestricted', '--leader-elect=false', ...EXTRA_ARGS],
      join(state, '..', 'signer.log'), productEnv());
      cpu = async () => cpuOf(signer.child.pid);
    } else {
      const child = fork(import.meta.filename, [], {
        execArgv: NODE_ARGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // The floor runs with the signer's Node flags (productEnv), so that the two compare like for like.
        env: { ...productEnv(), FLOOR_CONFIG: JSON.stringify({ url, token: tokenOf('signer'), caPem: caPem.toString(), caCertFile, caKeyFile, workers: WORKERS }) },
      });
      const exited = track(child);
      let answer = () => undefined;
      child.on('message', (m) => answer(m));
      const ask = () => new Promise((resolve) => { answer = resolve; child.send('cpu'); });
      signer = { child, stop: () => { child.send('stop'); return exited; } };
      cpu = async () => {
        const m = await ask();
        return { seconds: (m.cpu.user + m.cpu.system) / 1e6, failures: m.failures };
      };
    }
    // Ready when its watch is open, as in bench/signer.js.
    await waitFor(kind, async () => {
      if (signer.child.exitCode !== null) throw new Error(`${kind} exited: ${readFileSync(join(state, '..', 'signer.log'), 'utf8').slice(-2000)}`);
      return (await watches()) > before0;
    }, 60_000);
    // The certificates, seen on a watch of our own.
    const issued = new Set();
    let onIssued = () => undefined;
    const watchReq = request(`${url}${csrPath}?watch=true`, { headers: { Authorization: `Bearer ${tokenOf('admin')}` }, ca: caPem }, (res) => {
      eachLine(res, (line) => {
        if (!line.includes('"certificate":"')) return;
        issued.add(JSON.parse(line).object.metadata.name);
        onIssued();
      });
    });
    watchReq.on('error', () => undefined);
    watchReq.end();
    try {
      await sleep(500);
      const cpuNow = async () => { const c = await cpu(); return typeof c === 'number' ? { seconds: c, proc: c } : { ...c, proc: cpuOf(signer.child.pid) }; };
      const c0 = await cpuNow();
      const d0 = cpuOf(api.child.pid);
      const created = new Array(requests.length);
      let next = 0;
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < requests.length) {
          const i = next++;
          created[i] = await api$('POST', csrPath, {
            apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: requests[i].name },
            spec: { request: Buffer.from(requests[i].pem).toString('base64'), signerName: SIGNER, usages: USAGES },
          }, 'requester');
        }
      }));
      next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < created.length) {
          const o = created[next++];
          await api$('PUT', `${csrPath}/${o.metadata.name}/approval`, approveObject(o, 'bench/signer-floor.js'), 'approver');
        }
      }));
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 60_000);
        onIssued = () => { if (issued.size >= requests.length) { clearTimeout(timer); resolve(); } };
        onIssued();
      });
      const seconds = (performance.now() - t0) / 1000;
      await sleep(500); // the Events after the last status write
      const c1 = await cpuNow();
      const audit = await api$('GET', '/devapi/v1/audit');
      const writes = audit.certificateWrites.length;
      return {
        kind, issued: issued.size, writes, rate: issued.size / seconds, cpuPer1000: ((c1.seconds - c0.seconds) * 1000) / issued.size,
        procPer1000: ((c1.proc - c0.proc) * 1000) / issued.size, devapiPer1000: ((cpuOf(api.child.pid) - d0) * 1000) / issued.size,
        failures: c1.failures ?? 0,
      };
    } finally {
      watchReq.destroy();
      agent.destroy();
      await signer.stop();
      await api.stop();
    }
  }

  out('# csr-signer bench: the signer beside the floor of a Node signer');
  out(`date: ${new Date().toISOString()}; node ${process.version}; load average at start: ${loadavg().map(f2).join(' ')}; ${BURST} CSRs per burst, ${ROUNDS} rounds`);
  const results = { signer: [], floor: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['signer', 'floor'] : ['floor', 'signer'];
    for (const kind of order) {
      const r = await oneBurst(kind, round);
      results[kind].push(r);
      out(`round ${round + 1} ${kind.padEnd(6)}: ${r.issued}/${BURST} certificates (${r.writes} certificate writes), ${f0(r.rate)}/s; ` +
        `**${f2(r.cpuPer1000)} CPU-s per 1,000** (/proc: ${f2(r.procPer1000)}); devapi ${f2(r.devapiPer1000)} CPU-s per 1,000${r.failures ? `; ${r.failures} failures` : ''}; load ${loadavg()[0].toFixed(2)}`);
    }
  }
  const m = (kind, key) => median(results[kind].map((r) => r[key]));
  const range = (kind, key) => `${f2(Math.min(...results[kind].map((r) => r[key])))}–${f2(Math.max(...results[kind].map((r) => r[key])))}`;
  const ratios = results.signer.map((s, i) => s.procPer1000 / results.floor[i].procPer1000);
  out(`SUMMARY signer ${f2(m('signer', 'procPer1000'))} (${range('signer', 'procPer1000')}) CPU-s/1000 at ${f0(m('signer', 'rate'))}/s | ` +
    `floor ${f2(m('floor', 'cpuPer1000'))} (${range('floor', 'cpuPer1000')}) CPU-s/1000 at ${f0(m('floor', 'rate'))}/s | ` +
    `signer ÷ floor ${f2(median(ratios))} (${f2(Math.min(...ratios))}–${f2(Math.max(...ratios))}) | load average at end ${loadavg().map(f2).join(' ')}`);
  const bad = [...results.signer, ...results.floor].filter((r) => r.issued !== BURST || r.writes !== BURST);
  if (bad.length > 0) {
    out(`PROBLEMS: ${bad.map((r) => `${r.kind}: ${r.issued} issued, ${r.writes} writes`).join('; ')}`);
    process.exitCode = 1;
  }
}

if (process.env.FLOOR_CONFIG) await floorMain();
else await driverMain();
