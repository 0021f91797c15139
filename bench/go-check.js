// The bench's certificates through Go's crypto/x509, as the test suite's are: the certificates
// a bench script's own checks looked at are written in the certificate sink's format and handed
// to test/cert-sink/check-cli.ts (one Go oracle run, after the timed parts). Needs `go`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/**
 * `certificates`: [{ der, issuerDer }] (DER bytes), `proc`: who issued them, for the report.
 * Returns the check's summary line; throws with its report when Go rejects one or cannot run.
 */
export function goCheck(proc, certificates) {
  const dir = mkdtempSync(join(tmpdir(), 'csr-signer-bench-sink-'));
  try {
    const b64 = (bytes) => Buffer.from(bytes).toString('base64');
    writeFileSync(join(dir, 'bench.jsonl'), certificates.map((c) => `${JSON.stringify({ cert: b64(c.der), issuer: b64(c.issuerDer), proc })}\n`).join(''));
    const env = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' };
    delete env.CSR_SIGNER_CERT_SINK;
    const r = spawnSync(process.execPath, ['--import=@tapjs/typescript/import', join(root, 'test', 'cert-sink', 'check-cli.ts'), dir, '0', '0'],
      { cwd: root, env, encoding: 'utf8', timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`Go's crypto/x509 rejected a certificate of ${proc}, or the check could not run:\n${r.stdout}${r.stderr}${r.error ? r.error.message : ''}`);
    return r.stdout.split('\n')[0] ?? '';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
