// What the core is compared with: the crypto floor, a naive pkijs issuer, Go's
// crypto/x509 doing what kube-controller-manager's signer does, `cfssl serve` over
// loopback HTTP, and one-shot `openssl x509 -req`.
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { createPublicKey, randomBytes, sign, verify, webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pemToDer } from './fixtures.js';
import { processCpuSeconds } from './measure.js';

// ------------------------------------------------------------ crypto floor

/**
 * One verify of a request plus one sign of a `messageLength`-byte message with
 * the CA key, both synchronous with pre-made KeyObjects.
 */
export function floorOp(requests, caPrivateKey, digest, messageLength) {
  const message = randomBytes(messageLength);
  return (i) => {
    const r = requests[i % requests.length];
    if (!verify(digest, r.info, r.publicKey, r.signature)) throw new Error('floor: request signature does not verify');
    message[0] = i & 0xff;
    sign(digest, message, caPrivateKey);
  };
}

/**
 * The same pairs on libuv's threadpool (crypto.verify and crypto.sign with a
 * callback), for running several at once: the floor when both cores may work.
 */
export function floorThreadpoolOp(requests, caPrivateKey, digest, messageLength) {
  const message = randomBytes(messageLength);
  const verifyAsync = (r) => new Promise((resolve, reject) =>
    verify(digest, r.info, r.publicKey, r.signature, (error, ok) => (error ? reject(error) : resolve(ok))));
  const signAsync = (data) => new Promise((resolve, reject) =>
    sign(digest, data, caPrivateKey, (error, signature) => (error ? reject(error) : resolve(signature))));
  return async (i) => {
    const r = requests[i % requests.length];
    if (!(await verifyAsync(r))) throw new Error('floor: request signature does not verify');
    // Each pair signs its own copy: the jobs of several pairs overlap.
    const own = Buffer.from(message);
    own[0] = i & 0xff;
    await signAsync(own);
  };
}

/**
 * The floor plus what the floor leaves out but no issuer can skip: turning the
 * request's key into a KeyObject, fresh each time, from the input the core uses
 * on this runtime (`how`: src/pki/public-key.ts importPathFor decides, PEM text
 * on OpenSSL 3.5 and later, JWK or DER before).
 */
export function floorWithImportOp(requests, caPrivateKey, digest, messageLength, how) {
  const message = randomBytes(messageLength);
  const inputs = requests.map((r) => importInput(r.publicKey, how));
  return (i) => {
    const r = requests[i % requests.length];
    const key = createPublicKey(inputs[i % requests.length]);
    if (!verify(digest, r.info, key, r.signature)) throw new Error('floor: request signature does not verify');
    message[0] = i & 0xff;
    sign(digest, message, caPrivateKey);
  };
}

/** What createPublicKey takes for each KeyImport of the core. */
function importInput(publicKey, how) {
  switch (how) {
    case 'pem': return publicKey.export({ format: 'pem', type: 'spki' });
    case 'der': return { key: publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' };
    case 'jwk': return { key: publicKey.export({ format: 'jwk' }), format: 'jwk' };
    default: throw new Error(`unknown import ${how}`);
  }
}

/** The core's KeyKind of a public KeyObject, for importPathFor. */
export function keyKindOf(publicKey) {
  const details = publicKey.asymmetricKeyDetails ?? {};
  switch (publicKey.asymmetricKeyType) {
    case 'rsa': return { type: 'rsa', bits: details.modulusLength };
    case 'ed25519': return { type: 'ed25519' };
    case 'ec': return { type: 'ec', curve: { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[details.namedCurve] };
    default: throw new Error(`no KeyKind for ${publicKey.asymmetricKeyType}`);
  }
}

// ------------------------------------------------------- naive pkijs issuer

const Oids = {
  extensionRequest: '1.2.840.113549.1.9.14',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

const toPem = (label, der) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').match(/.{1,64}/g).join('\n')}\n-----END ${label}-----\n`;

/**
 * The obvious pkijs issuer: parse the CSR into objects, verify it, build a
 * Certificate object with the same extensions as the core, sign via WebCrypto.
 */
export async function naivePkijsIssuer(caCertPem, caKeyPem) {
  const caCert = pkijs.Certificate.fromBER(pemToDer(caCertPem));
  const caSki = caCert.extensions.find((e) => e.extnID === Oids.subjectKeyIdentifier).parsedValue.valueBlock.valueHexView;
  const caKey = await webcrypto.subtle.importKey('pkcs8', pemToDer(caKeyPem), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const keyUsage = new asn1js.BitString({ valueHex: Uint8Array.of(0xa0), unusedBits: 5 }).toBER(); // digitalSignature, keyEncipherment
  const extKeyUsage = new pkijs.ExtKeyUsage({ keyPurposes: [Oids.serverAuth] }).toSchema().toBER();
  const basicConstraints = new pkijs.BasicConstraints({ cA: false }).toSchema().toBER();
  const authorityKeyId = new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: caSki }) }).toSchema().toBER();
  return async (pem) => {
    const csr = pkijs.CertificationRequest.fromBER(pemToDer(pem));
    if (!(await csr.verify())) throw new Error('naive pkijs: request signature does not verify');
    const requested = csr.attributes?.find((a) => a.type === Oids.extensionRequest);
    const requestedExtensions = requested ? new pkijs.Extensions({ schema: requested.values[0] }).extensions : [];
    const san = requestedExtensions.find((e) => e.extnID === Oids.subjectAltName);
    const ski = await webcrypto.subtle.digest('SHA-1', csr.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
    const serial = randomBytes(16);
    serial[0] &= 0x7f;
    const now = Date.now();
    const cert = new pkijs.Certificate();
    cert.version = 2;
    cert.serialNumber = new asn1js.Integer({ valueHex: serial });
    cert.issuer = caCert.subject;
    cert.subject = csr.subject;
    cert.subjectPublicKeyInfo = csr.subjectPublicKeyInfo;
    cert.notBefore.value = new Date(now - 5 * 60_000);
    cert.notAfter.value = new Date(now + 365 * 24 * 3_600_000);
    cert.extensions = [
      new pkijs.Extension({ extnID: Oids.keyUsage, critical: true, extnValue: keyUsage }),
      new pkijs.Extension({ extnID: Oids.extKeyUsage, critical: false, extnValue: extKeyUsage }),
      new pkijs.Extension({ extnID: Oids.basicConstraints, critical: true, extnValue: basicConstraints }),
      new pkijs.Extension({ extnID: Oids.subjectKeyIdentifier, critical: false, extnValue: new asn1js.OctetString({ valueHex: ski }).toBER() }),
      new pkijs.Extension({ extnID: Oids.authorityKeyIdentifier, critical: false, extnValue: authorityKeyId }),
      ...(san ? [new pkijs.Extension({ extnID: Oids.subjectAltName, critical: san.critical, extnValue: san.extnValue.valueBlock.valueHexView })] : []),
    ];
    await cert.sign(caKey, 'SHA-256');
    return toPem('CERTIFICATE', cert.toSchema(true).toBER());
  };
}

// ------------------------------------------------------------ cfssl serve

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

function post(agent, port, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/v1/cfssl/sign', method: 'POST', agent, timeout: timeoutMs,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          const json = JSON.parse(text);
          if (res.statusCode === 200 && json.success) resolve(json.result.certificate);
          else reject(new Error(`cfssl: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        } catch {
          reject(new Error(`cfssl: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('cfssl: request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Children still running, killed on any exit path. */
const children = new Set();
export function killChildren() {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/**
 * Starts `cfssl serve` on 127.0.0.1 and returns a client that POSTs
 * {"certificate_request": PEM} to /api/v1/cfssl/sign, and stop().
 */
export async function startCfssl(ca, dir) {
  const port = await freePort();
  const child = spawn('cfssl', ['serve', '-address', '127.0.0.1', '-port', String(port), '-ca', ca.cert, '-ca-key', ca.key,
    '-config', ca.config, '-loglevel', '4'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d.toString()).slice(-2000); });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const signOne = (pem) => post(agent, port, JSON.stringify({ certificate_request: pem }), 10_000);
  // Wait (at most 10 s) until it answers.
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cfssl serve exited (${child.exitCode}): ${stderr}`);
    try {
      return { signOne, agent, stop, cpuSeconds: () => processCpuSeconds(child.pid), firstCertificate: await signOne(ca.probeRequest) };
    } catch (e) {
      if (performance.now() > deadline) {
        await stop();
        throw new Error(`cfssl serve did not answer within 10 s: ${e.message}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ------------------------------------------------- Go's crypto/x509 issuer

const goIssuerSource = join(import.meta.dirname, 'go-issuer');

/**
 * Builds bench/go-issuer (standard library only, no module downloads) into `dir` and starts it.
 * GOCACHE, unless set, is the test suite's (test/helpers/go-oracle.ts): the standard library's
 * compiled packages are shared, so a build after the tests takes seconds. Returns the build's
 * wall time and a client: load(type, …) gives the issuer a CA and a pool of requests and returns
 * its first certificate (PEM); run(type, ms) issues sequentially for `ms` in the Go process and
 * returns { rate, perCpuSecond }: certificates per second and per CPU-second of the Go process
 * (all its threads), both measured by Go; cpuSeconds() is the process's CPU time (from /proc).
 */
export async function startGoIssuer(dir) {
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };
  env.GOCACHE ??= join(tmpdir(), 'csr-signer-oracle', 'gocache');
  const binary = join(dir, 'go-issuer');
  const started = performance.now();
  const built = spawnSync('go', ['build', '-trimpath', '-o', binary, '.'], { cwd: goIssuerSource, env, encoding: 'utf8', timeout: 600_000 });
  if (built.error?.code === 'ENOENT') throw new Error('the Go baseline needs go, which is not installed: apt-get install golang-go');
  if (built.status !== 0) throw new Error(`building bench/go-issuer failed: ${built.error?.message ?? built.stderr}`);
  const buildSeconds = (performance.now() - started) / 1000;
  const goVersion = spawnSync('go', ['version'], { env, encoding: 'utf8' }).stdout.trim().replace(/^go version /, '');

  const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d.toString()).slice(-2000); });
  const waiting = []; // one { resolve, reject } per command sent, in order
  const fail = (e) => { for (const w of waiting.splice(0)) w.reject(e); };
  child.on('error', fail);
  child.on('exit', (code, signal) => fail(new Error(`bench/go-issuer exited (${code ?? signal}): ${stderr}`)));
  child.stdin.on('error', () => undefined); // the exit reports why
  createInterface({ input: child.stdout }).on('line', (line) => {
    const w = waiting.shift();
    const answer = JSON.parse(line);
    if (answer.error) w?.reject(new Error(`bench/go-issuer: ${answer.error}`));
    else w?.resolve(answer);
  });
  const call = (command) => new Promise((resolve, reject) => {
    waiting.push({ resolve, reject });
    child.stdin.write(`${JSON.stringify(command)}\n`);
  });
  return {
    buildSeconds,
    goVersion,
    load: async (type, { caCertPem, caKeyPem, requestPems, usages, ttlSeconds }) =>
      (await call({ op: 'load', type, caCert: caCertPem, caKey: caKeyPem, requests: requestPems, usages, ttlSeconds })).certificate,
    run: async (type, ms) => {
      const { count, seconds, cpuSeconds } = await call({ op: 'run', type, ms });
      return { rate: count / seconds, perCpuSecond: count / cpuSeconds };
    },
    cpuSeconds: () => processCpuSeconds(child.pid),
    stop: () => {
      children.delete(child);
      child.kill('SIGKILL');
    },
  };
}

// --------------------------------------------------------- openssl one-shot

/** Times `count` sequential runs of openssl x509 -req; returns certificates per second. */
export function opensslBatch(fixture, dir, count) {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const args = ['x509', '-req', '-in', fixture.requestFiles[i % fixture.requestFiles.length], '-CA', fixture.caCert,
      '-CAkey', fixture.caKey, '-set_serial', `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`, '-days', '365',
      '-sha256', '-extfile', join(dir, 'ext.cnf'), '-extensions', 'v3', '-out', join(dir, 'openssl-out.pem')];
    const r = spawnSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`openssl x509 -req failed: ${r.stderr}`);
  }
  return count / ((performance.now() - start) / 1000);
}

export const opensslOutput = (dir) => readFileSync(join(dir, 'openssl-out.pem'), 'latin1');

/** Runs `openssl verify` and returns openssl's text of the certificate (for the sanity checks). */
export function checkCertificate(caCertFile, certPem) {
  const verified = spawnSync('openssl', ['verify', '-CAfile', caCertFile], { input: certPem });
  if (verified.status !== 0) throw new Error(`openssl verify failed: ${verified.stdout}${verified.stderr}`);
  const text = spawnSync('openssl', ['x509', '-noout', '-text'], { input: certPem }).stdout.toString();
  return text;
}
