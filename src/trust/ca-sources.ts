/**
 * What a signer's CA is made of, read afresh at each load: the certificate (a file, or
 * the certificates on a token), the key (a key file, a key file whose only line is a
 * `pkcs11:` URI, or a URI of the configuration), the token's PIN and the trust file, and
 * one digest over all of it, so that an unchanged CA costs a few small reads. The digest
 * covers a key on a token by its module, URI and a SHA-256 of its PIN, never the PIN.
 */
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { csrError, CsrSignerError } from '../errors.js';
import { readBounded, type FileKind } from '../files.js';
import { describePkcs11Uri, isPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from '../hsm/uri.js';
import type { NamedBytes } from '../pki/index.js';
import type { CaSource, SignerConfig } from '../signer/types.js';

/** The running signer re-reads its CA files on a timer: a stalled pipe may hold it up this long at most. */
export const reloadReadTimeoutMs = 1000;

export function readNamed(path: string, what: string, kind: FileKind, signer: string): NamedBytes {
  try {
    return { name: path, bytes: readBounded(path, kind, { timeoutMs: reloadReadTimeoutMs }) };
  } catch (e) {
    if (e instanceof CsrSignerError) throw new CsrSignerError(e.kind, `signer ${signer}: ${e.message}`, { cause: e });
    throw csrError('InvalidArgument', `signer ${signer}: cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A key or certificate on a token, with what it takes to reach it. */
export interface TokenObject {
  readonly uri: Pkcs11Uri;
  readonly module: string;
  /** The user PIN, as read at this load. Never logged, never in a message. */
  readonly pin: string;
  /** Module, URI and SHA-256 of the PIN: a provider opened for one identity is reused while it stays the same. */
  readonly identity: string;
  /** Where the URI was given, for messages: `ca.key` of the config, or the key file. */
  readonly from: string;
}

export type KeySource =
  | { readonly kind: 'file'; readonly key: NamedBytes; readonly passphrase?: string }
  | { readonly kind: 'token'; readonly key: TokenObject };

/** The certificates come from a file, or (ca.cert) from the token, read by the caller. */
export type CertificateSource = { readonly kind: 'file'; readonly certificate: NamedBytes } | { readonly kind: 'token'; readonly certificate: TokenObject };

export interface CaSources {
  readonly certificate: CertificateSource;
  readonly key: KeySource;
  readonly trust?: NamedBytes;
  /** Over everything read here; the caller adds the certificates it reads from a token. */
  readonly digest: string;
}

/** The CA files of a signer; a signer without them (signing off) has no CA to load, and asking is a wiring mistake. */
export function caOf(signer: SignerConfig): CaSource {
  if (signer.ca === undefined) throw csrError('InvalidArgument', `signer ${signer.name}: has no CA files (ca: is left out because signing is off), so no CA is loaded for it`);
  return signer.ca;
}

const flagNames = { key: '--cluster-signing-*-key-file', cert: '--cluster-signing-*-cert-file', pinFile: '--pkcs11-pin-file', pinEnv: '--pkcs11-pin-env' } as const;

/** A CA setting as the signer's configuration spells it: a config file's field, or a flag of the command line. */
export function fieldName(signer: SignerConfig, field: keyof typeof flagNames): string {
  if (signer.source === 'command line') return flagNames[field];
  return field === 'pinFile' || field === 'pinEnv' ? `ca.pkcs11.${field}` : `ca.${field}`;
}

const firstLine = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8').split(/\r?\n/)[0] ?? '';

/** The PIN: the first line of pinFile, or the pinEnv variable. */
function readPin(signer: SignerConfig, ca: CaSource, env: Readonly<Record<string, string | undefined>>): string {
  const settings = ca.pkcs11;
  if (settings?.pinFile !== undefined) {
    const pin = firstLine(readNamed(settings.pinFile, 'PKCS#11 PIN file', 'pkcs11Pin', signer.name).bytes);
    if (pin === '') throw csrError('InvalidArgument', `signer ${signer.name}: the PKCS#11 PIN file ${settings.pinFile} (${fieldName(signer, 'pinFile')}) is empty; its first line is the token's user PIN`);
    return pin;
  }
  if (settings?.pinEnv !== undefined) {
    const pin = env[settings.pinEnv];
    if (pin === undefined || pin === '') {
      throw csrError('InvalidArgument', `signer ${signer.name}: the environment variable ${settings.pinEnv} (${fieldName(signer, 'pinEnv')}), which holds the token's user PIN, is ${pin === undefined ? 'not set' : 'empty'}`);
    }
    return pin;
  }
  throw csrError('InvalidArgument', `signer ${signer.name}: no PIN for the PKCS#11 token: give ca.pkcs11.pinFile or ca.pkcs11.pinEnv`);
}

/** A URI of the key file: the file's only line. */
function uriInKeyFile(key: NamedBytes): string | undefined {
  const text = Buffer.from(key.bytes).toString('utf8').trim();
  return !text.includes('\n') && isPkcs11Uri(text) ? text : undefined;
}

function tokenObject(
  signer: SignerConfig, ca: CaSource, text: string, from: string, pin: () => string, inKeyFile = false,
): TokenObject {
  let uri: Pkcs11Uri;
  try {
    uri = parsePkcs11Uri(text);
  } catch (e) {
    throw csrError('CaKeyInvalid', `signer ${signer.name}: ${from}`, `holds a PKCS#11 URI that cannot be used: ${(e as Error).message}`);
  }
  const settings = ca.pkcs11;
  if (settings === undefined) {
    throw csrError('InvalidArgument', `signer ${signer.name}: ${from} holds a PKCS#11 URI (${describePkcs11Uri(uri)}), and the signer has no ca.pkcs11 (--pkcs11-module and a PIN flag on the command line) saying which module and PIN reach the token`);
  }
  if (uri.modulePath !== undefined && (!isAbsolute(uri.modulePath) || uri.modulePath !== settings.module)) {
    throw csrError('CaKeyInvalid', `signer ${signer.name}: ${from}`, `the URI has module-path=${uri.modulePath}, but the signer's PKCS#11 module is ${settings.module}; they must name the same file`);
  }
  if (uri.pinSource !== undefined && inKeyFile) {
    throw csrError('CaKeyInvalid', `signer ${signer.name}: ${from}`, 'the URI has pin-source; the PIN of a key file\'s URI comes from ca.pkcs11 (pinFile or pinEnv)');
  }
  const value = pin();
  const identity = createHash('sha256').update(settings.module).update('\0').update(uri.text).update('\0')
    .update(createHash('sha256').update(value).digest()).digest('hex');
  return { uri, module: settings.module, pin: value, identity, from };
}

/** Reads everything but the certificates on a token; throws a CsrSignerError naming the signer. */
export function readCaSources(signer: SignerConfig, env: Readonly<Record<string, string | undefined>>): CaSources {
  const ca = caOf(signer);
  let pin: string | undefined;
  const pinOnce = (): string => (pin ??= readPin(signer, ca, env));
  const hash = createHash('sha256');
  let key: KeySource;
  if (ca.keyUri !== undefined) {
    key = { kind: 'token', key: tokenObject(signer, ca, ca.keyUri, fieldName(signer, 'key'), pinOnce) };
  } else if (ca.keyFile !== undefined) {
    const bytes = readNamed(ca.keyFile, 'CA key', 'caKey', signer.name);
    const text = uriInKeyFile(bytes);
    if (text === undefined) {
      const passphrase = ca.passphraseFile === undefined ? undefined : firstLine(readNamed(ca.passphraseFile, 'CA key passphrase file', 'passphrase', signer.name).bytes);
      key = { kind: 'file', key: bytes, ...(passphrase === undefined ? {} : { passphrase }) };
    } else {
      key = { kind: 'token', key: tokenObject(signer, ca, text, ca.keyFile, pinOnce, true) };
    }
  } else {
    throw csrError('InvalidArgument', `signer ${signer.name}: has neither ca.keyFile nor ca.key`);
  }
  let certificate: CertificateSource;
  if (ca.certUri !== undefined) certificate = { kind: 'token', certificate: tokenObject(signer, ca, ca.certUri, fieldName(signer, 'cert'), pinOnce) };
  else if (ca.certFile !== undefined) certificate = { kind: 'file', certificate: readNamed(ca.certFile, 'CA certificate', 'caCertificate', signer.name) };
  else throw csrError('InvalidArgument', `signer ${signer.name}: has neither ca.certFile nor ca.cert`);
  const trust = ca.trustFile === undefined ? undefined : readNamed(ca.trustFile, 'trust file', 'trust', signer.name);

  if (certificate.kind === 'file') hash.update('file\0').update(certificate.certificate.bytes);
  else hash.update('token\0').update(certificate.certificate.identity);
  hash.update('\0');
  if (key.kind === 'file') hash.update('file\0').update(key.key.bytes).update('\0').update(key.passphrase ?? '');
  else hash.update('token\0').update(key.key.identity);
  hash.update('\0').update(trust?.bytes ?? '');
  return { certificate, key, ...(trust === undefined ? {} : { trust }), digest: hash.digest('hex') };
}
