/**
 * Finding things on a token: the slot whose token matches a URI, a logged-in session,
 * the private key (exactly one), what kind of key it is and its public key, and
 * certificate objects. Synchronous pkcs11js calls: each is a quick look-up on the token,
 * made at load and reconnection, never per signature.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { csrError, csrErrorWithCause } from '../errors.js';
import { bitString, encodeOid, sequence, type KeyKind } from '../pki/index.js';
import { CK, ckr, describeFailure, type Handle, type Pkcs11Attribute, type Pkcs11Library, type Pkcs11TokenInfo } from './binding.js';
import { describePkcs11Uri, type Pkcs11Uri } from './uri.js';

const CKF_TOKEN_INITIALIZED = 0x400;

const trim = (field: string): string => field.replace(/[\s\0]+$/, '');

/** A CK_SLOT_ID from pkcs11js's handle (a CK_ULONG in the platform's byte order). */
export function slotNumber(slot: Handle): number {
  return slot.length === 8 ? Number(slot.readBigUInt64LE(0)) : slot.readUInt32LE(0);
}

const hexId = (id: Uint8Array): string => Array.from(id, (b) => b.toString(16).padStart(2, '0')).join('');
const quote = (text: string): string => JSON.stringify(text);

function describeToken(slot: Handle, info: Pkcs11TokenInfo): string {
  return `${quote(trim(info.label))} (serial ${quote(trim(info.serialNumber))}, slot ${slotNumber(slot)})`;
}

function matches(uri: Pkcs11Uri, slot: Handle, info: Pkcs11TokenInfo): boolean {
  const want = uri.token;
  return (want.label === undefined || trim(info.label) === want.label)
    && (want.serial === undefined || trim(info.serialNumber) === want.serial)
    && (want.manufacturer === undefined || trim(info.manufacturerID) === want.manufacturer)
    && (want.model === undefined || trim(info.model) === want.model)
    && (want.slotId === undefined || slotNumber(slot) === want.slotId);
}

/** The slot holding the one token the URI names; Pkcs11TokenNotFound listing the module's tokens otherwise. */
export function findSlot(library: Pkcs11Library, uri: Pkcs11Uri): Handle {
  const name = describePkcs11Uri(uri);
  let tokens: { slot: Handle; info: Pkcs11TokenInfo }[];
  try {
    // An uninitialised token (SoftHSM2 always shows a free slot) holds no key: not listed, never matched.
    tokens = library.C_GetSlotList(true).map((slot) => ({ slot, info: library.C_GetTokenInfo(slot) }))
      .filter((t) => (t.info.flags & CKF_TOKEN_INITIALIZED) !== 0);
  } catch (error) {
    throw csrErrorWithCause(error, 'Pkcs11TokenNotFound', name, `the module cannot list its tokens (${describeFailure(error)})`);
  }
  const found = tokens.filter((t) => matches(uri, t.slot, t.info));
  if (found.length === 1) return (found[0] as { slot: Handle }).slot;
  const listed = tokens.map((t) => describeToken(t.slot, t.info)).join(', ');
  if (found.length === 0) {
    throw csrError('Pkcs11TokenNotFound', name, tokens.length === 0 ? 'the module has no initialised token' : `the module's tokens are ${listed}`);
  }
  throw csrError('Pkcs11TokenNotFound', name, `${found.length} tokens match (${found.map((t) => describeToken(t.slot, t.info)).join(', ')}); add serial= or slot-id= to the URI`);
}

/**
 * Which PIN the process is logged in with, per module (its library instance) and token: a
 * SHA-256 of the PIN, never the PIN. A login is per token, not per session, so a C_Login
 * while another session of the process is logged in answers CKR_USER_ALREADY_LOGGED_IN
 * whatever the PIN (SoftHSM2 does): the digest tells a second login with the same PIN
 * from one with another PIN, which the token has not checked.
 */
const loggedInWith = new WeakMap<Pkcs11Library, Map<string, string>>();

const pinDigest = (pin: string): string => createHash('sha256').update(pin, 'utf8').digest('hex');

function tokenKey(library: Pkcs11Library, slot: Handle): string {
  try {
    const info = library.C_GetTokenInfo(slot);
    return `${trim(info.manufacturerID)}\0${trim(info.model)}\0${trim(info.serialNumber)}\0${trim(info.label)}`;
  } catch {
    return `slot ${slotNumber(slot)}`;
  }
}

/** C_Login's answers that refuse the PIN itself: trying the same PIN again cannot help, and may lock the token. */
const pinRefusals = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_LOCKED', 'CKR_PIN_EXPIRED', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_INVALID']);

/**
 * A serial session on the slot, logged in as the user. Already logged in (by another
 * session of the process) is fine with the PIN the process logged in with; with another
 * PIN it is Pkcs11LoginFailed, as that PIN cannot be checked without logging out the
 * sessions that sign. A refused PIN is Pkcs11LoginFailed; any other failure of C_Login
 * (the device, the session, the module) is Pkcs11Unreachable: transient, tried again.
 */
export function openLoggedInSession(library: Pkcs11Library, slot: Handle, uri: Pkcs11Uri, pin: string): Handle {
  const session = library.C_OpenSession(slot, CK.CKF_SERIAL_SESSION);
  let logins = loggedInWith.get(library);
  if (logins === undefined) loggedInWith.set(library, logins = new Map<string, string>());
  const token = tokenKey(library, slot);
  const digest = pinDigest(pin);
  try {
    library.C_Login(session, CK.CKU_USER, pin);
  } catch (error) {
    const code = ckr(error);
    if (code === 'CKR_USER_ALREADY_LOGGED_IN') {
      const current = logins.get(token);
      if (current === undefined || current === digest) return session;
      closeQuietly(library, session);
      throw csrErrorWithCause(error, 'Pkcs11LoginFailed', describePkcs11Uri(uri),
        'the token is already logged in with another PIN in this process (CKR_USER_ALREADY_LOGGED_IN); the new PIN cannot be checked without logging out the sessions that sign, so restart the signer to use it');
    }
    closeQuietly(library, session);
    if (code === 'CKR_PIN_INCORRECT') {
      throw csrErrorWithCause(error, 'Pkcs11LoginFailed', describePkcs11Uri(uri),
        'the PIN is incorrect (CKR_PIN_INCORRECT); csr-signer does not try again, as the token may lock after repeated failures');
    }
    if (code === 'CKR_PIN_LOCKED') throw csrErrorWithCause(error, 'Pkcs11LoginFailed', describePkcs11Uri(uri), 'the user PIN is locked (CKR_PIN_LOCKED)');
    if (code !== undefined && pinRefusals.has(code)) throw csrErrorWithCause(error, 'Pkcs11LoginFailed', describePkcs11Uri(uri), `the token refuses the PIN (${code})`);
    throw csrErrorWithCause(error, 'Pkcs11Unreachable', describePkcs11Uri(uri), `C_Login failed with ${describeFailure(error)}`);
  }
  logins.set(token, digest);
  return session;
}

export function closeQuietly(library: Pkcs11Library, session: Handle): void {
  try {
    library.C_CloseSession(session);
  } catch {
    // A session of a token that went away is gone already.
  }
}

export function findObjects(library: Pkcs11Library, session: Handle, template: Pkcs11Attribute[]): Handle[] {
  library.C_FindObjectsInit(session, template);
  try {
    const found: Handle[] = [];
    for (;;) {
      const batch = library.C_FindObjects(session, 64);
      if (batch.length === 0) return found;
      found.push(...batch);
    }
  } finally {
    library.C_FindObjectsFinal(session);
  }
}

function objectTemplate(uri: Pkcs11Uri, objectClass: number): Pkcs11Attribute[] {
  const template: Pkcs11Attribute[] = [{ type: CK.CKA_CLASS, value: objectClass }];
  if (uri.objectLabel !== undefined) template.push({ type: CK.CKA_LABEL, value: uri.objectLabel });
  if (uri.id !== undefined) template.push({ type: CK.CKA_ID, value: Buffer.from(uri.id) });
  return template;
}

/** One attribute's bytes, or undefined when the token does not give it. */
export function attribute(library: Pkcs11Library, session: Handle, object: Handle, type: number): Buffer | undefined {
  try {
    return library.C_GetAttributeValue(session, object, [{ type }])[0]?.value;
  } catch {
    return undefined;
  }
}

function describeObject(library: Pkcs11Library, session: Handle, object: Handle): string {
  const label = attribute(library, session, object, CK.CKA_LABEL);
  const id = attribute(library, session, object, CK.CKA_ID);
  const parts = [`object=${label === undefined ? '(none)' : label.toString('utf8')}`];
  if (id !== undefined && id.length > 0) parts.push(`id=${hexId(id)}`);
  return parts.join(' ');
}

function wanted(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  if (uri.objectLabel !== undefined) parts.push(`object=${uri.objectLabel}`);
  if (uri.id !== undefined) parts.push(`id=${hexId(uri.id)}`);
  return parts.length === 0 ? 'the URI' : parts.join(' ');
}

/** The one private key the URI names; Pkcs11KeyNotFound listing the token's private keys otherwise. */
export function findPrivateKey(library: Pkcs11Library, session: Handle, uri: Pkcs11Uri): Handle {
  const found = findObjects(library, session, objectTemplate(uri, CK.CKO_PRIVATE_KEY));
  if (found.length === 1) return found[0] as Handle;
  const all = findObjects(library, session, [{ type: CK.CKA_CLASS, value: CK.CKO_PRIVATE_KEY }]);
  const listed = all.map((o) => describeObject(library, session, o)).join(', ');
  const token = uri.token.label === undefined ? 'the token' : `token ${quote(uri.token.label)}`;
  const holds = `the token holds ${all.length} private key${all.length === 1 ? '' : 's'}${all.length === 0 ? '' : `: ${listed}`}`;
  throw csrError('Pkcs11KeyNotFound', describePkcs11Uri(uri), found.length === 0
    ? `no private key matches ${wanted(uri)} on ${token}; ${holds}`
    : `${found.length} private keys match ${wanted(uri)} on ${token}; give object= and id= so that exactly one does (${holds})`);
}

/** The DER certificates the URI names, in the token's order; Pkcs11CertificateNotFound when there is none. */
export function readCertificates(library: Pkcs11Library, session: Handle, uri: Pkcs11Uri): Uint8Array[] {
  const found = findObjects(library, session, objectTemplate(uri, CK.CKO_CERTIFICATE));
  if (found.length === 0) {
    const all = findObjects(library, session, [{ type: CK.CKA_CLASS, value: CK.CKO_CERTIFICATE }]);
    throw csrError('Pkcs11CertificateNotFound', describePkcs11Uri(uri), `no certificate matches ${wanted(uri)}; the token holds ${all.length} certificate${all.length === 1 ? '' : 's'}${all.length === 0 ? '' : `: ${all.map((o) => describeObject(library, session, o)).join(', ')}`}`);
  }
  return found.map((o) => new Uint8Array(attribute(library, session, o, CK.CKA_VALUE) ?? Buffer.alloc(0)));
}

// ------------------------------------------------------------- the key's kind and public key

const curveOids = [
  { curve: 'P-256', der: encodeOid('1.2.840.10045.3.1.7') },
  { curve: 'P-384', der: encodeOid('1.3.132.0.34') },
  { curve: 'P-521', der: encodeOid('1.3.132.0.35') },
] as const;
const ed25519Oid = encodeOid('1.3.101.112');
const ecPublicKeyOid = encodeOid('1.2.840.10045.2.1');
/** CKA_EC_PARAMS may name Edwards curves by a PrintableString (PKCS#11 v3.0 section 2.3.10). */
const ed25519Printable = Buffer.concat([Buffer.of(0x13, 12), Buffer.from('edwards25519')]);

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

function ulong(bytes: Buffer | undefined): number | undefined {
  if (bytes === undefined || bytes.length === 0) return undefined;
  return bytes.length === 8 ? Number(bytes.readBigUInt64LE(0)) : bytes.readUInt32LE(0);
}

export interface KeyDetails {
  readonly kind: KeyKind;
  readonly publicKey: KeyObject | undefined;
  /** Bytes of a raw signature: r‖s for ECDSA, the modulus for RSA, 64 for Ed25519. */
  readonly signatureBytes: number;
}

/** The key's kind from CKA_KEY_TYPE and CKA_EC_PARAMS or CKA_MODULUS; CaUnsupportedKey for anything a CA may not have. */
export function keyDetails(library: Pkcs11Library, session: Handle, key: Handle, uri: Pkcs11Uri): KeyDetails {
  const name = describePkcs11Uri(uri);
  const type = ulong(attribute(library, session, key, CK.CKA_KEY_TYPE));
  if (type === CK.CKK_RSA) {
    const modulus = attribute(library, session, key, CK.CKA_MODULUS);
    if (modulus === undefined) throw csrError('CaUnsupportedKey', name, 'RSA (the token does not show the modulus)');
    const n = modulus.subarray(modulus.findIndex((b) => b !== 0));
    const bits = n.length * 8 - Math.clz32(n[0] ?? 0) + 24;
    if (bits < 2048 || bits > 8192) throw csrError('CaUnsupportedKey', name, `RSA ${bits}-bit`);
    const exponent = attribute(library, session, key, CK.CKA_PUBLIC_EXPONENT);
    const publicKey = exponent === undefined ? undefined
      : createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: exponent.toString('base64url') }, format: 'jwk' });
    return { kind: { type: 'rsa', bits }, publicKey, signatureBytes: n.length };
  }
  if (type === CK.CKK_EC || type === CK.CKK_EC_EDWARDS) {
    const params = attribute(library, session, key, CK.CKA_EC_PARAMS) ?? Buffer.alloc(0);
    if (sameBytes(params, ed25519Oid) || sameBytes(params, ed25519Printable)) {
      const point = publicPoint(library, session, key);
      const publicKey = point?.length === 32 ? createPublicKey({ key: Buffer.from(sequence(sequence(ed25519Oid), bitString(point))), format: 'der', type: 'spki' }) : undefined;
      return { kind: { type: 'ed25519' }, publicKey, signatureBytes: 64 };
    }
    const curve = curveOids.find((c) => sameBytes(params, c.der));
    if (curve === undefined) throw csrError('CaUnsupportedKey', name, `${type === CK.CKK_EC ? 'EC' : 'Edwards'} (curve ${params.toString('hex') || 'not shown'})`);
    const kind: KeyKind = { type: 'ec', curve: curve.curve };
    const point = publicPoint(library, session, key);
    let publicKey: KeyObject | undefined;
    if (point !== undefined) {
      try {
        publicKey = createPublicKey({ key: Buffer.from(sequence(sequence(ecPublicKeyOid, curve.der), bitString(point))), format: 'der', type: 'spki' });
      } catch {
        publicKey = undefined;
      }
    }
    const fieldBytes = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }[curve.curve];
    return { kind, publicKey, signatureBytes: 2 * fieldBytes };
  }
  throw csrError('CaUnsupportedKey', name, type === undefined ? 'unknown (CKA_KEY_TYPE not shown)' : `CKA_KEY_TYPE 0x${type.toString(16)}`);
}

/** The public key object's CKA_EC_POINT with the private key's id (and label), unwrapped from its OCTET STRING. */
function publicPoint(library: Pkcs11Library, session: Handle, key: Handle): Uint8Array | undefined {
  const id = attribute(library, session, key, CK.CKA_ID);
  const label = attribute(library, session, key, CK.CKA_LABEL);
  const template: Pkcs11Attribute[] = [{ type: CK.CKA_CLASS, value: CK.CKO_PUBLIC_KEY }];
  if (id !== undefined && id.length > 0) template.push({ type: CK.CKA_ID, value: id });
  else if (label !== undefined) template.push({ type: CK.CKA_LABEL, value: label });
  else return undefined;
  const found = findObjects(library, session, template);
  if (found.length !== 1) return undefined;
  const point = attribute(library, session, found[0] as Handle, CK.CKA_EC_POINT);
  if (point === undefined) return undefined;
  // DER OCTET STRING (PKCS#11 v2.40), or the bare point some modules give.
  if (point[0] === 0x04 && point.length > 2) {
    const long = (point[1] as number) & 0x80;
    const lengthBytes = long ? ((point[1] as number) & 0x7f) : 0;
    const length = long ? point.subarray(2, 2 + lengthBytes).reduce((a, b) => a * 256 + b, 0) : point[1] as number;
    if (2 + lengthBytes + length === point.length) return point.subarray(2 + lengthBytes);
  }
  return point;
}
