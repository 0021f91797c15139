/** Client certificates made by openssl (an independent implementation), for devapi's x509 authentication. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { must, type PemFiles, type TestCa } from './ca.js';
import { run, writeTemp } from './tools.js';

export type TestClientCertificate = PemFiles;

/**
 * A P-256 client certificate for `subject` (openssl form, `/CN=system:node:worker-1/O=system:nodes`) issued by
 * `ca`, with extended key usage clientAuth. `days: -1` makes one that has already expired.
 */
export function makeClientCertificate(dir: string, name: string, ca: TestCa, subject: string, options: { days?: number } = {}): TestClientCertificate {
  const keyPath = join(dir, `${name}-key.pem`);
  const certPath = join(dir, `${name}.pem`);
  const csrPath = join(dir, `${name}.csr`);
  must(run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-subj', subject, '-out', csrPath]), 'openssl req');
  const ext = writeTemp(dir, `${name}.ext`, 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n');
  must(run('openssl', ['x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', String(Date.now()),
    '-days', String(options.days ?? 1), '-extfile', ext, '-out', certPath]), 'openssl x509 -req');
  return { certPath, keyPath, certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}
