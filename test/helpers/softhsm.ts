/**
 * Real SoftHSM2 tokens for tests: each token lives in its own directory, named by its
 * own SOFTHSM2_CONF, so tests never share or see each other's tokens. Keys are made on
 * the token (pkcs11-tool --keypairgen: sensitive, never extractable) and CA certificates
 * for them by GnuTLS's certtool signing through the token: no code of ours takes part
 * in making the fixtures the PKCS#11 key provider is tested against.
 *
 * Debian packages: softhsm2 (softhsm2-util and the module), opensc (pkcs11-tool),
 * gnutls-bin (certtool). .ci/run installs them.
 */
import { chmodSync, existsSync, readFileSync, renameSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { must } from './ca.js';
import { run, tempDir, writeTemp } from './tools.js';

/** Where Debian's softhsm2 puts its module. */
export const softhsmModule = '/usr/lib/softhsm/libsofthsm2.so';

export type TokenKeyType = 'p256' | 'p384' | 'p521' | 'rsa2048' | 'ed25519';

const keygen: Record<TokenKeyType, string> = {
  p256: 'EC:prime256v1', p384: 'EC:secp384r1', p521: 'EC:secp521r1', rsa2048: 'rsa:2048', ed25519: 'EC:edwards25519',
};

export interface SoftToken {
  /** The directory holding softhsm2.conf, the token directory and the PIN file. */
  readonly dir: string;
  /** The token directory SoftHSM2 reads (directories.tokendir). */
  readonly tokenDir: string;
  /** Environment for every process that uses the token: SOFTHSM2_CONF. */
  readonly env: NodeJS.ProcessEnv;
  readonly module: string;
  readonly label: string;
  readonly pin: string;
  /** A file holding the PIN (and a newline), mode 0600. */
  readonly pinFile: string;
  readonly soPin: string;
}

export interface TokenKey {
  readonly label: string;
  /** CKA_ID as hex, e.g. "01". */
  readonly idHex: string;
  /** pkcs11:token=…;object=…;id=…;type=private */
  readonly uri: string;
}

/** tools.ts's needTool() names the Debian package for these. */
export const softhsmTools = ['softhsm2-util', 'pkcs11-tool', 'certtool'] as const;

/** A fresh, initialised token in its own directory. */
export function makeSoftToken(options: { label?: string; pin?: string; dir?: string } = {}): SoftToken {
  const dir = options.dir ?? tempDir('softhsm-');
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true });
  const conf = writeTemp(dir, 'softhsm2.conf', `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const label = options.label ?? 'csr-signer-ca';
  const pin = options.pin ?? '1234';
  const soPin = '87654321';
  must(run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin], { env }), 'softhsm2-util --init-token');
  const pinFile = writeTemp(dir, 'pin', `${pin}\n`);
  chmodSync(pinFile, 0o600);
  return { dir, tokenDir, env, module: softhsmModule, label, pin, pinFile, soPin };
}

const uriOf = (token: SoftToken, label: string, idHex: string): string =>
  `pkcs11:token=${encodeURIComponent(token.label)};object=${encodeURIComponent(label)};id=${idHex.replace(/(..)/g, '%$1')};type=private`;

/** A key pair generated on the token: the private key is sensitive and was never extractable. */
export function generateTokenKey(token: SoftToken, type: TokenKeyType, label: string, idHex: string): TokenKey {
  must(run('pkcs11-tool', ['--module', token.module, '--token-label', token.label, '--login', '--pin', token.pin,
    '--keypairgen', '--key-type', keygen[type], '--label', label, '--id', idHex], { env: token.env }), 'pkcs11-tool --keypairgen');
  return { label, idHex, uri: uriOf(token, label, idHex) };
}

/** Imports a PEM private key (PKCS#8) into the token; the caller's copy is the caller's to delete. */
export function importTokenKey(token: SoftToken, keyPem: string, label: string, idHex: string): TokenKey {
  const pkcs8 = run('openssl', ['pkcs8', '-topk8', '-nocrypt'], { input: keyPem });
  must(pkcs8, 'openssl pkcs8 -topk8');
  const file = writeTemp(token.dir, `import-${idHex}.pem`, pkcs8.stdout);
  try {
    must(run('softhsm2-util', ['--import', file, '--token', token.label, '--label', label, '--id', idHex, '--pin', token.pin], { env: token.env }), 'softhsm2-util --import');
  } finally {
    rmSync(file, { force: true });
  }
  return { label, idHex, uri: uriOf(token, label, idHex) };
}

export interface TokenCa {
  readonly key: TokenKey;
  readonly certPath: string;
  readonly certPem: string;
}

/**
 * A self-signed CA certificate for a token key, made by certtool signing on the token:
 * CA:TRUE, keyCertSign and cRLSign, valid `days` (default 3650).
 */
export function makeTokenCa(token: SoftToken, key: TokenKey, name: string, options: { days?: number } = {}): TokenCa {
  const template = writeTemp(token.dir, `${name}.tmpl`, [
    `cn = "${name} token CA"`, 'organization = "csr-signer tests"', 'ca', 'cert_signing_key', 'crl_signing_key',
    `expiration_days = ${options.days ?? 3650}`, '',
  ].join('\n'));
  const certPath = join(token.dir, `${name}.pem`);
  must(run('certtool', ['--generate-self-signed', '--provider', token.module, '--load-privkey', key.uri, '--template', template, '--outfile', certPath],
    { env: { ...token.env, GNUTLS_PIN: token.pin } }), 'certtool --generate-self-signed');
  return { key, certPath, certPem: readFileSync(certPath, 'utf8') };
}

/**
 * Takes the token away (its directory moves aside: SoftHSM2 then answers every operation on
 * it with an error, as a removed or unreachable device), and returns a function that puts it back.
 */
export function removeToken(token: SoftToken): () => void {
  const away = `${token.tokenDir}.away`;
  renameSync(token.tokenDir, away);
  mkdirSync(token.tokenDir);
  return () => {
    if (!existsSync(away)) return;
    rmSync(token.tokenDir, { recursive: true, force: true });
    renameSync(away, token.tokenDir);
  };
}
