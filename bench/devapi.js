// devapi throughput: 2,000 CSR creates and 2,000 /status writes over HTTPS with
// keep-alive and 8 requests in flight, while 3 watchers stream every event.
// Run after a build: `node bench/devapi.js` (npm run bench runs it after the PKI bench).
import { execFileSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { spawn } from 'node:child_process';
import { reportTarget } from './measure.js';
import { makeRequest } from './requests.js';

const COUNT = Number(process.env.BENCH_DEVAPI_CSRS ?? 2000);
const IN_FLIGHT = 8;
const WATCHERS = 3;

const dir = mkdtempSync(join(tmpdir(), 'devapi-bench-'));
// devapi runs as its own process, as in the end-to-end tests, so the load generator's CPU is apart.
const profile = process.env.BENCH_DEVAPI_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_DEVAPI_PROFILE_DIR}`] : [];
// BENCH_DEVAPI_NODE_ARGS: more flags for devapi's node (e.g. --perf-basic-prof for `perf record`).
const nodeArgs = (process.env.BENCH_DEVAPI_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const child = spawn(process.execPath, [...profile, ...nodeArgs, join(import.meta.dirname, '..', 'dist', 'cli.js'), 'devapi', '--state-dir', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'inherit'] });
const api = {
  url: await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { if (out.length < 65536) out += d; const m = /ready at (\S+)/.exec(out); if (m) resolve(m[1]); });
    child.once('exit', (code) => reject(new Error(`devapi exited with ${code}`)));
  }),
  stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }),
};
const token = /token: (\S+)/.exec(readFileSync(join(dir, 'state', 'admin.kubeconfig'), 'utf8'))?.[1] ?? '';
const signerToken = /token: (\S+)/.exec(readFileSync(join(dir, 'state', 'signer.kubeconfig'), 'utf8'))?.[1] ?? '';
const ca = readFileSync(join(dir, 'state', 'ca.pem'));
const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT, ca });
const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

function call(method, path, body, bearer = token) {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method, agent, headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => (res.statusCode && res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function watcher() {
  const counts = { events: 0 };
  const req = request(`${api.url}${csrPath}?watch=true`, { headers: { Authorization: `Bearer ${token}` }, ca }, (res) => {
    // Count newlines in the bytes: decoding every chunk would cost this process more than devapi's write of it.
    res.on('data', (d) => { for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) counts.events++; });
  });
  req.on('error', () => undefined);
  req.end();
  return { counts, stop: () => req.destroy() };
}

// CPU seconds used so far by devapi (all its threads) and by this load generator, to show who saturates the cores.
const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
function cpu() {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // Its main thread apart: the event loop is what saturates first.
  const main = readFileSync(`/proc/${child.pid}/task/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const own = process.cpuUsage();
  // The machine's busy time too: what neither process used was taken by something else running at the same time.
  const [, ...all] = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).map(Number) ?? [];
  const busy = all.reduce((a, b) => a + b, 0) - (all[3] ?? 0) - (all[4] ?? 0);
  return { devapi: (Number(stat[11]) + Number(stat[12])) / ticks, devapiMain: (Number(main[11]) + Number(main[12])) / ticks, load: (own.user + own.system) / 1e6, machine: busy / ticks };
}

async function pool(count, task) {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await task(next++);
  }));
  return (performance.now() - started) / 1000;
}

// Every CSR has its own key and request, as real ones do (devapi remembers verdicts on request bytes).
// Made in this process (~0.5 s for 2,000; one openssl process per request took 15 s, a minute when loaded).
const requests = Array.from({ length: COUNT }, (_, i) => Buffer.from(makeRequest(`bench-${i}`).pem).toString('base64'));
const watchers = Array.from({ length: WATCHERS }, watcher);
await new Promise((r) => setTimeout(r, 300));

try {
  const cpuBefore = cpu();
  const wallStart = performance.now();
  const createSeconds = await pool(COUNT, (i) => call('POST', csrPath, {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: `bench-${i}` },
    spec: { request: requests[i], signerName: 'example.com/bench', usages: ['digital signature', 'client auth'] },
  }));
  const objects = (await call('GET', csrPath)).items;
  const statusSeconds = await pool(objects.length, (i) => {
    const o = objects[i];
    return call('PUT', `${csrPath}/${o.metadata.name}/status`, { ...o, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'Bench', message: 'bench' }] } }, signerToken);
  });
  const deadline = Date.now() + 10_000;
  while (watchers.some((w) => w.counts.events < COUNT * 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const cpuAfter = cpu();
  const wall = (performance.now() - wallStart) / 1000;
  const total = createSeconds + statusSeconds;
  const delivered = watchers.reduce((n, w) => n + w.counts.events, 0);
  console.log(`devapi: ${COUNT} creates in ${createSeconds.toFixed(2)} s = ${Math.round(COUNT / createSeconds)} creates/s`);
  console.log(`devapi: ${objects.length} /status writes in ${statusSeconds.toFixed(2)} s = ${Math.round(objects.length / statusSeconds)} writes/s`);
  console.log(`devapi: ${WATCHERS} watchers received ${delivered} of ${WATCHERS * COUNT * 2} events = ${Math.round(delivered / total)} events/s delivered`);
  const used = (k) => cpuAfter[k] - cpuBefore[k];
  const others = used('machine') - used('devapi') - used('load');
  const perWrite = (k) => Math.round((used(k) * 1e6) / (COUNT * 2));
  console.log(`devapi: CPU s during the writes: devapi ${used('devapi').toFixed(2)} (${perWrite('devapi')} µs/write; event loop thread ${used('devapiMain').toFixed(2)}, ${perWrite('devapiMain')} µs/write), load generator ${used('load').toFixed(2)}, other processes ${Math.max(0, others).toFixed(2)}, of ${(2 * wall).toFixed(2)} on 2 cores`);
  const writesPerSecond = (COUNT * 2) / total;
  console.log(`devapi: all writes ${Math.round(writesPerSecond)} writes/s (target >= 1000): ${writesPerSecond >= 1000 ? 'met' : 'NOT met'}`);
  reportTarget('devapi.js', 'devapi writes (creates and /status), 8 in flight, 3 watchers ≥ 1,000/s', `${Math.round(writesPerSecond)}/s`, writesPerSecond >= 1000);
} finally {
  watchers.forEach((w) => w.stop());
  agent.destroy();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
}
