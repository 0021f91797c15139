/** `csr-signer sign`: issue one certificate from files, print the PEM. */
import { flagError } from './exit.js';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from '../duration.js';
import { csrError, isCsrSignerError } from '../errors.js';
import { readBounded, type FileKind } from '../files.js';
import { integerFlag } from '../numbers.js';
import { knownUsages, loadCertificateAuthority, signRequest, type NamedBytes } from '../pki/index.js';

export const defaultUsages = 'digital signature,key encipherment,server auth';
export const defaultDuration = '8760h';

export const signUsage = `Usage: csr-signer sign --ca-cert FILE --ca-key FILE --csr FILE [options]

Issues one certificate for a PKCS#10 request with the Kubernetes signer's profile
(usages, lifetime rules; docs/replacing-kcm.md lists what differs) and prints it
as PEM on stdout. Errors go to stderr.

  --ca-cert FILE             CA certificate (PEM; may be a bundle: the one matching the key signs)
  --ca-key FILE              CA private key (PKCS#8, PKCS#1, SEC1 or encrypted PKCS#8)
  --ca-key-passphrase-file FILE
                             passphrase for an encrypted CA key (first line of FILE)
  --csr FILE                 the request, PEM or DER; "-" reads stdin
  --usages LIST              comma-separated Kubernetes usages (default "${defaultUsages}")
  --duration D               maximum lifetime, Go syntax like 8760h or 1h30m (default ${defaultDuration})
  --expiration-seconds N     requested lifetime, as spec.expirationSeconds (clamped to [10m, --duration])
  --include-chain            append the CA's intermediates from --ca-cert after the certificate

Usages: ${knownUsages.join(', ')}.
`;

const readNamed = (path: string, kind: FileKind): NamedBytes => {
  try {
    return { name: path, bytes: readBounded(path, kind, { dashIsStdin: kind === 'request' }) };
  } catch (e) {
    if (isCsrSignerError(e)) throw e;
    throw csrError('InvalidArgument', `cannot read ${path === '-' ? 'stdin' : path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
};

function required(values: Record<string, unknown>, flag: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value === '') throw csrError('InvalidArgument', `--${flag} is required (see csr-signer sign --help)`);
  return value;
}

export async function runSign(argv: readonly string[], out: NodeJS.WritableStream): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'ca-cert': { type: 'string' },
        'ca-key': { type: 'string' },
        'ca-key-passphrase-file': { type: 'string' },
        csr: { type: 'string' },
        usages: { type: 'string', default: defaultUsages },
        duration: { type: 'string', default: defaultDuration },
        'expiration-seconds': { type: 'string' },
        'include-chain': { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw flagError('sign', e);
  }
  const usages = values.usages.split(',').map((u) => u.trim()).filter((u) => u !== '');
  const maxDurationMs = parseDuration(values.duration);
  if (maxDurationMs < 60_000) throw csrError('InvalidArgument', `--duration ${formatDuration(maxDurationMs)} is shorter than a minute`);
  let expirationSeconds: number | undefined;
  if (values['expiration-seconds'] !== undefined) {
    // spec.expirationSeconds is an int32; below 10 minutes it is raised to 10, as the API server requires at least 600.
    expirationSeconds = integerFlag('expiration-seconds', values['expiration-seconds'], { min: 1, max: 2_147_483_647, unit: 'seconds' });
  }
  const passphraseFile = values['ca-key-passphrase-file'];
  const passphrase = passphraseFile === undefined ? undefined : Buffer.from(readNamed(passphraseFile, 'passphrase').bytes).toString('utf8').split(/\r?\n/)[0] ?? '';
  const certificate = readNamed(required(values, 'ca-cert'), 'caCertificate');
  const key = readNamed(required(values, 'ca-key'), 'caKey');
  const csr = readNamed(required(values, 'csr'), 'request');
  const now = new Date();
  const ca = await loadCertificateAuthority({ certificate, key, ...(passphrase === undefined ? {} : { passphrase }) }, now);
  const issued = await signRequest(csr.bytes, { usages, maxDurationMs, includeChain: values['include-chain'] }, ca, {
    now,
    random: (n) => randomBytes(n),
    ...(expirationSeconds === undefined ? {} : { expirationSeconds }),
  });
  out.write(issued.pem);
  return 0;
}
