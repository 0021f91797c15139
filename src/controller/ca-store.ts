/**
 * The CA of every signer, loaded from its files. Loading at start is all-or-nothing
 * and every error names the signer and file; at signing time `lookup` hands out the
 * CA in use.
 */
import { readFileSync } from 'node:fs';
import { csrError, CsrSignerError } from '../errors.js';
import { loadCertificateAuthority, type CertificateAuthority, type NamedBytes } from '../pki/index.js';
import type { SignerConfig } from '../signer/types.js';

function readNamed(path: string, what: string, signer: string): NamedBytes {
  try {
    return { name: path, bytes: readFileSync(path) };
  } catch (e) {
    throw csrError('InvalidArgument', `signer ${signer}: cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Reads and checks one signer's CA files. */
export async function loadSignerCa(signer: SignerConfig, now: Date): Promise<CertificateAuthority> {
  const certificate = readNamed(signer.ca.certFile, 'CA certificate', signer.name);
  const key = readNamed(signer.ca.keyFile, 'CA key', signer.name);
  const passphrase = signer.ca.passphraseFile === undefined
    ? undefined
    : Buffer.from(readNamed(signer.ca.passphraseFile, 'CA key passphrase file', signer.name).bytes).toString('utf8').split(/\r?\n/)[0] ?? '';
  try {
    return await loadCertificateAuthority({ certificate, key, ...(passphrase === undefined ? {} : { passphrase }) }, now);
  } catch (e) {
    if (e instanceof CsrSignerError) throw new CsrSignerError(e.kind, `signer ${signer.name}: ${e.message}`, { cause: e });
    throw e;
  }
}

export class CaStore {
  private readonly cas = new Map<string, CertificateAuthority>();

  static async load(signers: readonly SignerConfig[], now: Date): Promise<CaStore> {
    const store = new CaStore();
    for (const signer of signers) store.cas.set(signer.name, await loadSignerCa(signer, now));
    return store;
  }

  /** The CA a signer signs with now. */
  lookup = (signerName: string): CertificateAuthority => {
    const ca = this.cas.get(signerName);
    if (!ca) throw new Error(`no CA loaded for signer ${signerName}`);
    return ca;
  };

  set(signerName: string, ca: CertificateAuthority): void {
    this.cas.set(signerName, ca);
  }
}
