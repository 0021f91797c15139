#!/usr/bin/env node
/**
 * Runs a test command with the certificate sink, then checks what it collected:
 *
 *   node test/cert-sink/run.js <minimum from tests> <minimum from started processes> -- tap [args...]
 *
 * A fresh directory is named in CSR_SIGNER_CERT_SINK and test/cert-sink/preload.js is
 * added to NODE_OPTIONS, so tap's test processes and every process they start with the
 * inherited environment record the certificates they issue. Then check-cli.ts hands each
 * one to Go's crypto/x509. The exit status is the command's when it failed, else the check's.
 * The directory is removed when both pass and kept (its path printed) otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const dash = args.indexOf('--');
const [minTests, minChildren] = args.slice(0, dash);
if (dash !== 2 || args.length === dash + 1 || !/^\d+$/.test(minTests ?? '') || !/^\d+$/.test(minChildren ?? '')) {
  console.error('usage: node test/cert-sink/run.js <minimum from tests> <minimum from started processes> -- <command> [args...]');
  process.exit(2);
}
const [command = '', ...commandArgs] = args.slice(dash + 1);
// `npm test -- some.test.ts` runs part of the suite: every certificate is still checked,
// but the minimums, set for the whole suite, would fail it.
const partial = command === 'tap' && commandArgs.length > 0;
if (partial) console.error('cert-sink: a partial tap run; the minimum counts are not checked');

const dir = mkdtempSync(join(tmpdir(), 'csr-signer-cert-sink-'));
// A file: URL has no spaces to split NODE_OPTIONS on.
const preload = `--import=${pathToFileURL(join(import.meta.dirname, 'preload.js')).href}`;
const env = { ...process.env, CSR_SIGNER_CERT_SINK: dir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${preload}`.trim() };
const tests = spawnSync(command, commandArgs, { stdio: 'inherit', env });
if (tests.error) console.error(`cert-sink: could not run ${command}: ${tests.error.message}`);
const testStatus = tests.error ? 1 : (tests.status ?? 1);

const checkEnv = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' };
delete checkEnv.CSR_SIGNER_CERT_SINK;
const check = spawnSync(process.execPath, ['--import=@tapjs/typescript/import', join(import.meta.dirname, 'check-cli.ts'), dir, partial ? '0' : minTests, partial ? '0' : minChildren],
  { stdio: 'inherit', cwd: root, env: checkEnv });
const checkStatus = check.error ? 1 : (check.status ?? 1);
if (testStatus === 0 && checkStatus === 0) rmSync(dir, { recursive: true, force: true });
else console.error(`cert-sink: the certificates are kept in ${dir}`);
process.exit(testStatus !== 0 ? testStatus : checkStatus);
