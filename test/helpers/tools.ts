/**
 * Real binaries (openssl, cfssl) for independent checks. In CI a missing tool
 * fails the test (.ci/run must install it); elsewhere the test is skipped with
 * the Debian package to install.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], options: { input?: string | Uint8Array; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(command, args, { input: options.input, cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const packages: Record<string, string> = { go: 'golang-go', script: 'bsdutils', openssl: 'openssl', cfssl: 'golang-cfssl', cfssljson: 'golang-cfssl', kubectl: 'kubectl', promtool: 'prometheus',
  'softhsm2-util': 'softhsm2', 'pkcs11-tool': 'opensc', certtool: 'gnutls-bin' };

export const hasTool = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

interface Skippable {
  test(name: string, extra: { skip: string }, cb: () => void): unknown;
  fail(message: string): unknown;
}

/** True when `name` is available; otherwise fails (in CI) or skips (elsewhere) the test. */
export function needTool(t: Skippable, name: string): boolean {
  if (hasTool(name)) return true;
  const pkg = packages[name] ?? name;
  if (process.env.CI) t.fail(`${name} is not installed: .ci/run must install the Debian package ${pkg}`);
  else t.test(`needs ${name}`, { skip: `${name} is not installed: apt-get install -y ${pkg}` }, () => undefined);
  return false;
}

/** A temporary directory removed when the process exits. */
export function tempDir(prefix = 'csr-signer-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeTemp(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** `openssl verify -x509_strict`: returns openssl's output; code 0 means verified. */
export function opensslVerify(dir: string, caPem: string, leafPem: string, untrustedPem?: string, options: { at?: Date; strict?: boolean } = {}): RunResult {
  const ca = writeTemp(dir, 'verify-ca.pem', caPem);
  const leaf = writeTemp(dir, 'verify-leaf.pem', leafPem);
  const extra = untrustedPem ? ['-untrusted', writeTemp(dir, 'verify-untrusted.pem', untrustedPem)] : [];
  const at = options.at ? ['-attime', String(Math.floor(options.at.getTime() / 1000))] : [];
  return run('openssl', ['verify', ...(options.strict === false ? [] : ['-x509_strict']), ...at, '-CAfile', ca, ...extra, leaf]);
}

/** `openssl x509 -noout -text` of a PEM certificate. */
export const opensslText = (pem: string): string => {
  const r = run('openssl', ['x509', '-noout', '-text', '-nameopt', 'RFC2253'], { input: pem });
  if (r.code !== 0) throw new Error(`openssl x509 failed: ${r.stderr}`);
  return r.stdout;
};
