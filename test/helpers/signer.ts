/** Runs `csr-signer run` as a real process and collects its JSON log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { cli } from './devapi.js';

export interface SignerProcess {
  readonly child: ChildProcess;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves with the first log line matching, or rejects after `ms`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartSignerOptions {
  /** Resolve once a log line with this msg was written. */
  readonly waitFor?: string;
  /** The process's whole environment (default: this process's), e.g. a SoftHSM2 token's `env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Flags for node itself, before the script (e.g. --throw-deprecation). */
  readonly nodeArgs?: readonly string[];
}

export async function startSigner(args: readonly string[], options: StartSignerOptions = {}): Promise<SignerProcess> {
  // Tests run in parallel: never the default 0.0.0.0:8080.
  const http = args.some((a) => a.startsWith('--http-address')) ? [] : ['--http-address', '127.0.0.1:0'];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cli, 'run', ...http, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env === undefined ? {} : { env: options.env }) });
  const logs: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
      nl = pending.indexOf('\n');
    }
    for (const l of listeners) l();
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  process.on('exit', () => child.kill('SIGKILL'));
  const waitForLog = (match: (line: Record<string, unknown>) => boolean, ms = 20_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = logs.find(match);
        if (found) {
          listeners.delete(onData);
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve(found);
        }
        return found !== undefined;
      };
      const onData = (): void => { check(); };
      const onExit = (code: number | null): void => {
        listeners.delete(onData);
        clearTimeout(timer);
        reject(new Error(`csr-signer run exited with ${code}: ${stderr}\n${logs.map((l) => JSON.stringify(l)).join('\n')}`));
      };
      const timer = setTimeout(() => {
        listeners.delete(onData);
        child.off('exit', onExit);
        reject(new Error(`no matching log line in ${ms} ms; stderr: ${stderr}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`));
      }, ms);
      if (check()) return;
      listeners.add(onData);
      child.once('exit', onExit);
    });
  const signer: SignerProcess = {
    child, logs, stderr: () => stderr, waitForLog,
    stop: (signal = 'SIGTERM') => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
      child.kill(signal);
    }),
  };
  if (options.waitFor !== undefined) await waitForLog((l) => l.msg === options.waitFor);
  return signer;
}

/** `run` flags for the one signer example.com/serving with the signer's least-privilege kubeconfig, leader election off, its rotation record in devapi's csr-signer namespace. */
export const servingSignerArgs = (kubeconfig: string, certFile: string, keyFile: string, ...extra: string[]): string[] => [
  '--kubeconfig', kubeconfig, '--cluster-signing-cert-file', certFile, '--cluster-signing-key-file', keyFile,
  '--signer-name', 'example.com/serving', '--signer-unrestricted', '--leader-elect=false', '--leader-elect-resource-namespace', 'csr-signer', ...extra,
];
