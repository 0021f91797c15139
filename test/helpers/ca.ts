/** Test CAs made by openssl (an independent implementation) in a temporary directory. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCertificateAuthority, type CertificateAuthority } from '../../src/pki/index.js';
import { run } from './tools.js';

export type CaKeyType = 'p256' | 'p384' | 'p521' | 'rsa2048' | 'ed25519';

const genkeyArgs: Record<CaKeyType, string[]> = {
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  p521: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  ed25519: ['-algorithm', 'ED25519'],
};

/** A certificate and its key, as files and as the PEM they hold. */
export interface PemFiles {
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export type TestCa = PemFiles;

/** Throws with openssl's stderr when the run failed. */
export function must(r: { code: number; stderr: string }, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
}

/** A self-signed CA with SKI, keyUsage keyCertSign and CA:TRUE, valid `days` from now. */
export function makeOpensslCa(dir: string, name: string, type: CaKeyType, options: { days?: number; extensions?: string[] } = {}): TestCa {
  const keyPath = join(dir, `${name}-key.pem`);
  const certPath = join(dir, `${name}.pem`);
  must(run('openssl', ['genpkey', ...genkeyArgs[type], '-out', keyPath]), 'openssl genpkey');
  const extensions = options.extensions ?? [
    'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash',
  ];
  must(run('openssl', ['req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${name} test CA/O=csr-signer tests`,
    '-days', String(options.days ?? 3650), '-out', certPath, ...extensions.flatMap((e) => ['-addext', e])]), 'openssl req -x509');
  return { certPath, keyPath, certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}

export const loadTestCa = (ca: TestCa, now = new Date()): Promise<CertificateAuthority> =>
  loadCertificateAuthority({
    certificate: { name: ca.certPath, bytes: Buffer.from(ca.certPem) },
    key: { name: ca.keyPath, bytes: Buffer.from(ca.keyPem) },
  }, now);
