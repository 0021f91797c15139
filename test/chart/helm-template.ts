/**
 * `helm template` without helm: test/chart/helm/main.go renders the chart with Go's
 * text/template and the Sprig library, as Helm's engine does (see that file), built
 * from Debian's Go packages (golang-go, golang-github-masterminds-sprig-dev,
 * golang-k8s-sigs-yaml-dev) in GOPATH mode, offline.
 *
 * The binary is built once per version of its source, into
 * `<tmpdir>/csr-signer-helm-template/<sha256 of main.go>/helm-template`, under a
 * temporary name then renamed, so test processes running at once share one build.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sourceDir = join(import.meta.dirname, 'helm');
const cacheRoot = join(tmpdir(), 'csr-signer-helm-template');
/** Where Debian installs Go library sources (`golang-*-dev` packages). */
const debianGoPath = '/usr/share/gocode';
const buildTimeoutMs = 300_000;
const debianPackages = 'golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev';

/** A template error, worded as Helm words it ("execution error at (file:line:col): message"). */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * One process builds, the others wait for its binary: test files run in parallel and a
 * first build compiles Sprig and its dependencies (half a minute on a busy machine).
 * A lock older than the build timeout is taken as left by a killed process.
 */
function build(): string {
  const source = readFileSync(join(sourceDir, 'main.go'));
  const dir = join(cacheRoot, createHash('sha256').update(source).digest('hex').slice(0, 32));
  const binary = join(dir, 'helm-template');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'building');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(binary)) return binary;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > buildTimeoutMs) rmSync(lock, { recursive: true, force: true });
      else sleep(250);
    }
  }
  try {
    if (existsSync(binary)) return binary;
    return compile(dir, binary);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function compile(dir: string, binary: string): string {
  const temporary = join(dir, `helm-template.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // GOPATH mode: the Debian packages are source trees under /usr/share/gocode, not a module cache.
  const env: NodeJS.ProcessEnv = {
    ...process.env, GO111MODULE: 'off', GOPATH: `${join(cacheRoot, 'gopath')}:${debianGoPath}`, GOPROXY: 'off', GOFLAGS: '', GOTOOLCHAIN: 'local', CGO_ENABLED: '0',
  };
  env.GOCACHE ??= join(cacheRoot, 'gocache');
  const r = spawnSync('go', ['build', '-trimpath', '-o', temporary, '.'], { cwd: sourceDir, env, encoding: 'utf8', timeout: buildTimeoutMs });
  if (r.error || r.status !== 0) {
    rmSync(temporary, { force: true });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(`rendering the chart needs go, which is not installed: apt-get install ${debianPackages}`);
    const why = r.error ? r.error.message : r.stderr.slice(0, 4000);
    const missing = /cannot find package/.test(why) ? ` (apt-get install ${debianPackages})` : '';
    throw new Error(`building test/chart/helm failed${missing}: ${why}`);
  }
  renameSync(temporary, binary);
  return binary;
}

let binary: string | undefined;

export interface TemplateInput {
  readonly chart: Record<string, unknown>;
  /** The chart's files outside templates/ (.Files), by path from the chart's folder. */
  readonly files?: Readonly<Record<string, string>>;
  /** File name under templates/ -> its text. */
  readonly templates: Readonly<Record<string, string>>;
  readonly values: Record<string, unknown>;
  readonly release: Record<string, unknown>;
  readonly apiVersions: readonly string[];
  readonly kubeVersion: string;
}

/** Renders every template (not the `_` partials): file name -> text. Throws TemplateError as helm fails. */
export function helmTemplate(input: TemplateInput): Map<string, string> {
  binary ??= build();
  const r = spawnSync(binary, [], { input: JSON.stringify(input), encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status === 1) throw new TemplateError(r.stderr.trim());
  if (r.status !== 0) throw new Error(`test/chart/helm exited ${String(r.status ?? r.signal)}: ${r.stderr.trim()}`);
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, string>));
}
