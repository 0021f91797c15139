/**
 * The certificate sink's preload: loaded with `node --import=<this file>` into every
 * process of a test run (tap's test processes and the csr-signer processes the tests
 * start, through NODE_OPTIONS), it records each certificate the PKI core announces on
 * `csr-signer:pki:certificate-issued` as one JSON line in `$CSR_SIGNER_CERT_SINK/<pid>.jsonl`:
 * `{"cert": base64 DER, "issuer": base64 DER, "proc": "<what the process runs>"}`.
 * Without CSR_SIGNER_CERT_SINK it does nothing. Plain JavaScript, so that a process
 * started as `node dist/cli.js ...` (no TypeScript loader) loads it too; the write is
 * synchronous so that a process killed right after issuing has already recorded it.
 * test/cert-sink/run.js sets the environment; test/cert-sink/check.ts reads the lines.
 */
import { subscribe } from 'node:diagnostics_channel';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { threadId } from 'node:worker_threads';

const dir = process.env.CSR_SIGNER_CERT_SINK;
if (dir) {
  /** The script and its first argument, a path inside the repository relative to it: `test/pki/issue.test.ts`, `dist/cli.js sign`. */
  const root = join(import.meta.dirname, '..', '..');
  const proc = process.argv.length < 2 ? '[eval]' : process.argv.slice(1, 3)
    .map((a) => (a.startsWith(`${root}/`) ? relative(root, a) : a))
    .join(' ')
    .slice(0, 200);
  const file = join(dir, threadId === 0 ? `${process.pid}.jsonl` : `${process.pid}-${threadId}.jsonl`);
  let fd;
  subscribe('csr-signer:pki:certificate-issued', (message) => {
    const { der, issuerDer } = message;
    const line = JSON.stringify({ cert: Buffer.from(der).toString('base64'), issuer: Buffer.from(issuerDer).toString('base64'), proc });
    fd ??= openSync(file, 'a');
    writeSync(fd, `${line}\n`);
  });
  process.once('exit', () => {
    if (fd !== undefined) closeSync(fd);
  });
}
