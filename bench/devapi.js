// devapi throughput: 2,000 CSR creates and 2,000 /status writes over HTTPS with
// keep-alive and 8 requests in flight, while 3 watchers stream every event.
// Run after a build: `node bench/devapi.js` (npm run bench runs it after the PKI bench).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { spawn } from 'node:child_process';

const COUNT = Number(process.env.BENCH_DEVAPI_CSRS ?? 2000);
const IN_FLIGHT = 8;
const WATCHERS = 3;

const dir = mkdtempSync(join(tmpdir(), 'devapi-bench-'));
// devapi runs as its own process, as in the end-to-end tests, so the load generator's CPU is apart.
const profile = process.env.BENCH_DEVAPI_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_DEVAPI_PROFILE_DIR}`] : [];
const child = spawn(process.execPath, [...profile, join(import.meta.dirname, '..', 'dist', 'cli.js'), 'devapi', '--state-dir', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'inherit'] });
const api = {
  url: await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; const m = /ready at (\S+)/.exec(out); if (m) resolve(m[1]); });
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
    res.on('data', (d) => { counts.events += d.toString().split('\n').length - 1; });
  });
  req.on('error', () => undefined);
  req.end();
  return { counts, stop: () => req.destroy() };
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
const script = `for i in $(seq 1 ${COUNT}); do openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=bench-$i 2>/dev/null | base64 -w0; echo; done`;
const requests = execFileSync('sh', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim().split('\n');
const watchers = Array.from({ length: WATCHERS }, watcher);
await new Promise((r) => setTimeout(r, 300));

try {
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
  const total = createSeconds + statusSeconds;
  const delivered = watchers.reduce((n, w) => n + w.counts.events, 0);
  console.log(`devapi: ${COUNT} creates in ${createSeconds.toFixed(2)} s = ${Math.round(COUNT / createSeconds)} creates/s`);
  console.log(`devapi: ${objects.length} /status writes in ${statusSeconds.toFixed(2)} s = ${Math.round(objects.length / statusSeconds)} writes/s`);
  console.log(`devapi: ${WATCHERS} watchers received ${delivered} of ${WATCHERS * COUNT * 2} events = ${Math.round(delivered / total)} events/s delivered`);
  console.log(`devapi: all writes ${Math.round((COUNT * 2) / total)} writes/s (target >= 1000): ${(COUNT * 2) / total >= 1000 ? 'met' : 'NOT met'}`);
} finally {
  watchers.forEach((w) => w.stop());
  agent.destroy();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
}
