// `npm run bench`: certificates per second of the PKI core against the crypto
// floor and against other issuers (Go's crypto/x509 among them), all measured in
// this one run. See README.md.
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadCertificateAuthority, signRequest, randomSource } from '../dist/pki/index.js';
import { importPathFor } from '../dist/pki/public-key.js';
import {
  checkCertificate, floorOp, floorThreadpoolOp, floorWithImportOp, keyKindOf, killChildren, naivePkijsIssuer, opensslBatch, opensslOutput, startCfssl,
  startGoIssuer,
} from './baselines.js';
import { makeCfsslCa, makeFixtures, tbsLength, usages } from './fixtures.js';
import { goCheck } from './go-check.js';
import { median, rateAsync, rateSync, reportTarget, watchBackground } from './measure.js';

const runMs = Number(process.env.BENCH_SECONDS ?? '0.5') * 1000; // one short run
const warmupMs = 500;
// Many short interleaved rounds rather than a few long ones: this VM's speed drifts by up to 2× for
// seconds at a time (invisible in /proc/stat), and a ratio is taken within each round (see paired()).
// Seven rounds (it was 9): on a quiet machine P-256's nine per-round core/Go ratios ran 0.78–1.06×
// around a median of 0.99×, and the median of the first seven was the same 0.99×.
const rounds = Number(process.env.BENCH_ROUNDS ?? '7');
// openssl x509 -req one-shot is ~150× slower than the core, from process start and key loading: one batch says so.
const opensslRounds = 1;
const poolSize = 8; // distinct requests (each with its own key) per key type
const inFlight = 8; // the concurrent variants (core, threadpool floor): as many as cfssl serve gets
const cfsslConcurrency = 8;
// The key types Go's crypto/x509 issues for in the same rounds as the core (bench/go-issuer).
const goTypes = ['P-256', 'RSA-2048', 'Ed25519'];
// The PKI core sequential against Go, P-256: the target.
const goTarget = 1.2;
const opensslRuns = Number(process.env.BENCH_OPENSSL_RUNS ?? '30');
// A run during which other processes kept more than this many cores busy is repeated,
// at most `maxRepeats` times in the whole bench (to keep it bounded); every repeat is reported.
const maxBackground = Number(process.env.BENCH_MAX_BACKGROUND ?? '0.25');
const maxRepeats = 6;
const maxWaitMs = 15_000; // in all, waiting for other processes to finish
// This VM also has slow phases that no /proc counter shows (the host's other tenants): for seconds
// at a time everything runs up to 2× slower. A round whose 1-thread floor ran more than `maxSlowdown`
// below the median floor run of its key type (all its runs so far, dropped ones too; from the third
// round on) is dropped and run again, at most `maxSlowRounds` times in the whole bench. (A slow floor
// run would flatter the core's ratio in its round.) Every dropped round is reported. The median, not
// the fastest run: one fast P-256 floor run (8,289 pairs/s against a typical 5,200–5,600) made every
// later round "slow", and the bench then spent its 20 repeats, 90 s, on rounds as ordinary as the kept ones.
const maxSlowdown = Number(process.env.BENCH_MAX_SLOWDOWN ?? '0.15');
const maxSlowRounds = 6;
// Key types measured sequentially only (no 8-in-flight pair): P-384's concurrent ratio tells nothing
// its sequential one does not (86% vs 82% of the floors), and no target reads it.
const sequentialOnly = ['P-384'];

const out = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const pct = (n) => `${(n * 100).toFixed(0)}%`;
const x = (n) => `${n.toFixed(2)}×`;
const firstLine = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.error ? 'not installed' : r.stdout.split('\n')[0].trim();
};
const random = randomSource(); // the serials' randomness, as the signer draws it

/** Every run repeated because of background load, the background of every kept run, and rounds dropped as slow. */
const disturbance = { repeated: [], kept: [], slowRounds: [] };
const repeatBudget = { left: maxRepeats };
const waitBudget = { leftMs: maxWaitMs };

/**
 * One run of `measure`. While other processes kept more than `maxBackground`
 * cores busy during it, and the bench's budgets last: wait for the machine to
 * calm down (0.5 s samples), then run again.
 */
async function undisturbedRun(name, measure, ms, extraCpu) {
  for (;;) {
    const stop = watchBackground(extraCpu);
    const rate = await measure(ms);
    const background = stop();
    if (!(background > maxBackground) || repeatBudget.left === 0) {
      disturbance.kept.push({ name, background });
      return rate;
    }
    repeatBudget.left--;
    disturbance.repeated.push({ name, background, rate });
    while (waitBudget.leftMs > 0) {
      const quiet = watchBackground();
      await sleep(500);
      waitBudget.leftMs -= 500;
      if (quiet() <= maxBackground) break;
    }
  }
}

/**
 * Warms each measurement up, then takes `rounds` runs of each, interleaved
 * (floor, core, … then again), and keeps every run and the median. When the
 * measurements include the 1-thread `floor`, rounds in a slow phase of the
 * machine are dropped and run again (see maxSlowdown).
 */
async function interleaved(label, measurements, extraCpu = () => 0) {
  const kept = []; // one { name: rate } per round
  const floors = []; // every floor run of these rounds, kept or dropped
  for (const m of Object.values(measurements)) await m(warmupMs);
  while (kept.length < rounds) {
    const round = {};
    for (const [name, m] of Object.entries(measurements)) {
      round[name] = await undisturbedRun(`${label} ${name}`, m, runMs, extraCpu);
    }
    kept.push(round);
    if (!('floor' in measurements)) continue;
    floors.push(round.floor);
    if (floors.length < 3) continue;
    const typical = median(floors);
    for (let i = kept.length - 1; i >= 0; i--) {
      const k = kept[i];
      if (k.floor >= (1 - maxSlowdown) * typical || disturbance.slowRounds.length >= maxSlowRounds) continue;
      disturbance.slowRounds.push({ label, floor: k.floor, typical });
      kept.splice(i, 1);
    }
  }
  const names = Object.keys(measurements);
  return Object.fromEntries(names.map((k) => {
    const runs = kept.map((round) => round[k]);
    return [k, { median: median(runs), runs }];
  }));
}

async function main() {
  const started = new Date();
  out('# csr-signer bench');
  out(`date: ${started.toISOString()}`);
  out(`machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${process.platform}/${process.arch}`);
  out(`node: ${process.version} (OpenSSL ${process.versions.openssl}); openssl CLI: ${firstLine('openssl', ['version'])}; cfssl: ${firstLine('cfssl', ['version'])}`);
  out(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  out(`each figure: median of ${rounds} interleaved runs of ${runMs / 1000} s; each ratio: median of the ${rounds} per-round ratios ` +
    `(openssl: ${opensslRounds} batch${opensslRounds === 1 ? '' : 'es'} of ${opensslRuns} runs)`);
  out();

  const fixtures = makeFixtures(poolSize);
  const cleanup = () => {
    killChildren();
    fixtures.remove();
  };
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }

  const profile = { usages, maxDurationMs: 365 * 24 * 3_600_000 };
  const goIssuer = await startGoIssuer(fixtures.dir);
  out(`Go baseline: bench/go-issuer built with ${goIssuer.goVersion} in ${goIssuer.buildSeconds.toFixed(1)} s`);
  const results = [];
  /** Cores this process kept busy (all its threads) during each timed concurrent core run, by key type. */
  const coreCpu = {};
  /** Certificates per CPU-second of each sequential core run and each Go run (all threads of the process), by rate, by key type. */
  const perCpu = {};
  const p256 = {};
  /** Certificates of the PKI core the checks hand to Go after the timed runs. */
  const forGo = [];
  for (const type of fixtures.types) {
    const ca = await loadCertificateAuthority({
      certificate: { name: type.caCert, bytes: readFileSync(type.caCert) },
      key: { name: type.caKey, bytes: readFileSync(type.caKey) },
    }, new Date());
    const core = (i) => signRequest(type.requests[i % poolSize].pem, profile, ca, { now: new Date(), random });
    const sample = await core(0);
    checkCertificate(type.caCert, sample.pem);
    // One certificate per request of the pool, for Go's crypto/x509 after the timed runs.
    for (let i = 0; i < poolSize; i++) forGo.push({ der: (await core(i)).der, issuerDer: ca.certificate.der });
    const messageLength = tbsLength(sample.der);
    const floor = floorOp(type.requests, createPrivateKey(readFileSync(type.caKey)), type.digest, messageLength);
    const floorPool = floorThreadpoolOp(type.requests, createPrivateKey(readFileSync(type.caKey)), type.digest, messageLength);
    const importPath = importPathFor(keyKindOf(type.requests[0].publicKey));
    const floorImport = floorWithImportOp(type.requests, createPrivateKey(readFileSync(type.caKey)), type.digest, messageLength, importPath);
    const cpu = (coreCpu[type.name] = []);
    const concurrent = !sequentialOnly.includes(type.name);
    const ofRun = (perCpu[type.name] = { core: new Map(), go: new Map() });
    const withGo = goTypes.includes(type.name);
    if (withGo) {
      // The same CA, requests, usages and maximum duration (kube-controller-manager's default
      // --cluster-signing-duration, 8760h) as the core's.
      const goCertificate = await goIssuer.load(type.name, {
        caCertPem: readFileSync(type.caCert, 'latin1'), caKeyPem: readFileSync(type.caKey, 'latin1'),
        requestPems: type.requests.map((r) => r.pem), usages, ttlSeconds: profile.maxDurationMs / 1000,
      });
      checkCertificate(type.caCert, goCertificate);
    }
    const measurements = {
      floor: async (ms) => rateSync(floor, ms),
      ...(concurrent ? { floorPool: (ms) => rateAsync(floorPool, ms, inFlight) } : {}),
      floorImport: async (ms) => rateSync(floorImport, ms),
      core: async (ms) => {
        const [cpu0, t0] = [process.cpuUsage(), performance.now()];
        const rate = await rateAsync(core, ms);
        const used = process.cpuUsage(cpu0);
        ofRun.core.set(rate, (rate * (performance.now() - t0) / 1000) / ((used.user + used.system) / 1e6));
        return rate;
      },
      // Right after the core: Go's crypto/x509, one request at a time in its own process (this one waits).
      ...(withGo ? {
        go: async (ms) => {
          const { rate, perCpuSecond } = await goIssuer.run(type.name, ms);
          ofRun.go.set(rate, perCpuSecond);
          return rate;
        },
      } : {}),
      ...(concurrent ? {
        coreInFlight: async (ms) => {
          const [cpu0, t0] = [process.cpuUsage(), performance.now()];
          const rate = await rateAsync(core, ms, inFlight);
          const used = process.cpuUsage(cpu0);
          cpu.push({ rate, cores: (used.user + used.system) / 1e6 / ((performance.now() - t0) / 1000) });
          return rate;
        },
      } : {}),
    };
    if (type.name === 'P-256') {
      const naive = await naivePkijsIssuer(readFileSync(type.caCert, 'latin1'), readFileSync(type.caKey, 'latin1'));
      checkCertificate(type.caCert, await naive(type.requests[0].pem));
      const naiveOp = (i) => naive(type.requests[i % poolSize].pem);
      // Sequential only: 8 in flight it told the same (core ÷ naive 10.6× sequential, 11.6× both 8 in flight).
      measurements.naive = (ms) => rateAsync(naiveOp, ms);
    }
    out(`measuring ${type.name} (TBSCertificate ${messageLength} bytes, certificate ${sample.der.length} bytes)…`);
    const r = await interleaved(type.name, measurements, goIssuer.cpuSeconds);
    results.push({ type: type.name, messageLength, ...r });
    if (type.name === 'P-256') Object.assign(p256, r, { fixture: type, coreOp: core });
  }

  // cfssl serve, P-256, its own CA from cfssl gencert -initca.
  const cfsslCa = makeCfsslCa(fixtures.dir);
  if (cfsslCa) {
    out('measuring cfssl serve (P-256)…');
    const requests = p256.fixture.requests;
    const server = await startCfssl({ ...cfsslCa, probeRequest: requests[0].pem }, fixtures.dir);
    try {
      const text = checkCertificate(cfsslCa.cert, server.firstCertificate);
      if (!text.includes('DNS:bench-node-1')) throw new Error('cfssl did not copy the request SANs');
      const op = (i) => server.signOne(requests[i % poolSize].pem);
      const cpu = [];
      const measured = async (ms) => {
        const [server0, client0, t0] = [server.cpuSeconds(), process.cpuUsage(), performance.now()];
        const rate = await rateAsync(op, ms, cfsslConcurrency);
        const wall = (performance.now() - t0) / 1000;
        const client = process.cpuUsage(client0);
        cpu.push({ rate, server: (server.cpuSeconds() - server0) / wall, client: (client.user + client.system) / 1e6 / wall });
        return rate;
      };
      // The core, 8 in flight, again: interleaved with cfssl, so that both see the same machine.
      const pair = await interleaved('P-256', { coreNextToCfssl: (ms) => rateAsync(p256.coreOp, ms, inFlight), cfssl: measured }, server.cpuSeconds);
      p256.cfssl = pair.cfssl;
      p256.coreNextToCfssl = pair.coreNextToCfssl;
      p256.cfssl.cpu = cpu.slice(1); // every timed run after the warm-up
    } finally {
      server.agent.destroy();
      await server.stop();
    }
  }

  // openssl x509 -req, one process per certificate.
  out('measuring openssl x509 -req (P-256)…');
  opensslBatch(p256.fixture, fixtures.dir, 3);
  checkCertificate(p256.fixture.caCert, opensslOutput(fixtures.dir));
  const opensslRunsPerSecond = [];
  const batch = async () => opensslBatch(p256.fixture, fixtures.dir, opensslRuns);
  for (let r = 0; r < opensslRounds; r++) opensslRunsPerSecond.push(await undisturbedRun('P-256 openssl', batch, 0));
  p256.openssl = { median: median(opensslRunsPerSecond), runs: opensslRunsPerSecond };

  out(goCheck('bench/run.js', forGo));

  // ------------------------------------------------------------- report
  const runsOf = (m) => m.runs.map(fmt).join(' / ');
  /**
   * a / b as the median of the per-round ratios: in each round the two ran a second or two apart, so a
   * drift of the machine's speed between rounds cancels. `scale` multiplies b (2 for "2 × floor").
   */
  const paired = (a, b, scale = 1) => median(a.runs.map((v, i) => v / (scale * b.runs[i])));
  /** The per-round ratios a / b, lowest–highest: how far one round can stray from the median. */
  const spread = (a, b, f) => {
    const ratios = a.runs.map((v, i) => v / b.runs[i]);
    return `${f(Math.min(...ratios))}–${f(Math.max(...ratios))}`;
  };
  /** CPU of the kept timed runs (not the warm-up, not runs repeated because of background load). */
  const cpuOf = (name) => {
    const kept = results.find((r) => r.type === name)?.coreInFlight?.runs ?? [];
    const runs = (coreCpu[name] ?? []).filter((c) => kept.includes(c.rate));
    return { cores: median(runs.map((c) => c.cores)), perCpuSecond: median(runs.map((c) => c.rate / c.cores)) };
  };
  out();
  out('## PKI core vs crypto floor (same process, interleaved runs)');
  out();
  out('Floor, 1 thread: synchronous verify+sign pairs. Floor, threadpool: the same pairs through libuv\'s threadpool, ' +
    `${inFlight} in flight (both cores). Core sequential is compared with the 1-thread floor, core × ${inFlight} with the threadpool floor.`);
  out();
  out(`| Key type | floor, 1 thread, pairs/s | floor, threadpool ×${inFlight}, pairs/s | core sequential, certs/s | core ×${inFlight}, certs/s | ` +
    `core seq / floor | core ×${inFlight} / threadpool floor | floor + key import, /s (info) | core seq / (floor + import) |`);
  out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  // '—' where a key type has no 8-in-flight pair (sequentialOnly).
  const dash = (m, f) => (m ? f(m) : '—');
  for (const r of results) {
    out(`| ${r.type} | ${fmt(r.floor.median)} | ${dash(r.floorPool, (m) => fmt(m.median))} | ${fmt(r.core.median)} | ${dash(r.coreInFlight, (m) => fmt(m.median))} | ` +
      `${pct(paired(r.core, r.floor))} | ${dash(r.coreInFlight, (m) => pct(paired(m, r.floorPool)))} | ` +
      `${fmt(r.floorImport.median)} | ${pct(paired(r.core, r.floorImport))} |`);
  }
  out();
  out('Time per operation, µs (from the medians):');
  out();
  out('| Key type | floor | floor + key import | core sequential | core − floor | core ×' + inFlight + ', wall time per cert | core ×' + inFlight + ', cores busy |');
  out('|---|---:|---:|---:|---:|---:|---:|');
  const us = (m) => 1e6 / m.median;
  for (const r of results) {
    out(`| ${r.type} | ${us(r.floor).toFixed(0)} | ${us(r.floorImport).toFixed(0)} | ${us(r.core).toFixed(0)} | ${(us(r.core) - us(r.floor)).toFixed(0)} | ` +
      `${dash(r.coreInFlight, (m) => us(m).toFixed(0))} | ${dash(r.coreInFlight, () => cpuOf(r.type).cores.toFixed(2))} |`);
  }
  out();
  out(`## PKI core vs Go's crypto/x509 (${goIssuer.goVersion}), same run`);
  out();
  out('Go: what kube-controller-manager\'s signer does per request (PEM decode, ParseCertificateRequest, CheckSignature, template, ' +
    'CreateCertificate, PEM encode), one goroutine, one request at a time; core: signRequest sequential. ' +
    'ours / Go is the median of the per-round ratios (the two ran one after the other in each round).');
  out();
  out('Per CPU-second: certificates over the CPU time of the whole process during the run (Node: all its threads, ' +
    'process.cpuUsage; Go: getrusage), which other processes on the machine disturb less than the rate.');
  out();
  out('| Key type | Go crypto/x509, certs/s | core sequential, certs/s | **ours / Go** | ratio of the medians | Go, certs per CPU-s | core, certs per CPU-s | ours / Go per CPU-s | Go runs, min–max |');
  out('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results.filter((r) => r.go)) {
    const cpuOfRuns = (m, which) => ({ runs: m.runs.map((v) => perCpu[r.type][which].get(v)) });
    const [goCpu, coreCpuRuns] = [cpuOfRuns(r.go, 'go'), cpuOfRuns(r.core, 'core')];
    out(`| ${r.type} | ${fmt(r.go.median)} | ${fmt(r.core.median)} | **${x(paired(r.core, r.go))}** | ${x(r.core.median / r.go.median)} | ` +
      `${fmt(median(goCpu.runs))} | ${fmt(median(coreCpuRuns.runs))} | ${x(paired(coreCpuRuns, goCpu))} | ` +
      `${fmt(Math.min(...r.go.runs))}–${fmt(Math.max(...r.go.runs))} |`);
  }
  out();
  out('## P-256: the core next to other issuers');
  out();
  const core = p256.core.median;
  const coreConcurrent = p256.coreInFlight.median;
  const rows = [
    ['PKI core signRequest, sequential', p256.core],
    [`PKI core signRequest, ${inFlight} in flight`, p256.coreInFlight],
    ['crypto floor, 1 thread (verify + sign pairs)', p256.floor],
    [`crypto floor, threadpool, ${inFlight} in flight`, p256.floorPool],
    [`Go crypto/x509, kube-controller-manager's signer path, sequential`, p256.go],
    ['naive pkijs issuer, sequential', p256.naive],
    ...(p256.cfssl ? [
      [`PKI core signRequest, ${inFlight} in flight, interleaved with cfssl`, p256.coreNextToCfssl],
      [`cfssl serve, HTTP keep-alive, ${cfsslConcurrency} concurrent`, p256.cfssl],
    ] : []),
    [`openssl x509 -req, one process per certificate`, p256.openssl],
  ];
  out(`| Issuer | certs/s (median) | runs, min–max | core sequential ÷ this | core ×${inFlight} ÷ this |`);
  out('|---|---:|---|---:|---:|');
  const range = (m) => `${fmt(Math.min(...m.runs))}–${fmt(Math.max(...m.runs))}`;
  for (const [name, m] of rows) out(`| ${name} | ${fmt(m.median)} | ${range(m)} | ${x(core / m.median)} | ${x(coreConcurrent / m.median)} |`);
  out();
  out('## All runs (certs/s or pairs/s)');
  out();
  for (const r of results) {
    out(`- ${r.type}: floor ${runsOf(r.floor)};${r.floorPool ? ` floor threadpool ${runsOf(r.floorPool)};` : ''} floor + import ${runsOf(r.floorImport)}; ` +
      `core ${runsOf(r.core)};${r.go ? ` Go ${runsOf(r.go)};` : ''}${r.coreInFlight ? ` core ${inFlight} in flight ${runsOf(r.coreInFlight)}` : ''}`);
  }
  if (p256.cfssl) out(`- P-256 next to cfssl: core ${inFlight} in flight ${runsOf(p256.coreNextToCfssl)}; cfssl serve ${runsOf(p256.cfssl)}`);
  out();
  out('## Ratios');
  out();
  for (const r of results) {
    out(`- ${r.type}: core sequential / floor = ${pct(paired(r.core, r.floor))} (ratio of the medians: ${pct(r.core.median / r.floor.median)}; ` +
      `per round ${spread(r.core, r.floor, pct)})` + (r.coreInFlight ? '; ' +
      `core ×${inFlight} / threadpool floor = ${pct(paired(r.coreInFlight, r.floorPool))} (${pct(r.coreInFlight.median / r.floorPool.median)}); ` +
      `core ×${inFlight} / (2 × 1-thread floor) = ${pct(paired(r.coreInFlight, r.floor, 2))} (${pct(r.coreInFlight.median / (2 * r.floor.median))})` : ''));
  }
  for (const r of results.filter((r) => r.go)) {
    out(`- ${r.type}: core sequential / Go crypto/x509 = ${x(paired(r.core, r.go))} (ratio of the medians: ${x(r.core.median / r.go.median)}; ` +
      `per round ${spread(r.core, r.go, x)})`);
  }
  if (p256.cfssl) {
    out(`- P-256: core ×${inFlight} / cfssl serve = ${x(paired(p256.coreNextToCfssl, p256.cfssl))} (runs interleaved; ratio of the medians ` +
      `${x(p256.coreNextToCfssl.median / p256.cfssl.median)}); ` +
      `core sequential / cfssl serve = ${x(core / p256.cfssl.median)}`);
  } else {
    out('- P-256: cfssl is not installed; core / cfssl serve not measured');
  }
  out(`- P-256: core / naive pkijs = ${x(core / p256.naive.median)} (both sequential), ${x(coreConcurrent / p256.naive.median)} (core ${inFlight} in flight)`);
  out(`- P-256: core / openssl x509 -req one-shot = ${x(core / p256.openssl.median)}`);
  out();
  out('## Targets');
  out();
  const byType = Object.fromEntries(results.map((r) => [r.type, r]));
  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  // The PKI core sequential against Go's crypto/x509 in the same rounds: the target is P-256's;
  // RSA-2048 and Ed25519 are held to the same bar and reported the same way.
  for (const type of goTypes) {
    const ratio = paired(byType[type].core, byType[type].go);
    const what = `PKI core sequential ${type} ≥ ${x(goTarget)} Go's crypto/x509 (same rounds)`;
    const figure = `${x(ratio)} (per round ${spread(byType[type].core, byType[type].go, x)}; ${fmt(byType[type].core.median)} vs ${fmt(byType[type].go.median)} certs/s)`;
    out(`- ${what}: ${verdict(ratio >= goTarget)} ${figure}`);
    reportTarget('run.js', what, figure, ratio >= goTarget);
  }
  out();
  const p256Cpu = cpuOf('P-256');
  out(`PKI core P-256, ${inFlight} in flight: this process kept ${p256Cpu.cores.toFixed(2)} cores busy; ${fmt(p256Cpu.perCpuSecond)} certificates per CPU-second (median).`);
  if (p256.cfssl?.cpu) {
    const perCpu = median(p256.cfssl.cpu.map((c) => c.rate / c.server));
    out('cfssl serve CPU use during its timed runs (cores busy; the machine has ' + availableParallelism() + '): ' +
      p256.cfssl.cpu.map((c) => `cfssl ${c.server.toFixed(2)} + node client ${c.client.toFixed(2)}`).join('; '));
    out(`cfssl serve per CPU-second of cfssl itself: ${fmt(perCpu)} certs (median). The core sequential runs on one thread, ` +
      `so its certs/s are about its certs per CPU-second.`);
    out();
  }
  const backgrounds = disturbance.kept.map((k) => k.background).filter((b) => !Number.isNaN(b));
  if (backgrounds.length > 0) {
    const worst = disturbance.kept.reduce((a, b) => (b.background > a.background ? b : a));
    out(`Other processes' CPU during the kept runs (cores): median ${median(backgrounds).toFixed(2)}, ` +
      `max ${worst.background.toFixed(2)} (${worst.name}); runs over ${maxBackground} repeated: ${disturbance.repeated.length}, ` +
      `time spent waiting for quiet: ${((maxWaitMs - waitBudget.leftMs) / 1000).toFixed(1)} s` +
      (disturbance.repeated.length > 0 ? ` (${disturbance.repeated.map((d) => `${d.name} at ${d.background.toFixed(2)}`).join(', ')})` : ''));
    const slow = disturbance.slowRounds;
    out(`Rounds dropped and run again because the 1-thread floor ran more than ${pct(maxSlowdown)} below the median floor run: ` +
      `${slow.length}${slow.length >= maxSlowRounds ? ' (the limit: later slow rounds were kept)' : ''}` +
      (slow.length > 0 ? ` (${slow.map((d) => `${d.label} ${fmt(d.floor)} vs ${fmt(d.typical)}`).join(', ')})` : ''));
    const overLimit = disturbance.kept.filter((k) => k.background > maxBackground);
    if (overLimit.length > 0) {
      const counts = new Map();
      for (const k of overLimit) counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
      out(`WARNING: ${overLimit.length} of ${disturbance.kept.length} kept runs had more than ${maxBackground} cores of background load: ` +
        [...counts].map(([n, c]) => `${n} ×${c}`).join(', '));
    }
  } else {
    out('Other processes\' CPU: not measured (no /proc)');
  }
  out(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  out(`total time: ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
  process.exitCode = 1;
} finally {
  killChildren();
}
