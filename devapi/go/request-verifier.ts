/**
 * Verifies CSR requests on a worker thread (request-verifier-worker.ts). Parsing a request,
 * importing its key and checking its signature is the largest cost of a create and depends
 * only on the request's bytes, so it runs beside the event loop; validation then finds the
 * verdict remembered (resources/csr-validation.ts). Requests that arrive together go in one message.
 * Should the worker fail to start or die, verdicts are computed on the event loop instead:
 * slower, never different.
 */
import { Worker } from 'node:worker_threads';
import { jsonBytes } from './encoding.js';
import { checkSignature, parseCsr } from './x509-request.js';

/** The verdict validation gives a request: Go's parse error, its signature error, or undefined. */
export function requestVerdict(encoded: unknown): string | undefined {
  const parsed = parseCsr(jsonBytes(encoded));
  return typeof parsed === 'string' ? parsed : checkSignature(parsed);
}

export interface VerifyRequest {
  readonly id: number;
  /** spec.request as the client sent it (base64 of PEM). */
  readonly encoded: string;
}

export interface VerifyReply {
  readonly id: number;
  /** undefined when the request parses and its signature verifies, else Go's error text. */
  readonly verdict: string | undefined;
}

/**
 * The worker's file when devapi runs built (.js). From the TypeScript sources (the in-process
 * tests) a worker would compile all of devapi a second time, for seconds; verdicts are
 * computed in-thread there instead (test/devapi/go/request-verifier.test.ts runs the worker).
 */
export const builtWorkerUrl: URL | undefined = import.meta.url.endsWith('.js') ? new URL('./request-verifier-worker.js', import.meta.url) : undefined;

export class RequestVerifier {
  #worker: Worker | undefined;
  /** No worker (none given, it failed, or close was called): verdicts are computed on this thread. */
  #inThread: boolean;
  #nextId = 0;
  #queue: VerifyRequest[] = [];
  readonly #waiting = new Map<number, { encoded: string; resolve: (verdict: string | undefined) => void }>();

  /** `workerUrl` undefined: every verdict is computed on this thread. */
  constructor(private readonly workerUrl: URL | undefined) {
    this.#inThread = workerUrl === undefined;
  }

  verdict(encoded: string): Promise<string | undefined> {
    if (this.#inThread) return Promise.resolve(requestVerdict(encoded));
    return new Promise((resolve) => {
      const id = this.#nextId++;
      this.#waiting.set(id, { encoded, resolve });
      if (this.#queue.push({ id, encoded }) === 1) setImmediate(() => this.#send());
    });
  }

  /** Ends the worker; verdicts still awaited are computed here. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#inThread = true;
    this.#answerHere();
    await worker?.terminate();
  }

  #send(): void {
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0 || this.#inThread || !this.workerUrl) return;
    try {
      const worker = this.#worker ?? this.#start(this.workerUrl);
      worker.ref();
      worker.postMessage(batch);
    } catch {
      this.#giveUp(this.#worker);
    }
  }

  #start(url: URL): Worker {
    const worker = new Worker(url);
    this.#worker = worker;
    worker.on('message', (replies: VerifyReply[]) => {
      for (const { id, verdict } of replies) {
        this.#waiting.get(id)?.resolve(verdict);
        this.#waiting.delete(id);
      }
      if (this.#waiting.size === 0) worker.unref();
    });
    worker.on('error', () => this.#giveUp(worker));
    worker.on('exit', () => this.#giveUp(worker));
    // Held only while verdicts are awaited (#send refs, the last reply unrefs): an idle worker never keeps devapi running.
    worker.unref();
    return worker;
  }

  #giveUp(worker: Worker | undefined): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#inThread = true;
    this.#answerHere();
    void worker?.terminate();
  }

  /** Answers every awaited verdict on this thread. */
  #answerHere(): void {
    this.#queue = [];
    for (const [id, { encoded, resolve }] of this.#waiting) {
      this.#waiting.delete(id);
      resolve(requestVerdict(encoded));
    }
  }
}
