/** Reading requests and writing responses the way kube-apiserver does. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest } from '../api/errors.js';

const MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function parseJson(body: Buffer, what = 'the request body'): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (e) {
    throw badRequest(`error decoding ${what}: ${(e as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}): void {
  sendJsonText(res, code, JSON.stringify(body), contentType, headers);
}

/** sendJson for a body already serialized. */
export function sendJsonText(res: ServerResponse, code: number, text: string, contentType = 'application/json', headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.code, error.toStatus(), 'application/json', error.headers ?? {});
}

export const wantsTable = (accept: string | undefined): boolean => /as=Table/.test(accept ?? '') && /g=meta\.k8s\.io/.test(accept ?? '');

export const mediaType = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** A response whose head and body are kept back: the handler runs, then the caller sends what it wrote or something else. */
export interface HeldReply {
  /** The status the handler answered, once it has. */
  readonly status: number | undefined;
  /** Sends what the handler wrote. */
  release(): void;
}

/**
 * Keeps back what a handler writes to `res` (every answer but a watch goes
 * through one writeHead and one end, see sendJsonText) until `done` settles;
 * `res` is itself again afterwards.
 */
export async function holdReply(res: ServerResponse, done: () => Promise<void>): Promise<HeldReply> {
  const writeHead = res.writeHead.bind(res);
  const end = res.end.bind(res);
  let head: Parameters<ServerResponse['writeHead']> | undefined;
  let body: Parameters<ServerResponse['end']> | undefined;
  res.writeHead = ((...args: Parameters<ServerResponse['writeHead']>) => {
    head = args;
    return res;
  }) as ServerResponse['writeHead'];
  res.end = ((...args: Parameters<ServerResponse['end']>) => {
    body = args;
    return res;
  }) as ServerResponse['end'];
  try {
    await done();
  } finally {
    Reflect.deleteProperty(res, 'writeHead');
    Reflect.deleteProperty(res, 'end');
  }
  return {
    status: head?.[0],
    release: () => {
      if (head) writeHead(...head);
      if (body) end(...body);
    },
  };
}
