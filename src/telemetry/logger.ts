/**
 * The process's logger: pino, JSON lines on stdout (or their text form, log-text.ts),
 * made once in the composition root and passed down. Anything that could carry key
 * material or credentials is redacted by field name, whatever a caller logs by mistake.
 */
import { pino, type Logger } from 'pino';
import type { LogFormat, LogLevel } from '../config/types.js';
import { textDestination } from './log-text.js';

/** Fields never written, at the top level of a line and one level down (and a `headers` object's Authorization there). */
export const redactedFields: ReadonlySet<string> = new Set(['key', 'privateKey', 'passphrase', 'token', 'authorization', 'request']);
const CENSOR = '[redacted]';

/**
 * `fields` with each redacted field's value replaced by "[redacted]", at the top level and
 * one level down, and the Authorization of a `headers` object at either level. The caller's
 * object is never changed: a copy is made only where something is replaced, so a line with
 * nothing to hide (the audit record of every certificate) costs one pass over its keys. An
 * Error is left to its serializer (serializeError), which writes only allow-listed fields.
 *
 * pino's own `redact` option does the same by wildcard paths ('*.key'), and its wildcards
 * walk and copy every line: about 25 µs of CPU per audit record, against the ~1 µs here.
 */
export function redactFields<T>(fields: T, depth = 0): T {
  if (typeof fields !== 'object' || fields === null || fields instanceof Error || ArrayBuffer.isView(fields)) return fields;
  const source = fields as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const name of Object.keys(source)) {
    const value = source[name];
    let out = value;
    if (redactedFields.has(name)) out = CENSOR;
    else if (typeof value === 'object' && value !== null) {
      if (depth === 0) out = redactFields(value, 1);
      if (name === 'headers' && Object.hasOwn(out as object, 'Authorization')) out = { ...(out as object), Authorization: CENSOR };
    }
    if (out !== value) {
      copy ??= Array.isArray(source) ? [...source] as unknown as Record<string, unknown> : { ...source };
      copy[name] = out;
    }
  }
  return (copy ?? fields) as T;
}

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
  const logger = pino({
    level,
    base: { component: 'csr-signer' },
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }), log: redactFields },
  }, out as pino.DestinationStream);
  // pino gives a child's bindings to no formatter: they are redacted on the way in (children of children inherit this).
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with each logger's own `this`
  const child = logger.child as unknown as (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  logger.child = function redactedChild(this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions): Logger {
    return child.call(this, redactFields(bindings), options);
  } as unknown as typeof logger.child;
  return logger;
}
