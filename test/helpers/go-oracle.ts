/**
 * The Go oracle (test/oracle/): Go's crypto/x509 — the parser every Kubernetes
 * component uses — run as a child process. `goParse` asks what Go makes of a
 * certificate; `kcmSign` asks what kube-controller-manager's in-tree signer would
 * do with a request. See test/oracle/README.md.
 *
 * The binary is built once per version of the Go sources: into
 * `<tmpdir>/csr-signer-oracle/<sha256 of the sources>/oracle`, written under a
 * temporary name and renamed, so test processes running at the same time share
 * one build and never see a half-written binary.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sourceDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'oracle');
const cacheRoot = join(tmpdir(), 'csr-signer-oracle');
const buildTimeoutMs = 300_000;

export interface GoName {
  readonly country: string[];
  readonly organization: string[];
  readonly organizationalUnit: string[];
  readonly locality: string[];
  readonly province: string[];
  readonly streetAddress: string[];
  readonly postalCode: string[];
  readonly serialNumber: string;
  readonly commonName: string;
  /** Every attribute in certificate order (pkix.Name.Names); non-string values as Go's fmt.Sprint. */
  readonly names: { readonly type: string; readonly value: string }[];
}

/** What Go's x509.ParseCertificate made of a certificate (test/oracle/fields.go). */
export interface GoFields {
  readonly version: number;
  /** big.Int.Text(16): lower case, no leading zeros, '-' when negative. */
  readonly serialHex: string;
  readonly rawIssuer: string;
  readonly rawSubject: string;
  readonly issuer: GoName;
  readonly subject: GoName;
  /** RFC 3339, UTC, whole seconds. */
  readonly notBefore: string;
  readonly notAfter: string;
  /** x509.KeyUsage: 1 digitalSignature, 2 contentCommitment, 4 keyEncipherment, 8 dataEncipherment, 16 keyAgreement, 32 certSign, 64 cRLSign, 128 encipherOnly, 256 decipherOnly. */
  readonly keyUsage: number;
  /** x509.ExtKeyUsage values in certificate order: 0 any, 1 serverAuth, 2 clientAuth, 3 codeSigning, 4 emailProtection, 5 ipsecEndSystem, 6 ipsecTunnel, 7 ipsecUser, 8 timeStamping, 9 OCSPSigning, 10 MS-SGC, 11 NS-SGC, ... */
  readonly extKeyUsage: number[];
  readonly unknownExtKeyUsage: string[];
  readonly basicConstraintsValid: boolean;
  readonly isCA: boolean;
  readonly maxPathLen: number;
  readonly maxPathLenZero: boolean;
  readonly dnsNames: string[];
  readonly emailAddresses: string[];
  /** net.IP.String(). */
  readonly ipAddresses: string[];
  /** url.URL.String(). */
  readonly uris: string[];
  /** Hex, '' when absent. */
  readonly subjectKeyId: string;
  readonly authorityKeyId: string;
  /** x509.SignatureAlgorithm.String(), e.g. 'ECDSA-SHA256', 'SHA256-RSA', 'Ed25519'. */
  readonly signatureAlgorithm: string;
  /** x509.PublicKeyAlgorithm.String(): 'RSA', 'ECDSA', 'Ed25519'. */
  readonly publicKeyAlgorithm: string;
  readonly rawSubjectPublicKeyInfo: string;
  /** In certificate order; value is base64 of the extension's OCTET STRING contents. */
  readonly extensions: { readonly id: string; readonly critical: boolean; readonly value: string }[];
}

export type GoParsed =
  | {
      readonly id: string;
      readonly ok: true;
      readonly fields: GoFields;
      /** Only with an issuer: 'ok' or the error of cert.CheckSignatureFrom(issuer). */
      readonly signature?: string;
      /** Only with an issuer: 'ok' or the error of cert.Verify (roots = issuer + roots, any EKU). */
      readonly verify?: string;
    }
  | { readonly id: string; readonly ok: false; readonly error: string };

export interface GoParseItem {
  readonly id: string;
  /** DER. */
  readonly cert: Uint8Array;
  /** DER of the issuing CA certificate: adds `signature` and `verify` to the answer. */
  readonly issuer?: Uint8Array;
  /** More trusted roots (DER) for Verify. */
  readonly roots?: readonly Uint8Array[];
  /** The time Verify checks validity at; default NotBefore + 1 s. */
  readonly at?: Date;
}

export interface KcmSignInput {
  readonly id: string;
  /** The CSR's spec.request as PEM text. */
  readonly csr: string;
  readonly signerName: string;
  readonly usages: readonly string[];
  /** Not used by the in-tree signer; accepted so inputs can carry the whole spec. */
  readonly username?: string;
  readonly expirationSeconds?: number;
  /** --cluster-signing-duration in seconds. */
  readonly clusterSigningDurationSeconds: number;
  readonly now: Date;
  /** The CA certificate: DER, or PEM text. */
  readonly caCert: Uint8Array | string;
  /** The CA key as PKCS#8: DER, or PEM text ('PRIVATE KEY'). */
  readonly caKey: Uint8Array | string;
}

/**
 * create: the apiserver would refuse the CSR (parse or self-signature error);
 * validation: the signer's rules refuse it (Failed, SignerValidationFailure, this message);
 * sign: signing errors (in-tree: retried forever, no condition);
 * issued: the certificate the in-tree signer would issue (random serial).
 */
export type KcmSignOutput =
  | { readonly id: string; readonly stage: 'create' | 'validation' | 'sign'; readonly error: string }
  | { readonly id: string; readonly stage: 'issued'; readonly cert: Uint8Array; readonly fields: GoFields };

export interface RunOracleOptions {
  /** Kill the oracle and throw after this long (default 60 s). */
  readonly timeoutMs?: number;
  /** Kill the oracle and throw when its output grows past this (default 64 MiB). */
  readonly maxOutputBytes?: number;
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const files = readdirSync(sourceDir).filter((f) => f.endsWith('.go') || f === 'go.mod').sort();
  for (const f of files) {
    hash.update(`${f}\0`);
    hash.update(readFileSync(join(sourceDir, f)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 32);
}

function goEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };
  env.GOCACHE ??= join(cacheRoot, 'gocache');
  if (env.HOME === undefined && env.GOPATH === undefined) env.GOPATH = join(cacheRoot, 'gopath');
  return env;
}

function build(): string {
  const dir = join(cacheRoot, sourceHash());
  const binary = join(dir, 'oracle');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const temporary = join(dir, `oracle.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const r = spawnSync('go', ['build', '-trimpath', '-o', temporary, '.'], { cwd: sourceDir, env: goEnv(), encoding: 'utf8', timeout: buildTimeoutMs });
  if (r.error) {
    rmSync(temporary, { force: true });
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('the Go oracle needs go, which is not installed: apt-get install golang-go');
    throw new Error(`building the Go oracle failed: ${r.error.message}`);
  }
  if (r.status !== 0) {
    rmSync(temporary, { force: true });
    throw new Error(`building the Go oracle failed (go build exited ${String(r.status)}): ${r.stderr.slice(0, 4000)}`);
  }
  renameSync(temporary, binary);
  return binary;
}

let built: Promise<string> | undefined;

/** The path of the built oracle binary (built on first use, shared between processes). */
export function goOracle(): Promise<string> {
  built ??= new Promise<string>((resolve) => resolve(build()));
  return built;
}

/** Runs the oracle once with every input as a JSON line; returns one output per input, in order. */
export async function runOracle<T>(mode: 'parse' | 'kcm-sign', inputs: readonly object[], options: RunOracleOptions = {}): Promise<T[]> {
  const binary = await goOracle();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxOutputBytes = options.maxOutputBytes ?? 64 * 1024 * 1024;
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(binary, [mode], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let failure: Error | undefined;
    const stop = (e: Error): void => {
      failure ??= e;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new Error(`the Go oracle (${mode}) did not finish within ${String(timeoutMs)} ms`)), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxOutputBytes) stop(new Error(`the Go oracle (${mode}) wrote more than ${String(maxOutputBytes)} bytes`));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errBytes += chunk.length;
      if (errBytes <= 16_384) err.push(chunk);
    });
    child.stdin.on('error', () => undefined); // the exit status reports why the oracle stopped reading
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else if (code !== 0) reject(new Error(`the Go oracle (${mode}) exited ${String(code ?? signal)}: ${Buffer.concat(err).toString('utf8').trim()}`));
      else resolve(Buffer.concat(out).toString('utf8'));
    });
    child.stdin.end(inputs.map((i) => `${JSON.stringify(i)}\n`).join(''));
  });
  const lines = stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== inputs.length) throw new Error(`the Go oracle (${mode}) answered ${String(lines.length)} lines for ${String(inputs.length)} inputs`);
  return lines.map((l) => JSON.parse(l) as T);
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** DER from DER or from the first PEM block of `label`. */
function der(value: Uint8Array | string, label: string): string {
  if (typeof value !== 'string') return b64(value);
  const m = new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`).exec(value);
  if (!m?.[1]) throw new Error(`expected a PEM ${label} block`);
  return m[1].replace(/\s+/g, '');
}

/** What Go's crypto/x509 makes of each certificate. */
export function goParse(items: readonly GoParseItem[], options?: RunOracleOptions): Promise<GoParsed[]> {
  return runOracle<GoParsed>('parse', items.map((i) => ({
    id: i.id,
    cert: b64(i.cert),
    ...(i.issuer ? { issuer: b64(i.issuer) } : {}),
    ...(i.roots ? { roots: i.roots.map(b64) } : {}),
    ...(i.at ? { at: i.at.toISOString() } : {}),
  })), options);
}

type RawSignOutput = { id: string; stage: 'create' | 'validation' | 'sign'; error: string } | { id: string; stage: 'issued'; cert: string; fields: GoFields };

/** What kube-controller-manager's in-tree signer would do with each request. */
export async function kcmSign(items: readonly KcmSignInput[], options?: RunOracleOptions): Promise<KcmSignOutput[]> {
  const raw = await runOracle<RawSignOutput>('kcm-sign', items.map((i) => ({
    id: i.id,
    csr: i.csr,
    signerName: i.signerName,
    usages: i.usages,
    ...(i.username === undefined ? {} : { username: i.username }),
    ...(i.expirationSeconds === undefined ? {} : { expirationSeconds: i.expirationSeconds }),
    clusterSigningDurationSeconds: i.clusterSigningDurationSeconds,
    now: i.now.toISOString(),
    caCert: der(i.caCert, 'CERTIFICATE'),
    caKey: der(i.caKey, 'PRIVATE KEY'),
  })), options);
  return raw.map((r) => (r.stage === 'issued' ? { id: r.id, stage: 'issued', cert: Buffer.from(r.cert, 'base64'), fields: r.fields } : r));
}
