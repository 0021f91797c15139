/** Runs `csr-signer devapi` as a real process and drives the real kubectl against it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, tempDir, type RunResult } from './tools.js';

const root = join(import.meta.dirname, '..', '..');
export const cli = join(root, 'dist', 'cli.js');

export interface DevapiProcess {
  readonly url: string;
  readonly stateDir: string;
  readonly child: ChildProcess;
  kubeconfig(id: 'admin' | 'signer' | 'approver' | 'requester'): string;
  stop(): Promise<void>;
}

/** Starts devapi on a free port and waits for its "ready" line. */
export async function startDevapi(options: { stateDir?: string; args?: string[]; port?: number } = {}): Promise<DevapiProcess> {
  const stateDir = options.stateDir ?? join(tempDir('devapi-'), 'state');
  mkdirSync(stateDir, { recursive: true });
  const child = spawn(process.execPath, [cli, 'devapi', '--state-dir', stateDir, '--port', String(options.port ?? 0), ...(options.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`devapi did not get ready in 20 s: ${stderr}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at (https:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? '');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devapi exited with ${code}: ${stderr}`));
    });
  });
  process.on('exit', () => child.kill('SIGKILL'));
  return {
    url, stateDir, child,
    kubeconfig: (id) => join(stateDir, `${id}.kubeconfig`),
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/** The real kubectl with one identity's kubeconfig, a private HOME and discovery cache. */
export function kubectl(api: DevapiProcess, id: 'admin' | 'signer' | 'approver' | 'requester', args: string[], input?: string): RunResult {
  const home = join(api.stateDir, '..', 'home');
  mkdirSync(home, { recursive: true });
  const env = { ...process.env, HOME: home, KUBECONFIG: api.kubeconfig(id), KUBECACHEDIR: join(home, 'cache') };
  return run('kubectl', args, input === undefined ? { env } : { env, input });
}

export { root, run };

/** One request to a devapi (in-process or not) with an identity's token from its state directory; any status resolves. */
export async function devapiCall(
  target: { readonly url: string; readonly stateDir: string }, id: 'admin' | 'signer' | 'approver' | 'requester', method: string, path: string,
  body?: unknown, contentType = 'application/json', accept = 'application/json',
): Promise<{ code: number; body: Record<string, unknown>; text: string }> {
  const { request } = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const token = /token: (\S+)/.exec(readFileSync(join(target.stateDir, `${id}.kubeconfig`), 'utf8'))?.[1] ?? '';
  const ca = readFileSync(join(target.stateDir, 'ca.pem'));
  return new Promise((resolve, reject) => {
    // A connection of its own per call (agent: false): a kept-alive socket that devapi closes
    // as idle just as the next call reuses it fails that call with ECONNRESET, which Go's
    // clients retry and this helper would not.
    const req = request(`${target.url}${path}`, { method, ca, agent: false, headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType, Accept: accept } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => {
        let parsed: Record<string, unknown> = {};
        try { parsed = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON */ }
        resolve({ code: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}
