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
import { describePkcs11Uri, openPkcs11Key, readPkcs11Certificates, type Pkcs11Key, type Pkcs11KeyOptions, type Pkcs11Options } from '../hsm/index.js';
import {
  certificateAuthorityFromKey, loadCertificateAuthority, readCertificateBundle, type CaCertificate, type CertificateAuthority, type NamedBytes,
} from '../pki/index.js';
import { formatGoTime } from '../pki/index.js';
import type { SignerConfig } from '../signer/types.js';
import { noopObserver, type Observer } from '../telemetry/observer.js';
import { systemClock, type Clock } from '../clock.js';
import { caOf, fieldName, readCaSources, type CaSources, type TokenObject } from './ca-sources.js';
import { TrackedKeyProvider, type OpenTokenKey } from './token-key.js';

/** What a load read: the sources, the certificates (from a file or the token), and the digest of both. */
interface Files { readonly sources: CaSources; readonly certificate: NamedBytes; readonly trust?: NamedBytes; readonly digest: string }

/**
 * A world-readable CA key or PKCS#11 PIN file (mode & 0o004) is a warning, or with strict an
 * error; the target of a symlink counts (a mounted Secret's files are symlinks), so stat,
 * not lstat. Group-readable is normal: a Secret mounted with defaultMode 0440 and an fsGroup.
 * A key file that holds a PKCS#11 URI (the key is on a token) is not secret: not checked.
 */
function checkKeyPermissions(signer: SignerConfig, sources: CaSources, strict: boolean, logger: Logger): void {
  const ca = caOf(signer);
  const keyIsFile = ca.keyFile !== undefined && sources.key.kind === 'file';
  const files = [
    ...(!keyIsFile || ca.keyFile === undefined ? [] : [{ file: ca.keyFile, what: 'CA key', msg: 'CA key file is world-readable' }]),
    ...(ca.pkcs11?.pinFile === undefined ? [] : [{ file: ca.pkcs11.pinFile, what: 'PKCS#11 PIN file', msg: 'PKCS#11 PIN file is world-readable' }]),
  ];
  for (const { file, what, msg } of files) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue; // readFiles has just read it; a file swapped away meanwhile is caught on the next read
    }
    if ((mode & 0o004) === 0) continue;
    const octal = `0${mode.toString(8).padStart(3, '0')}`;
    if (strict) {
      const name = what === 'CA key' ? 'the CA key' : 'the PKCS#11 PIN file';
      throw csrError('InvalidArgument', `signer ${signer.name}: ${name} ${file} is readable by everyone (mode ${octal}); remove o+r (e.g. chmod 0640, or a Secret defaultMode of 0440) or drop --strict-key-permissions`);
    }
    logger.warn({ signer: signer.name, file, mode: octal }, msg);
  }
}

/** DER certificates as one PEM bundle, as a certificate file would hold them. */
function pemBundle(ders: readonly Uint8Array[]): Uint8Array {
  const blocks = ders.map((der) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`);
  return Buffer.from(blocks.join(''));
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

/** A CsrSignerError of a CA load, its message prefixed with the signer (and the field, for a token's errors) once. */
function named(signer: SignerConfig, e: unknown, field?: string): unknown {
  if (!(e instanceof CsrSignerError) || e.message.startsWith(`signer ${signer.name}: `)) return e;
  const where = field === undefined ? '' : `${field}: `;
  const pin = e.kind === 'Pkcs11LoginFailed' ? pinHint(signer) : '';
  return new CsrSignerError(e.kind, `signer ${signer.name}: ${where}${e.message}${pin}`, { cause: e });
}

/** Where the PIN came from, for a login that failed: the field to check, never the PIN. */
function pinHint(signer: SignerConfig): string {
  const settings = signer.ca?.pkcs11;
  if (settings?.pinFile !== undefined) return ` (the PIN is the first line of ${settings.pinFile}, ${fieldName(signer, 'pinFile')})`;
  if (settings?.pinEnv !== undefined) return ` (the PIN is the environment variable ${settings.pinEnv}, ${fieldName(signer, 'pinEnv')})`;
  return '';
}

const tokenOptions = (object: TokenObject): Pkcs11Options => ({ uri: object.uri, module: object.module, pin: object.pin });

interface Entry {
  readonly signer: SignerConfig;
  ca: CertificateAuthority | undefined;
  /** The trust bundle that goes with `ca` (signing CA first). */
  trust: readonly CaCertificate[];
  digest: string | undefined;
  error: string | undefined;
  /** The token key `ca` signs with, when its key is on a token. */
  token: OpenTokenKey | undefined;
}

/** What reaches a token; the PKCS#11 module by default, a fake in tests. */
export interface TokenAccess {
  readonly openKey: (options: Pkcs11KeyOptions) => Promise<Pkcs11Key>;
  readonly readCertificates: (options: Pkcs11Options) => Promise<Uint8Array[]>;
}

export interface CaStoreOptions {
  readonly logger: Logger;
  readonly observer?: Observer;
  /** Wall time, to judge each CA's validity. Default: the system clock. */
  readonly clock?: Clock;
  /** Refuse a world-readable CA key or PIN file (`--strict-key-permissions`); default: warn. */
  readonly strictKeyPermissions?: boolean;
  /** The environment, for a PIN given as ca.pkcs11.pinEnv. Default: none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Sessions per token key when ca.pkcs11.sessions is not given: the worker count. Default 5. */
  readonly defaultSessions?: number;
  /** Default: the PKCS#11 module through pkcs11js (src/hsm). */
  readonly tokens?: TokenAccess;
  /** Reconnection backoff of token keys (default: the provider's, 500 ms doubling to 30 s). */
  readonly tokenBackoff?: { readonly initialMs: number; readonly maxMs: number };
}

export class CaStore {
  private readonly entries = new Map<string, Entry>();
  private readonly watchers: FSWatcher[] = [];
  private readonly listeners: ((signerName: string) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  /** Set by close(): no check starts after it. */
  private closed = false;
  private readonly observer: Observer;
  private readonly clock: Clock;
  private readonly tokens: TokenAccess;
  /** Providers replaced in a reload, closing once their signings in flight finished. */
  private readonly retiring = new Set<Promise<void>>();
  /**
   * Logins a token refused, by module, URI and PIN digest: never tried again with the same PIN
   * (a token locks itself after a few wrong PINs), until the PIN or the URI changes.
   */
  private readonly refusedLogins = new Map<string, Error>();

  /** Runs a token operation for `object`, unless its PIN was refused before; remembers a refusal. */
  private async withToken<T>(signer: SignerConfig, object: TokenObject, operation: () => Promise<T>): Promise<T> {
    const refused = this.refusedLogins.get(object.identity);
    if (refused !== undefined) throw refused;
    try {
      return await operation();
    } catch (e) {
      const error = named(signer, e, object.from);
      if (e instanceof CsrSignerError && e.kind === 'Pkcs11LoginFailed' && error instanceof Error) this.refusedLogins.set(object.identity, error);
      throw error;
    }
  }

  constructor(signers: readonly SignerConfig[], private readonly options: CaStoreOptions) {
    for (const signer of signers) this.entries.set(signer.name, { signer, ca: undefined, trust: [], digest: undefined, error: undefined, token: undefined });
    this.observer = options.observer ?? noopObserver;
    this.clock = options.clock ?? systemClock;
    this.tokens = options.tokens ?? { openKey: openPkcs11Key, readCertificates: readPkcs11Certificates };
  }

  /** Reads a signer's sources, and the certificates from its token when they are there. */
  private async readFiles(entry: Entry): Promise<Files> {
    const { signer } = entry;
    const sources = readCaSources(signer, this.options.env ?? {});
    const cert = sources.certificate;
    if (cert.kind === 'file') return { sources, certificate: cert.certificate, ...(sources.trust ? { trust: sources.trust } : {}), digest: sources.digest };
    const ders = await this.withToken(signer, cert.certificate,
      () => this.tokens.readCertificates({ ...tokenOptions(cert.certificate), onError: (op) => this.observer.keyProviderError?.(signer.name, op) }));
    const bytes = pemBundle(ders);
    const digest = createHash('sha256').update(sources.digest).update('\0').update(bytes).digest('hex');
    const certificate = { name: `${cert.certificate.from} (${describePkcs11Uri(cert.certificate.uri)})`, bytes };
    return { sources, certificate, ...(sources.trust ? { trust: sources.trust } : {}), digest };
  }

  /**
   * Loads a CA from what readFiles read. A key on a token is opened once per module, URI
   * and PIN and reused while they stay the same; a key opened here that does not make a
   * CA is closed again. Returns the token key the CA signs with (undefined for a key file).
   */
  private async load(entry: Entry, files: Files, now: Date): Promise<{ ca: CertificateAuthority; trust: CaCertificate[]; token: OpenTokenKey | undefined }> {
    const { signer } = entry;
    const key = files.sources.key;
    if (key.kind === 'file') {
      try {
        const ca = await loadCertificateAuthority({ certificate: files.certificate, key: key.key, ...(key.passphrase === undefined ? {} : { passphrase: key.passphrase }) }, now);
        return { ca, trust: trustOf(ca, files), token: undefined };
      } catch (e) {
        throw named(signer, e);
      }
    }
    const object = key.key;
    const reused = entry.token?.identity === object.identity ? entry.token : undefined;
    let token = reused;
    if (token === undefined) {
      const settings = caOf(signer).pkcs11;
      const opened = await this.withToken(signer, object, () => this.tokens.openKey({
        ...tokenOptions(object),
        sessions: settings?.sessions ?? this.options.defaultSessions ?? 5,
        onError: (op) => this.observer.keyProviderError?.(signer.name, op),
        ...(this.options.tokenBackoff === undefined ? {} : { backoff: this.options.tokenBackoff }),
      }));
      token = { identity: object.identity, key: opened, provider: new TrackedKeyProvider(opened.provider) };
    }
    try {
      const bundle = readCertificateBundle(files.certificate);
      const ca = await certificateAuthorityFromKey(files.certificate, bundle,
        { provider: token.provider, keyKind: token.key.keyKind, publicKey: token.key.publicKey }, `${object.from} (${describePkcs11Uri(object.uri)})`, now);
      return { ca, trust: trustOf(ca, files), token };
    } catch (e) {
      if (token !== reused) this.retire(signer, token);
      throw named(signer, e);
    }
  }

  /** Closes a token key no CA signs with any more, once its signings in flight finished. */
  private retire(signer: SignerConfig, token: OpenTokenKey): void {
    const closing = token.provider.close().catch((e: unknown) => {
      this.options.logger.warn({ signer: signer.name, err: e }, 'could not close the previous PKCS#11 key\'s sessions');
    });
    this.retiring.add(closing);
    void closing.finally(() => this.retiring.delete(closing));
  }

  /** Puts a newly loaded CA in place; a token key it no longer uses is retired. */
  private swap(entry: Entry, loaded: { ca: CertificateAuthority; trust: CaCertificate[]; token: OpenTokenKey | undefined }, digest: string): void {
    const previous = entry.token;
    entry.ca = loaded.ca;
    entry.trust = loaded.trust;
    entry.token = loaded.token;
    entry.digest = digest;
    if (previous !== undefined && previous !== loaded.token) this.retire(entry.signer, previous);
  }

  /**
   * The first load. Any error is fatal except a CA outside its validity (expired, or
   * not yet valid): the process starts, is not ready, and signs as soon as a valid CA
   * is in place (re-checked on every poll while there is none, so a not-yet-valid
   * one is taken once its notBefore has passed).
   */
  async loadAll(): Promise<void> {
    for (const entry of this.entries.values()) {
      const files = await this.readFiles(entry);
      checkKeyPermissions(entry.signer, files.sources, this.options.strictKeyPermissions ?? false, this.options.logger);
      try {
        this.swap(entry, await this.load(entry, files, new Date(this.clock.now())), files.digest);
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

  /**
   * `keyProvider`: for a CA whose key is on a token, whether the token answers (`problem`
   * says why not: requests wait, /readyz fails `key-provider:<signer>`).
   */
  state(signerName: string): { ca?: CertificateAuthority; error?: string; keyProvider?: { problem?: string } } {
    const entry = this.entries.get(signerName);
    const problem = entry?.token?.provider.problem();
    return {
      ...(entry?.ca ? { ca: entry.ca } : {}),
      ...(entry?.error ? { error: entry.error } : {}),
      ...(entry?.token ? { keyProvider: problem === undefined ? {} : { problem } } : {}),
    };
  }

  /** Re-reads every signer's files; replaces a CA only with one that loads completely. */
  check(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.checking ??= this.checkAll().finally(() => { this.checking = undefined; });
    return this.checking;
  }

  private async checkAll(): Promise<void> {
    for (const entry of this.entries.values()) {
      if (this.closed) return;
      const name = entry.signer.name;
      try {
        const files = await this.readFiles(entry);
        if (files.digest === entry.digest && entry.ca) {
          this.observer.caReloaded(name, 'unchanged');
          continue;
        }
        checkKeyPermissions(entry.signer, files.sources, this.options.strictKeyPermissions ?? false, this.options.logger);
        this.swap(entry, await this.load(entry, files, new Date(this.clock.now())), files.digest);
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
      const ca = signer.ca;
      for (const file of [ca?.certFile, ca?.keyFile, ca?.passphraseFile, ca?.trustFile, ca?.pkcs11?.pinFile]) if (file !== undefined) dirs.add(dirname(file));
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

  /** Stops watching; the token keys are closed once their signings in flight finished (awaited by the returned promise). */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers.splice(0)) w.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    // A check already running may still open a token key and swap it in: wait for it, then close what is in place.
    await this.checking;
    for (const entry of this.entries.values()) {
      if (entry.token !== undefined) this.retire(entry.signer, entry.token);
      entry.token = undefined;
    }
    return Promise.all([...this.retiring]).then(() => undefined);
  }

  private logLoaded(entry: Entry, msg: string): void {
    const ca = entry.ca;
    if (!ca) return;
    this.options.logger.info({
      signer: entry.signer.name, caSubject: ca.certificate.subject, caNotAfter: formatGoTime(ca.certificate.notAfter), caKey: ca.keyProvider.description, trusted: entry.trust.length,
    }, msg);
  }
}
