/**
 * The process's logger: pino, JSON lines on stdout, made once in the composition
 * root and passed down. Anything that could carry key material or credentials is
 * redacted by path, whatever a caller logs by mistake.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/types.js';

export const redactedPaths = [
  'key', '*.key', 'privateKey', '*.privateKey', 'passphrase', '*.passphrase', 'token', '*.token',
  'authorization', '*.authorization', 'headers.Authorization', '*.headers.Authorization', 'request', '*.request',
];

export function createLogger(level: LogLevel, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino({
    level,
    base: { component: 'csr-signer' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, destination as pino.DestinationStream);
}
