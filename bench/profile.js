// `node bench/profile.js [key type] [seconds] [in flight]` (after `npm run build`):
// profiles a loop of signRequest (sequential, or with that many calls in flight)
// with the V8 CPU profiler and prints the top functions by self time and the
// inclusive time of the core's main steps.
// Writes the raw profile to the temp dir too (open it in Chrome DevTools).
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { loadCertificateAuthority, signRequest, randomSource } from '../dist/pki/index.js';
import { keyTypes, makeFixtures, usages } from './fixtures.js';
import { watchBackground } from './measure.js';

const typeName = process.argv[2] ?? 'P-256';
const seconds = Number(process.argv[3] ?? '5');
const inFlight = Number(process.argv[4] ?? '1');
const out = (line = '') => process.stdout.write(`${line}\n`);

const fixtures = makeFixtures(8);
const type = fixtures.types.find((t) => t.name === typeName);
if (!type) throw new Error(`unknown key type ${typeName}; one of ${keyTypes.map((t) => t.name).join(', ')}`);
const ca = await loadCertificateAuthority({
  certificate: { name: type.caCert, bytes: readFileSync(type.caCert) },
  key: { name: type.caKey, bytes: readFileSync(type.caKey) },
}, new Date());
const profile = { usages, maxDurationMs: 365 * 24 * 3_600_000 };
const random = randomSource(); // the serials' randomness, as the signer draws it
const loop = async (ms) => {
  let n = 0;
  const start = performance.now();
  const one = async () => {
    while (performance.now() - start < ms) await signRequest(type.requests[n++ % 8].pem, profile, ca, { now: new Date(), random });
  };
  await Promise.all(Array.from({ length: inFlight }, one));
  return n / ((performance.now() - start) / 1000);
};

const unprofiled = await loop(2000); // warm-up, and the rate without the profiler
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const background = watchBackground();
const rate = await loop(seconds * 1000);
const otherCores = background();
const { profile: cpu } = await session.post('Profiler.stop');
session.disconnect();
const file = join(fixtures.dir, '..', `csr-signer-${typeName}.cpuprofile`);
writeFileSync(file, JSON.stringify(cpu));
fixtures.remove();

// Self time per node from the samples, then per function.
const nodes = new Map(cpu.nodes.map((n) => [n.id, n]));
const self = new Map();
cpu.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (cpu.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const label = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:internal\//, 'node:')}:${f.lineNumber + 1}` : '(native)';
  return `${f.functionName || '(anonymous)'} ${where}`;
};
const byFunction = new Map();
for (const [id, us] of self) {
  const key = label(nodes.get(id));
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
out(`${typeName}, ${inFlight} in flight: ${Math.round(rate)} certs/s while profiled (${seconds} s, ${(1e6 / rate).toFixed(0)} µs per certificate); ` +
  `${Math.round(unprofiled)} certs/s in the 2 s warm-up without the profiler`);
out(`other processes kept ${otherCores.toFixed(2)} cores busy meanwhile`);
out();
out('top self time:');
for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  out(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
}

// Inclusive time of named steps (a step's own time plus its callees'), counted once per sample.
const parent = new Map();
for (const n of cpu.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const steps = ['decodeRequestBytes', 'parseRequestDer', 'parseRequestDerAsync', 'parseName', 'readPublicKey', 'createPublicKey',
  'verifyRequestSignature', 'verifyRequestSignatureOffThread', 'readAttributes', 'issue', 'tbsCertificate', 'profileExtensions', 'sign',
  'signOffThread', 'encodePem', 'encodeTime', 'validityWindow'];
const inclusive = new Map(steps.map((s) => [s, 0]));
for (const [id, us] of self) {
  const seen = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const name = nodes.get(n).callFrame.functionName;
    if (inclusive.has(name) && !seen.has(name)) {
      seen.add(name);
      inclusive.set(name, inclusive.get(name) + us);
    }
  }
}
const gc = [...byFunction].filter(([k]) => k.startsWith('(garbage collector)')).reduce((a, [, us]) => a + us, 0);
out();
out('inclusive time of steps (share of all samples, µs per certificate):');
for (const [name, us] of inclusive) {
  out(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / total * 1e6 / rate).toFixed(0).padStart(4)} µs  ${name}`);
}
out(`  ${((gc / total) * 100).toFixed(1).padStart(5)}%  ${(gc / total * 1e6 / rate).toFixed(0).padStart(4)} µs  (garbage collector)`);
out();
out(`raw profile: ${file}`);
