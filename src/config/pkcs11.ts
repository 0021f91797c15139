/**
 * The rules a CA on a PKCS#11 token must pass at start, shared by the config file
 * (`ca.key`, `ca.cert`, `ca.pkcs11`) and the command line (a `pkcs11:` key-file flag,
 * --pkcs11-module, --pkcs11-pin-file, --pkcs11-pin-env). Each rule returns one
 * problem naming the field or flag as its caller spells it; the caller throws.
 */
import { isAbsolute } from 'node:path';
import { parsePkcs11Uri, type Pkcs11ObjectType, type Pkcs11Uri } from '../hsm/uri.js';
import type { Pkcs11Settings } from '../signer/types.js';

/** The fields of `ca.pkcs11` in the config file. */
export const pkcs11Keys = ['module', 'pinFile', 'pinEnv', 'sessions'] as const;

/** At most this many sessions per signer: more would only queue inside the token. */
export const maxPkcs11Sessions = 64;

/** An environment variable name as POSIX shells take it. */
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type Checked<T> = { readonly value: T } | { readonly problem: string };

/**
 * A key (`private`) or certificate (`cert`) URI: it must parse (pin-value is refused
 * there) and, when it gives a type, the one expected.
 */
export function checkUri(text: string, expected: Extract<Pkcs11ObjectType, 'private' | 'cert'>): Checked<Pkcs11Uri> {
  let uri: Pkcs11Uri;
  try {
    uri = parsePkcs11Uri(text);
  } catch (e) {
    return { problem: `is not a usable PKCS#11 URI: ${(e as Error).message}` };
  }
  if (uri.type !== undefined && uri.type !== expected) {
    return { problem: `names an object of type=${uri.type}; ${expected === 'private' ? 'the CA key is type=private' : 'the CA certificate is type=cert'} (or leave type out)` };
  }
  if (uri.moduleName !== undefined && uri.modulePath === undefined) {
    return { problem: `names its module by module-name (${uri.moduleName}), which csr-signer does not resolve; give the module's file (module-path, or the module setting)` };
  }
  return { value: uri };
}

/** The names the caller uses for the settings, in messages. */
export interface Pkcs11Names {
  readonly module: string;
  readonly pinFile: string;
  readonly pinEnv: string;
  /** How to name the URI settings, for the pin-source rules ("ca.key", "--cluster-signing-key-file"). */
  readonly uri: string;
}

/**
 * The PIN file an URI's pin-source names: a plain path, resolved as pinFile is (relative to
 * the config file), or an absolute `file:` URI on this host (file:///path, file:/path,
 * file://localhost/path). The URI parser has percent-decoded the value already: it is not
 * decoded again.
 */
function pinSourcePath(source: string, resolve: (path: string) => string): Checked<string> {
  if (!source.startsWith('file:')) return { value: resolve(source) };
  const match = /^file:(?:\/\/([^/]*))?(\/.*)$/.exec(source);
  const host = match?.[1];
  const path = match?.[2];
  if (path === undefined || (host !== undefined && host !== '' && host !== 'localhost')) {
    return { problem: `has pin-source=${source}, which is not a PIN file csr-signer can read: a file: URI names an absolute path on this host (file:///run/pin); a plain path is resolved as the PIN file setting is` };
  }
  return { value: path };
}

/**
 * The module and PIN of a CA whose key or certificate is on a token. `uris` are the
 * URIs given at start (a key file holding a URI is read only when loading: then the
 * module and the PIN must be given here). The module comes from `module` or the URIs'
 * module-path (all the same file); the PIN from exactly one of `pinFile`, `pinEnv`, or
 * the URIs' pin-source. `resolve` makes a relative path absolute (the config file's
 * directory), for pinFile and pin-source; a module must be absolute as given.
 */
export function checkPkcs11(
  given: { readonly module?: string; readonly pinFile?: string; readonly pinEnv?: string; readonly sessions?: number },
  uris: readonly Pkcs11Uri[], names: Pkcs11Names, resolve: (path: string) => string,
): Checked<Pkcs11Settings> & { readonly field?: string } {
  const fail = (field: string, problem: string): { problem: string; field: string } => ({ field, problem });
  if (given.module !== undefined && !isAbsolute(given.module)) {
    return fail(names.module, `${JSON.stringify(given.module)} is not an absolute path; a PKCS#11 module is loaded from the file named, never searched for`);
  }
  const paths = [...new Set(uris.flatMap((u) => (u.modulePath === undefined ? [] : [u.modulePath])))];
  for (const path of paths) {
    if (!isAbsolute(path)) return fail(names.uri, `has module-path=${path}, which is not an absolute path`);
    if (given.module !== undefined && path !== given.module) {
      return fail(names.uri, `has module-path=${path}, but ${names.module} is ${given.module}; they must name the same file (or leave one out)`);
    }
  }
  if (given.module === undefined && paths.length > 1) return fail(names.uri, `the URIs name different modules (${paths.join(', ')}); a signer's key and certificate are on one token`);
  const module = given.module ?? paths[0];
  if (module === undefined) {
    return fail(names.module, 'is required: the PKCS#11 module (a shared library, absolute path) that reaches the token, unless the URI has module-path');
  }
  const sources = [...new Set(uris.flatMap((u) => (u.pinSource === undefined ? [] : [u.pinSource])))];
  if (given.pinFile !== undefined && given.pinEnv !== undefined) {
    return fail(names.pinEnv, `and ${names.pinFile} are both given; the PIN comes from exactly one of them`);
  }
  if (sources.length > 0 && (given.pinFile !== undefined || given.pinEnv !== undefined)) {
    return fail(given.pinFile === undefined ? names.pinEnv : names.pinFile, `is given and the URI has pin-source=${sources[0] ?? ''}; the PIN comes from exactly one of them`);
  }
  if (sources.length > 1) return fail(names.uri, `the URIs name different PIN files (pin-source ${sources.join(', ')})`);
  if (given.pinEnv !== undefined && !envName.test(given.pinEnv)) {
    return fail(names.pinEnv, `${JSON.stringify(given.pinEnv)} is not an environment variable name (letters, digits and _, not starting with a digit)`);
  }
  const source = sources[0];
  let pinFile = given.pinFile === undefined ? undefined : resolve(given.pinFile);
  if (pinFile === undefined && source !== undefined) {
    const fromSource = pinSourcePath(source, resolve);
    if ('problem' in fromSource) return fail(names.uri, fromSource.problem);
    pinFile = fromSource.value;
  }
  if (pinFile === undefined && given.pinEnv === undefined) {
    return fail(names.pinFile, `is required: the token's user PIN, as a file whose first line is the PIN (${names.pinFile}) or an environment variable (${names.pinEnv}); never on a command line or in this configuration`);
  }
  return {
    value: {
      module,
      ...(pinFile === undefined ? {} : { pinFile }),
      ...(given.pinEnv === undefined ? {} : { pinEnv: given.pinEnv }),
      ...(given.sessions === undefined ? {} : { sessions: given.sessions }),
    },
  };
}
