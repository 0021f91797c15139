/**
 * The native binding, pkcs11js: an optional dependency (it needs a C++ compiler to
 * build), so it is loaded at run time, only when a CA key is on a token, and only here.
 * The interface below is the part of it csr-signer uses, so that type-checking does not
 * need the package installed.
 */
import { createRequire } from 'node:module';
import { csrErrorWithCause } from '../errors.js';

export type Handle = Buffer;

export interface Pkcs11TokenInfo {
  readonly label: string;
  readonly manufacturerID: string;
  readonly model: string;
  readonly serialNumber: string;
  readonly flags: number;
}

export interface Pkcs11Attribute {
  readonly type: number;
  readonly value?: number | boolean | string | Buffer;
}

export interface Pkcs11Mechanism {
  readonly mechanism: number;
  readonly parameter?: Buffer | number | { readonly type: number; readonly hashAlg: number; readonly mgf: number; readonly saltLen: number };
}

/** The functions of pkcs11js's PKCS11 class csr-signer calls. */
export interface Pkcs11Library {
  load(path: string): void;
  close(): void;
  C_Initialize(options?: { flags?: number }): void;
  C_Finalize(): void;
  C_GetSlotList(tokenPresent?: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): Pkcs11TokenInfo;
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_Login(session: Handle, userType: number, pin?: string): void;
  C_FindObjectsInit(session: Handle, template: Pkcs11Attribute[]): void;
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Pkcs11Attribute[]): { type: number; value: Buffer }[];
  C_SignInit(session: Handle, mechanism: Pkcs11Mechanism, key: Handle): void;
  C_SignAsync(session: Handle, data: Buffer, out: Buffer): Promise<Buffer>;
}

export interface Pkcs11Binding {
  readonly PKCS11: new () => Pkcs11Library;
}

/** PKCS#11 constants (PKCS#11 v2.40 pkcs11t.h; v3.0 for the Edwards ones pkcs11js does not name). */
export const CK = {
  CKF_OS_LOCKING_OK: 0x2,
  CKF_RW_SESSION: 0x2,
  CKF_SERIAL_SESSION: 0x4,
  CKU_USER: 1,
  CKO_CERTIFICATE: 1,
  CKO_PUBLIC_KEY: 2,
  CKO_PRIVATE_KEY: 3,
  CKA_CLASS: 0x0,
  CKA_LABEL: 0x3,
  CKA_VALUE: 0x11,
  CKA_KEY_TYPE: 0x100,
  CKA_ID: 0x102,
  CKA_SENSITIVE: 0x103,
  CKA_MODULUS: 0x120,
  CKA_PUBLIC_EXPONENT: 0x122,
  CKA_EXTRACTABLE: 0x162,
  CKA_EC_PARAMS: 0x180,
  CKA_EC_POINT: 0x181,
  CKK_RSA: 0x0,
  CKK_EC: 0x3,
  CKK_EC_EDWARDS: 0x40,
  CKM_RSA_PKCS: 0x1,
  CKM_RSA_PKCS_PSS: 0xd,
  CKM_SHA256: 0x250,
  CKM_SHA384: 0x260,
  CKM_SHA512: 0x270,
  CKG_MGF1_SHA256: 0x2,
  CKG_MGF1_SHA384: 0x3,
  CKG_MGF1_SHA512: 0x4,
  CKM_ECDSA: 0x1041,
  CKM_EDDSA: 0x1057,
  CK_PARAMS_RSA_PSS: 5,
} as const;

/** The CKR_ name of a pkcs11js error ("CKR_PIN_INCORRECT"), or undefined for anything else. */
export function ckr(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /\b(CKR_[A-Z0-9_]+)/.exec(error.message);
  return match?.[1];
}

/** A pkcs11js error in a few words for a message: its CKR_ name, or its first line. Never holds arguments (a PIN). */
export function describeFailure(error: unknown): string {
  const code = ckr(error);
  if (code !== undefined) return code;
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.trim() || 'unknown error';
}

let loaded: Pkcs11Binding | undefined;

/** Loads pkcs11js (once); Pkcs11BindingMissing when it is not installed or its native part is not built. */
export function loadBinding(name = 'pkcs11js'): Pkcs11Binding {
  if (loaded !== undefined && name === 'pkcs11js') return loaded;
  let binding: Pkcs11Binding;
  try {
    binding = createRequire(import.meta.url)(name) as Pkcs11Binding;
    if (typeof binding.PKCS11 !== 'function') throw new Error(`${name} has no PKCS11 class`);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
    throw csrErrorWithCause(error, 'Pkcs11BindingMissing', detail.replace(/[.;]\s*$/, ''));
  }
  if (name === 'pkcs11js') loaded = binding;
  return binding;
}
