/**
 * Every file and stream csr-signer reads goes through `readBounded`: it stops at
 * a size limit per kind of file instead of reading the whole thing first, so
 * `--csr /dev/zero`, an endless pipe on stdin or a huge file fails at once with
 * one sentence naming the file and the limit, in bounded memory.
 *
 * Reads are synchronous (configuration is read before anything starts) and
 * bounded in time as well: a pipe or FIFO is opened without blocking and polled;
 * one that does not reach its end (or, for a named FIFO, gets no writer) within
 * the timeout is an error. docs/configuration.md lists the limits.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isatty } from 'node:tty';
import { csrError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The most csr-signer reads of each kind of file, in bytes, and how it names the file in errors. */
export const fileLimits = {
  request: { bytes: 1 * MiB, what: 'request' },
  caCertificate: { bytes: 4 * MiB, what: 'CA certificate file' },
  caKey: { bytes: 1 * MiB, what: 'CA key file' },
  passphrase: { bytes: 64 * KiB, what: 'passphrase file' },
  pkcs11Pin: { bytes: 4 * KiB, what: 'PKCS#11 PIN file' },
  trust: { bytes: 4 * MiB, what: 'trust file' },
  config: { bytes: 4 * MiB, what: 'config file' },
  kubeconfig: { bytes: 4 * MiB, what: 'kubeconfig' },
  kubeconfigCertificate: { bytes: 4 * MiB, what: 'certificate file of the kubeconfig' },
  kubeconfigKey: { bytes: 1 * MiB, what: 'key file of the kubeconfig' },
  token: { bytes: 64 * KiB, what: 'token file' },
  namespace: { bytes: 4 * KiB, what: 'service account namespace file' },
  policy: { bytes: 4 * MiB, what: 'policy file' },
  devapiState: { bytes: 256 * MiB, what: 'devapi state file' },
  devapiIdentity: { bytes: 1 * MiB, what: 'devapi identity file' },
} as const satisfies Record<string, { bytes: number; what: string }>;

export type FileKind = keyof typeof fileLimits;

/** How long a pipe or FIFO may take to deliver everything, unless a caller asks for less. */
export const defaultReadTimeoutMs = 10_000;

export interface ReadOptions {
  /** Overrides the kind's limit (tests; callers with a limit of their own). */
  readonly limit?: number;
  /** Overrides defaultReadTimeoutMs. */
  readonly timeoutMs?: number;
  /** "-" is stdin (only where a flag documents it, as `sign --csr -`); otherwise a file named "-". */
  readonly dashIsStdin?: boolean;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms`: configuration is read synchronously, before anything else runs. */
const sleep = (ms: number): void => void Atomics.wait(sleeper, 0, 0, ms);

/** An error whose `code` callers report as they report ENOENT. */
const fsError = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

/** stdin as a descriptor of its own, non-blocking where the system allows (a pipe, a FIFO, a file). */
function openStdin(what: string): { fd: number; close: boolean } {
  if (isatty(0)) {
    throw csrError('InvalidArgument', `stdin is a terminal: give the ${what} on a pipe or from a file (… < FILE)`);
  }
  try {
    return { fd: openSync('/dev/stdin', constants.O_RDONLY | constants.O_NONBLOCK), close: true };
  } catch {
    return { fd: 0, close: false }; // a socket, or no /dev/stdin: plain blocking reads of descriptor 0
  }
}

/**
 * Reads `path` (with dashIsStdin, "-" is stdin) up to the limit of `kind`. Throws FileTooLarge past the
 * limit (having read at most limit + 1 bytes), FileReadTimeout when a pipe or FIFO
 * stalls, InvalidArgument for stdin on a terminal, and the system's error (with its
 * `code`: ENOENT, EACCES, EISDIR) when the file cannot be opened or read.
 */
export function readBounded(path: string, kind: FileKind, options: ReadOptions = {}): Buffer {
  const { what } = fileLimits[kind];
  const limit = options.limit ?? fileLimits[kind].bytes;
  const timeoutMs = options.timeoutMs ?? defaultReadTimeoutMs;
  const stdin = path === '-' && options.dashIsStdin === true;
  const name = stdin ? 'stdin' : path;
  const { fd, close } = stdin ? openStdin(what) : { fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), close: true };
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw fsError('EISDIR', `${name} is a directory`);
    if (stat.isFile() && stat.size > limit) throw csrError('FileTooLarge', name, what, limit);
    // A named FIFO reads as ended until a writer opens it: wait for one, within the timeout.
    const waitForWriter = stat.isFIFO() && !stdin;
    const chunks: Buffer[] = [];
    let total = 0;
    const deadline = Date.now() + timeoutMs;
    let pause = 1;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * KiB, limit + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        n = -1;
      }
      if (n > 0) {
        chunks.push(chunk.subarray(0, n));
        total += n;
        if (total > limit) throw csrError('FileTooLarge', name, what, limit);
        pause = 1;
        continue;
      }
      if (n === 0 && !(waitForWriter && total === 0)) break;
      if (Date.now() >= deadline) throw csrError('FileReadTimeout', name, what, timeoutMs);
      sleep(pause);
      pause = Math.min(pause * 2, 20);
    }
    return Buffer.concat(chunks, total);
  } finally {
    if (close) closeSync(fd);
  }
}

/** readBounded as UTF-8 text. */
export const readBoundedText = (path: string, kind: FileKind, options?: ReadOptions): string => readBounded(path, kind, options).toString('utf8');
