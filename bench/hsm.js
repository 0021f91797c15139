// `node bench/hsm.js` (the last part of `npm run bench`): the PKI core's signRequest with a CA key on
// a SoftHSM2 token (the PKCS#11 key provider, through pkcs11js) next to the same core with a CA key in
// memory (InMemoryKeyProvider), in one run, interleaved in rounds; then pkcs11js alone (C_Sign and
// C_SignAsync), to see what the token costs and whether signing on it keeps the event loop free.
// Needs openssl, softhsm2-util, pkcs11-tool and certtool (Debian softhsm2, opensc, gnutls-bin). See README.md.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { certificateAuthorityFromKey, loadCertificateAuthority, readCertificateBundle, signRequest, randomSource } from '../dist/pki/index.js';
import { openPkcs11Key, parsePkcs11Uri } from '../dist/hsm/index.js';
import { checkCertificate } from './baselines.js';
import { scratch } from './launch.js';
import { makeFixtures, usages } from './fixtures.js';
import { median, rateAsync } from './measure.js';

const runMs = Number(process.env.BENCH_SECONDS ?? '0.25') * 1000;
const rounds = Number(process.env.BENCH_ROUNDS ?? '5');
const poolSize = 4; // distinct requests (each with its own key) per key type
const inFlight = 8;
const module = process.env.BENCH_PKCS11_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '1234';
/** The token keys: pkcs11-tool --key-type, and the fixtures' key type whose requests and in-memory CA go with them. */
const tokenKeys = [
  { name: 'P-256', keygen: 'EC:prime256v1', id: '01' },
  { name: 'RSA-2048', keygen: 'rsa:2048', id: '02' },
  { name: 'Ed25519', keygen: 'EC:edwards25519', id: '03' },
];

const out = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const x = (n) => `${n.toFixed(2)}×`;
const pct = (n) => `${(n * 100).toFixed(0)}%`;
const packages = { 'softhsm2-util': 'softhsm2', 'pkcs11-tool': 'opensc', certtool: 'gnutls-bin', openssl: 'openssl' };
const run = (cmd, args, options = {}) => {
  try {
    return execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error(`bench/hsm.js needs ${cmd}: apt-get install ${packages[cmd] ?? cmd}`);
    throw new Error(`${cmd} failed: ${e.stderr?.toString() ?? e.message}`);
  }
};
const random = randomSource(); // the serials' randomness, as the signer draws it
const firstLine = (cmd, args) => {
  try {
    return run(cmd, args).toString().split('\n')[0].trim();
  } catch {
    return 'not installed';
  }
};

/** A SoftHSM2 token in its own directory (SOFTHSM2_CONF, set for this process before the module is loaded). */
function makeToken(dir) {
  const tokenDir = join(dir, 'tokens');
  run('mkdir', ['-p', tokenDir]);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = conf;
  run('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--so-pin', '87654321', '--pin', PIN]);
  return { label: 'bench' };
}

/** A key generated on the token (never extractable) and a CA certificate for it made by certtool signing through the token. */
function makeTokenCa(dir, token, key) {
  run('pkcs11-tool', ['--module', module, '--token-label', token.label, '--login', '--pin', PIN, '--keypairgen', '--key-type', key.keygen,
    '--label', `bench-${key.id}`, '--id', key.id]);
  const uri = `pkcs11:token=${token.label};object=bench-${key.id};id=%${key.id};type=private`;
  const template = join(dir, `${key.id}.tmpl`);
  writeFileSync(template, `cn = "csr-signer bench token CA ${key.name}"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 3650\n`);
  const certPath = join(dir, `token-ca-${key.id}.pem`);
  run('certtool', ['--generate-self-signed', '--provider', module, '--load-privkey', uri, '--template', template, '--outfile', certPath],
    { env: { ...process.env, GNUTLS_PIN: PIN } });
  return { uri, certPath };
}

/**
 * Runs `op` with `n` in flight for `ms`; returns its rate and the event loop utilisation meanwhile
 * (the share of the time the JavaScript thread was busy rather than waiting for I/O or a thread).
 */
async function measured(op, ms, n) {
  const elu0 = performance.eventLoopUtilization();
  const rate = await rateAsync(op, ms, n);
  return { rate, elu: performance.eventLoopUtilization(elu0).utilization };
}

/** As measured(), with `n` loops each calling `op(itsIndex)`: a session is used by one loop only. */
async function measuredLoops(op, ms, n) {
  const elu0 = performance.eventLoopUtilization();
  const start = performance.now();
  const deadline = start + ms;
  let count = 0;
  await Promise.all(Array.from({ length: n }, async (_, k) => {
    while (performance.now() < deadline) {
      await op(k);
      count++;
    }
  }));
  return { rate: count / ((performance.now() - start) / 1000), elu: performance.eventLoopUtilization(elu0).utilization };
}

/** Rounds of every measurement in turn; per name the median rate and ELU, and per round the rates (for paired ratios). */
async function interleaved(measurements) {
  const results = Object.fromEntries(Object.keys(measurements).map((k) => [k, []]));
  for (const op of Object.values(measurements)) await op(Math.min(runMs, 200)); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [name, op] of Object.entries(measurements)) results[name].push(await op(runMs));
  }
  return results;
}

const medianRate = (list) => median(list.map((m) => m.rate));
const medianElu = (list) => median(list.map((m) => m.elu));
/** The median of the per-round ratios a/b. */
const pairedRatio = (a, b) => median(a.map((m, i) => m.rate / b[i].rate));

async function main() {
  const { dir } = scratch('csr-signer-bench-hsm-');
  const fixtures = makeFixtures(poolSize);
  process.on('exit', () => fixtures.remove());
  const started = performance.now();
  const require = createRequire(import.meta.url);
  out('PKCS#11 key provider benchmark: the PKI core with a CA key on a SoftHSM2 token vs in memory');
  out(`node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), pkcs11js ${require('pkcs11js/package.json').version}, `
    + `${firstLine('softhsm2-util', ['--version']).replace(/^/, 'SoftHSM2 ')}, ${firstLine('openssl', ['version'])}`);
  out(`median of ${rounds} interleaved rounds of ${runMs / 1000} s per figure; ${inFlight} in flight = ${inFlight} concurrent signRequest calls; `
    + `token sessions = ${inFlight}; ELU = share of the time the JavaScript thread was busy`);
  out();

  const token = makeToken(dir);
  const profile = { usages, maxDurationMs: 365 * 24 * 3_600_000 };
  const rows = [];
  const providers = [];
  for (const key of tokenKeys) {
    const type = fixtures.types.find((ty) => ty.name === key.name);
    const memoryCa = await loadCertificateAuthority({
      certificate: { name: type.caCert, bytes: readFileSync(type.caCert) },
      key: { name: type.caKey, bytes: readFileSync(type.caKey) },
    }, new Date());
    const tokenCaFiles = makeTokenCa(dir, token, key);
    const opened = await openPkcs11Key({ uri: parsePkcs11Uri(tokenCaFiles.uri), module, pin: PIN, sessions: inFlight });
    providers.push(opened.provider);
    const certificates = { name: tokenCaFiles.certPath, bytes: readFileSync(tokenCaFiles.certPath) };
    // As the signer loads it: a test signature by the token picks the certificate.
    const tokenCa = await certificateAuthorityFromKey(certificates, readCertificateBundle(certificates), opened, tokenCaFiles.uri, new Date());
    const sign = (ca) => (i) => signRequest(type.requests[i % poolSize].pem, profile, ca, { now: new Date(), random });
    const memory = sign(memoryCa);
    const onToken = sign(tokenCa);
    // Every request of the pool through both providers, checked by openssl before anything is timed.
    for (let i = 0; i < poolSize; i++) {
      checkCertificate(type.caCert, (await memory(i)).pem);
      checkCertificate(tokenCaFiles.certPath, (await onToken(i)).pem);
    }
    out(`measuring ${key.name}…`);
    const r = await interleaved({
      memory: (ms) => measured(memory, ms, 1),
      memoryInFlight: (ms) => measured(memory, ms, inFlight),
      token: (ms) => measured(onToken, ms, 1),
      tokenInFlight: (ms) => measured(onToken, ms, inFlight),
    });
    rows.push({ name: key.name, ...r });
  }
  for (const provider of providers) await provider.close();

  out();
  out('| CA key | in memory, sequential | SoftHSM2, sequential | token ÷ memory | in memory, 8 in flight | SoftHSM2, 8 in flight | token ÷ memory | ELU, SoftHSM2 8 in flight |');
  out('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    out(`| ${row.name} | ${fmt(medianRate(row.memory))}/s | ${fmt(medianRate(row.token))}/s | ${x(pairedRatio(row.token, row.memory))} `
      + `| ${fmt(medianRate(row.memoryInFlight))}/s | ${fmt(medianRate(row.tokenInFlight))}/s | ${x(pairedRatio(row.tokenInFlight, row.memoryInFlight))} `
      + `| ${pct(medianElu(row.tokenInFlight))} |`);
  }

  // pkcs11js alone, P-256: the token's own rate with no certificate around it, C_Sign (blocking the
  // JavaScript thread) against C_SignAsync (on libuv's threadpool), each on its own sessions.
  out();
  out('measuring pkcs11js alone (P-256, CKM_ECDSA over a SHA-256 digest)…');
  const raw = await rawPkcs11(require, token);
  out();
  out('| pkcs11js, P-256 | signatures/s | ELU |');
  out('| --- | ---: | ---: |');
  for (const [name, list] of Object.entries(raw.results)) out(`| ${name} | ${fmt(medianRate(list))}/s | ${pct(medianElu(list))} |`);
  out();
  out(`C_SignInit (synchronous in pkcs11js, on the JavaScript thread) took ${pct(raw.initShare)} of the blocking C_SignInit + C_Sign time.`);
  out();
  out(`took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** C_Sign and C_SignAsync on sessions of their own (the providers were closed, so the module is initialised afresh). */
async function rawPkcs11(require, token) {
  const pkcs11js = require('pkcs11js');
  const p = new pkcs11js.PKCS11();
  p.load(module);
  p.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  try {
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === token.label);
    const sessions = Array.from({ length: inFlight }, () => p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION));
    p.C_Login(sessions[0], pkcs11js.CKU_USER, PIN);
    p.C_FindObjectsInit(sessions[0], [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_ID, value: Buffer.from('01', 'hex') }]);
    const [key] = p.C_FindObjects(sessions[0], 1);
    p.C_FindObjectsFinal(sessions[0]);
    const digest = createHash('sha256').update('csr-signer bench').digest();
    const mechanism = { mechanism: pkcs11js.CKM_ECDSA };
    // How the blocking call's time splits between C_SignInit and C_Sign: only the second has an
    // Async form in pkcs11js, so whatever a module does in C_SignInit runs on the JavaScript thread.
    const split = { init: 0, sign: 0 };
    const signSync = (session) => {
      const t0 = performance.now();
      p.C_SignInit(session, mechanism, key);
      const t1 = performance.now();
      const signature = p.C_Sign(session, digest, Buffer.alloc(64));
      split.init += t1 - t0;
      split.sign += performance.now() - t1;
      return signature;
    };
    const signAsync = (session) => {
      p.C_SignInit(session, mechanism, key);
      return p.C_SignAsync(session, digest, Buffer.alloc(64));
    };
    const results = await interleaved({
      'C_Sign (blocking), sequential': (ms) => measured(async () => signSync(sessions[0]), ms, 1),
      'C_SignAsync, sequential': (ms) => measured(() => signAsync(sessions[0]), ms, 1),
      [`C_SignAsync, ${inFlight} in flight on ${inFlight} sessions`]: (ms) => measuredLoops((k) => signAsync(sessions[k]), ms, inFlight),
    });
    return { results, initShare: split.init / (split.init + split.sign) };
  } finally {
    p.C_Finalize();
    p.close();
  }
}

await main();
