/**
 * The process's logger: pino, JSON lines on stdout (or their text form, log-text.ts),
 * made once in the composition root and passed down. Anything that could carry key
 * material or credentials is redacted by path, whatever a caller logs by mistake.
 */
import { pino, type Logger } from 'pino';
import type { LogFormat, LogLevel } from '../config/types.js';
import { textDestination } from './log-text.js';

export const redactedPaths = [
  'key', '*.key', 'privateKey', '*.privateKey', 'passphrase', '*.passphrase', 'token', '*.token',
  'authorization', '*.authorization', 'headers.Authorization', '*.headers.Authorization', 'request', '*.request',
];

/**
 * The fields of an error a log line carries, besides its type, message and stack: what
 * says what went wrong. pino's own serializer copies every enumerable field, and
 * errors carry more than they say: a failed exec credential plugin's spawn error holds
 * the plugin's arguments (`spawnargs`, where a client secret may be), a TLS error the
 * whole peer certificate. An allow-list keeps them out.
 */
const errorFields = ['code', 'status', 'reason', 'kind', 'retryAfterMs', 'errno', 'syscall', 'path'] as const;
const MAX_CAUSES = 3;

export interface LoggedError {
  readonly type: string;
  readonly message: string;
  readonly stack?: string;
  readonly causes?: readonly { readonly type: string; readonly message: string }[];
  readonly [field: string]: unknown;
}

/**
 * The longest error message a log line carries, in characters. An API server's 422 quotes the
 * invalid value, and a status write's value can be a whole certificate chain (up to 100 KiB)
 * on every `will retry` line.
 */
export const MAX_LOGGED_MESSAGE = 1024;

/** `message` cut to MAX_LOGGED_MESSAGE characters, with an ellipsis and the original length. */
export function boundedMessage(message: string): string {
  if (message.length <= MAX_LOGGED_MESSAGE) return message;
  return `${message.slice(0, MAX_LOGGED_MESSAGE)}… (${message.length} characters)`;
}

/** An error as a log line carries it (`{ err }`, a LoggedError): type, message (bounded), stack, the allowed fields, the causes' types and messages. */
export function serializeError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const message = boundedMessage(e.message);
  const out: Record<string, unknown> = { type: e.constructor.name === 'Error' ? e.name : e.constructor.name, message };
  // The stack starts with the message: bounded the same way.
  if (e.stack !== undefined) out.stack = message === e.message ? e.stack : e.stack.replace(e.message, message);
  for (const field of errorFields) {
    const value = (e as unknown as Record<string, unknown>)[field];
    if (typeof value === 'string' || typeof value === 'number') out[field] = value;
  }
  const causes: { type: string; message: string }[] = [];
  for (let c: unknown = e.cause; c instanceof Error && causes.length < MAX_CAUSES; c = c.cause) causes.push({ type: c.name, message: boundedMessage(c.message) });
  if (causes.length > 0) out.causes = causes;
  return out;
}

/** `format` text writes the same records, redacted and serialized the same way, as text lines. */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream = process.stdout, format: LogFormat = 'json'): Logger {
  const out = format === 'text' ? textDestination(destination) : destination;
  return pino({
    level,
    base: { component: 'csr-signer' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, out as pino.DestinationStream);
}
