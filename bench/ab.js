// `node bench/ab.js <dist dir>[:threadpool mode],… [key type] [in flight,…] [rounds]`: an A/B
// comparison of builds (or threadpool modes) of the PKI core, with the 1-thread crypto floor,
// in short interleaved runs: the floor, then every variant, then again, `rounds` times.
// The spec `go` adds bench/go-issuer (Go's crypto/x509, one request at a time in its own process,
// the same CA, requests, usages and duration) as a variant; its CPU figure is the Go process's own.
// Example, the committed core against the working tree:
//   git worktree add /tmp/before HEAD && (cd /tmp/before && npm ci && npm run build)
//   npm run build && node bench/ab.js /tmp/before/dist,dist:never,dist:auto P-256 1,8
import { createPrivateKey, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { floorOp, startGoIssuer } from './baselines.js';
import { makeFixtures, tbsLength, usages } from './fixtures.js';
import { median, rateAsync, rateSync, watchBackground } from './measure.js';

const [specs = 'dist', typeName = 'P-256', inFlightList = '1,8', roundsText = '9'] = process.argv.slice(2);
const rounds = Number(roundsText);
const runMs = 400;
const out = (line = '') => process.stdout.write(`${line}\n`);
/** The serials' randomness of a build without its own source (randomSource, which the signer uses). */
const ownRandom = (size) => randomFillSync(new Uint8Array(size));
const profile = { usages, maxDurationMs: 365 * 24 * 3_600_000 };

const fixtures = makeFixtures(8);
process.on('exit', () => fixtures.remove());
const type = fixtures.types.find((t) => t.name === typeName);
if (!type) throw new Error(`unknown key type ${typeName}`);
const files = {
  certificate: { name: type.caCert, bytes: readFileSync(type.caCert) },
  key: { name: type.caKey, bytes: readFileSync(type.caKey) },
};

const variants = [];
const stops = []; // the Go issuer's process, stopped at the end
for (const [i, spec] of specs.split(',').entries()) {
  if (spec === 'go') {
    if (variants.length === 0) throw new Error('name a build before go: the floor is sized from its certificate');
    const go = await startGoIssuer(fixtures.dir);
    stops.push(go.stop);
    await go.load(type.name, {
      caCertPem: readFileSync(type.caCert, 'latin1'), caKeyPem: readFileSync(type.caKey, 'latin1'),
      requestPems: type.requests.map((r) => r.pem), usages, ttlSeconds: profile.maxDurationMs / 1000,
    });
    variants.push({ name: `Go crypto/x509 (${go.goVersion}) ×1`, measure: (ms) => go.run(type.name, ms), runs: [], cpu: [] });
    continue;
  }
  const [dir, threadpool] = spec.split(':');
  const pki = await import(`${pathToFileURL(resolve(dir, 'pki', 'index.js')).href}?${i}`);
  const ca = await pki.loadCertificateAuthority(files, new Date());
  const random = pki.randomSource?.() ?? ownRandom;
  const op = (n) => pki.signRequest(type.requests[n % 8].pem, profile, ca, { now: new Date(), random, ...(threadpool ? { threadpool } : {}) });
  const sample = await op(0);
  if (variants.length === 0) {
    const floor = floorOp(type.requests, createPrivateKey(readFileSync(type.caKey)), type.digest, tbsLength(sample.der));
    variants.push({ name: 'crypto floor, 1 thread', measure: async (ms) => rateSync(floor, ms), runs: [], cpu: [] });
  }
  for (const k of inFlightList.split(',').map(Number)) {
    variants.push({ name: `${spec} ×${k}`, measure: (ms) => rateAsync(op, ms, k), runs: [], cpu: [] });
  }
}

for (const v of variants) await v.measure(300);
const backgrounds = [];
for (let r = 0; r < rounds; r++) {
  const stop = watchBackground();
  for (const v of variants) {
    // CPU time of this process (all its threads) per operation: on a busy machine, the figure least changed by other processes.
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await v.measure(runMs);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    // Go measures itself: { rate, perCpuSecond } of its process.
    const rate = typeof result === 'number' ? result : result.rate;
    v.runs.push(rate);
    v.cpu.push(typeof result === 'number' ? (cpu.user + cpu.system) / (rate * seconds) : 1e6 / result.perCpuSecond);
  }
  backgrounds.push(stop());
}
const [floor] = variants;
out(`${typeName}: ${rounds} rounds of ${runMs} ms per variant; other processes kept ${median(backgrounds).toFixed(2)} cores busy (median), ` +
  `${Math.max(...backgrounds).toFixed(2)} at most`);
out();
out('| variant | /s (median) | µs per op | / floor (median of per-round ratios) | CPU µs per op (median, min–max) | runs |');
out('|---|---:|---:|---:|---:|---|');
for (const v of variants) {
  const m = median(v.runs);
  const ratio = median(v.runs.map((x, i) => x / floor.runs[i]));
  const cpu = `${median(v.cpu).toFixed(0)} (${Math.min(...v.cpu).toFixed(0)}–${Math.max(...v.cpu).toFixed(0)})`;
  out(`| ${v.name} | ${Math.round(m).toLocaleString('en-US')} | ${(1e6 / m).toFixed(0)} | ${(ratio * 100).toFixed(0)}% | ${cpu} | ${v.runs.map(Math.round).join(' ')} |`);
}
for (const stop of stops) stop();
