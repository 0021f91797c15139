/**
 * The CA of every signer, read from its files and re-read when they change (a
 * mounted Secret is updated by a symlink swap). A new pair replaces the old one
 * only once it has fully loaded and passed every check (parse, key matches a
 * certificate, CA:TRUE, keyCertSign, within its validity); a broken, half-written or
 * mismatched pair leaves the old CA signing and is reported. Bytes are compared
 * first, so an unchanged pair costs two small reads.
 */
import { createHash } from 'node:crypto';
import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { csrError, CsrSignerError } from '../errors.js';
import { readBounded, type FileKind } from '../files.js';
import { loadCertificateAuthority, readCertificateBundle, type CaCertificate, type CertificateAuthority, type NamedBytes } from '../pki/index.js';
import { formatGoTime } from '../pki/index.js';
import type { SignerConfig } from '../signer/types.js';
import { noopObserver, type Observer } from '../telemetry/observer.js';
import { systemClock, type Clock } from '../clock.js';

/** The running signer re-reads its CA files on a timer: a stalled pipe may hold it up this long at most. */
const reloadReadTimeoutMs = 1000;

function readNamed(path: string, what: string, kind: FileKind, signer: string): NamedBytes {
  try {
    return { name: path, bytes: readBounded(path, kind, { timeoutMs: reloadReadTimeoutMs }) };
  } catch (e) {
    if (e instanceof CsrSignerError) throw new CsrSignerError(e.kind, `signer ${signer}: ${e.message}`, { cause: e });
    throw csrError('InvalidArgument', `signer ${signer}: cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

interface Files { readonly certificate: NamedBytes; readonly key: NamedBytes; readonly passphrase?: string; readonly trust?: NamedBytes; readonly digest: string }

/** The CA files of a signer; a signer without them (signing off) has no CA to load, and asking is a wiring mistake. */
function caFilesOf(signer: SignerConfig): NonNullable<SignerConfig['ca']> {
  if (signer.ca === undefined) throw csrError('InvalidArgument', `signer ${signer.name}: has no CA files (ca: is left out because signing is off), so no CA is loaded for it`);
  return signer.ca;
}

function readFiles(signer: SignerConfig): Files {
  const ca = caFilesOf(signer);
  // PKCS#11 sources (certUri, keyUri) are not wired yet: the contract of the PKCS#11 key provider.
  if (ca.certFile === undefined || ca.keyFile === undefined) throw csrError('InvalidArgument', `signer ${signer.name}: a CA on a PKCS#11 token is not supported yet`);
  const certificate = readNamed(ca.certFile, 'CA certificate', 'caCertificate', signer.name);
  const key = readNamed(ca.keyFile, 'CA key', 'caKey', signer.name);
  const passphrase = ca.passphraseFile === undefined
    ? undefined
    : Buffer.from(readNamed(ca.passphraseFile, 'CA key passphrase file', 'passphrase', signer.name).bytes).toString('utf8').split(/\r?\n/)[0] ?? '';
  const trust = ca.trustFile === undefined ? undefined : readNamed(ca.trustFile, 'trust file', 'trust', signer.name);
  const digest = createHash('sha256').update(certificate.bytes).update('\0').update(key.bytes).update('\0').update(passphrase ?? '')
    .update('\0').update(trust?.bytes ?? '').digest('hex');
  return { certificate, key, ...(passphrase === undefined ? {} : { passphrase }), ...(trust === undefined ? {} : { trust }), digest };
}

/**
 * A world-readable CA key (mode & 0o004) is a warning, or with strict an error; the
 * target of a symlink counts (a mounted Secret's files are symlinks), so stat, not lstat.
 * Group-readable is normal: a Secret mounted with defaultMode 0440 and an fsGroup.
 */
function checkKeyPermissions(signer: SignerConfig, strict: boolean, logger: Logger): void {
  const file = caFilesOf(signer).keyFile;
  if (file === undefined) return;
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return; // readFiles has just read it; a file swapped away meanwhile is caught on the next read
  }
  if ((mode & 0o004) === 0) return;
  const octal = `0${mode.toString(8).padStart(3, '0')}`;
  if (strict) throw csrError('InvalidArgument', `signer ${signer.name}: the CA key ${file} is readable by everyone (mode ${octal}); remove o+r (e.g. chmod 0640, or a Secret defaultMode of 0440) or drop --strict-key-permissions`);
  logger.warn({ signer: signer.name, file, mode: octal }, 'CA key file is world-readable');
}

/**
 * What relying parties should trust for this signer: the signing CA first, then every
 * other CA certificate of the certificate file and of the trust file, each once.
 */
function trustOf(ca: CertificateAuthority, files: Files): CaCertificate[] {
  // An empty trust file is the steady state between rotations (a Secret key kept for the next one).
  const empty = files.trust === undefined || Buffer.from(files.trust.bytes).toString('latin1').trim() === '';
  const fromTrustFile = empty || files.trust === undefined ? [] : readCertificateBundle(files.trust);
  fromTrustFile.forEach((cert, i) => {
    if (!cert.isCa) throw csrError('CaCertificateInvalid', files.trust?.name ?? '', `certificate ${i + 1} (${cert.subject}) is not a CA (basicConstraints CA:TRUE); a trust file lists CA certificates only`);
  });
  const all = [ca.certificate, ...readCertificateBundle(files.certificate).filter((c) => c.isCa), ...fromTrustFile];
  const seen = new Set<string>();
  return all.filter((cert) => {
    const key = Buffer.from(cert.der).toString('base64');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function load(signer: SignerConfig, files: Files, now: Date): Promise<{ ca: CertificateAuthority; trust: CaCertificate[] }> {
  try {
    const ca = await loadCertificateAuthority({ certificate: files.certificate, key: files.key, ...(files.passphrase === undefined ? {} : { passphrase: files.passphrase }) }, now);
    return { ca, trust: trustOf(ca, files) };
  } catch (e) {
    if (e instanceof CsrSignerError) throw new CsrSignerError(e.kind, `signer ${signer.name}: ${e.message}`, { cause: e });
    throw e;
  }
}

interface Entry {
  readonly signer: SignerConfig;
  ca: CertificateAuthority | undefined;
  /** The trust bundle that goes with `ca` (signing CA first). */
  trust: readonly CaCertificate[];
  digest: string | undefined;
  error: string | undefined;
}

export interface CaStoreOptions {
  readonly logger: Logger;
  readonly observer?: Observer;
  /** Wall time, to judge each CA's validity. Default: the system clock. */
  readonly clock?: Clock;
  /** Refuse a world-readable CA key file (`--strict-key-permissions`); default: warn. */
  readonly strictKeyPermissions?: boolean;
}

export class CaStore {
  private readonly entries = new Map<string, Entry>();
  private readonly watchers: FSWatcher[] = [];
  private readonly listeners: ((signerName: string) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private readonly observer: Observer;
  private readonly clock: Clock;

  constructor(signers: readonly SignerConfig[], private readonly options: CaStoreOptions) {
    for (const signer of signers) this.entries.set(signer.name, { signer, ca: undefined, trust: [], digest: undefined, error: undefined });
    this.observer = options.observer ?? noopObserver;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * The first load. Any error is fatal except a CA outside its validity (expired, or
   * not yet valid): the process starts, is not ready, and signs as soon as a valid CA
   * is in place (re-checked on every poll while there is none, so a not-yet-valid
   * one is taken once its notBefore has passed).
   */
  async loadAll(): Promise<void> {
    for (const entry of this.entries.values()) {
      const files = readFiles(entry.signer);
      checkKeyPermissions(entry.signer, this.options.strictKeyPermissions ?? false, this.options.logger);
      try {
        ({ ca: entry.ca, trust: entry.trust } = await load(entry.signer, files, new Date(this.clock.now())));
        entry.digest = files.digest;
        this.logLoaded(entry, 'CA loaded');
      } catch (e) {
        if (!(e instanceof CsrSignerError) || (e.kind !== 'CaExpired' && e.kind !== 'CaNotYetValid')) throw e;
        entry.digest = files.digest;
        entry.error = e.message;
        this.options.logger.error({ signer: entry.signer.name, err: e, code: e.code },
          e.kind === 'CaExpired' ? 'CA expired; waiting for a new one' : 'CA not yet valid; waiting until it is, or for a new one');
      }
    }
  }

  /** The CA a signer signs with now; a transient error when it has none. */
  lookup = (signerName: string): CertificateAuthority => {
    const entry = this.entries.get(signerName);
    if (entry?.ca) return entry.ca;
    throw new Error(`signer ${signerName} has no valid CA${entry?.error ? `: ${entry.error}` : ''}`);
  };

  /** The signer's trust bundle: its signing CA first, then every other CA it is told to trust. Empty while it has no CA. */
  trust(signerName: string): readonly CaCertificate[] {
    return this.entries.get(signerName)?.trust ?? [];
  }

  /** Calls `listener(signerName)` after a signer's CA or trust bundle changed on reload. */
  onChange(listener: (signerName: string) => void): void {
    this.listeners.push(listener);
  }

  state(signerName: string): { ca?: CertificateAuthority; error?: string } {
    const entry = this.entries.get(signerName);
    return { ...(entry?.ca ? { ca: entry.ca } : {}), ...(entry?.error ? { error: entry.error } : {}) };
  }

  /** Re-reads every signer's files; replaces a CA only with one that loads completely. */
  check(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => { this.checking = undefined; });
    return this.checking;
  }

  private async checkAll(): Promise<void> {
    for (const entry of this.entries.values()) {
      const name = entry.signer.name;
      try {
        const files = readFiles(entry.signer);
        if (files.digest === entry.digest && entry.ca) {
          this.observer.caReloaded(name, 'unchanged');
          continue;
        }
        checkKeyPermissions(entry.signer, this.options.strictKeyPermissions ?? false, this.options.logger);
        ({ ca: entry.ca, trust: entry.trust } = await load(entry.signer, files, new Date(this.clock.now())));
        entry.digest = files.digest;
        entry.error = undefined;
        this.observer.caReloaded(name, 'success');
        this.logLoaded(entry, 'CA reloaded');
        for (const listener of this.listeners) listener(name);
      } catch (e) {
        const message = (e as Error).message;
        if (entry.error !== message) {
          this.options.logger.warn({ signer: name, err: e, keptCa: entry.ca?.certificate.subject ?? null }, 'CA files rejected; the previous CA stays in use');
        }
        entry.error = message;
        this.observer.caReloaded(name, 'error');
      }
    }
  }

  /** Watches the files' directories (a Secret's symlink swap shows there) and polls every `intervalMs` as well. */
  watch(intervalMs: number): void {
    const dirs = new Set<string>();
    for (const { signer } of this.entries.values()) {
      for (const file of [signer.ca?.certFile, signer.ca?.keyFile, signer.ca?.passphraseFile, signer.ca?.trustFile]) if (file !== undefined) dirs.add(dirname(file));
    }
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.soon());
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch { /* no inotify here: polling alone */ }
    }
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  /** Several change notifications in a burst make one check, once the writes have settled. */
  private soon(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.check(), 200);
    this.debounce.unref();
  }

  close(): void {
    for (const w of this.watchers.splice(0)) w.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private logLoaded(entry: Entry, msg: string): void {
    const ca = entry.ca;
    if (!ca) return;
    this.options.logger.info({
      signer: entry.signer.name, caSubject: ca.certificate.subject, caNotAfter: formatGoTime(ca.certificate.notAfter), caKey: ca.keyProvider.description, trusted: entry.trust.length,
    }, msg);
  }
}
