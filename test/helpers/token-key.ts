/**
 * What a PKCS#11 token lets anyone with the PIN read of a private key, asked through the
 * same native binding the signer uses (pkcs11js) but none of our provider code: tests
 * use it to show that a CA key stays on its token — the token refuses CKA_VALUE (and,
 * for an RSA key, CKA_PRIVATE_EXPONENT) and marks the key sensitive, not extractable and
 * never extractable.
 */
import { createRequire } from 'node:module';
import type * as Pkcs11js from 'pkcs11js';
import type { SoftToken, TokenKey } from './softhsm.js';

const require = createRequire(import.meta.url);

export interface PrivateKeyExposure {
  /** How many private keys on the token match the key's label and id (1 expected). */
  readonly matches: number;
  /** The CKR_ code C_GetAttributeValue(CKA_VALUE) failed with, or 'returned N bytes'. */
  readonly value: string;
  /** The same for CKA_PRIVATE_EXPONENT (RSA keys; EC keys have none: CKR_ATTRIBUTE_TYPE_INVALID). */
  readonly privateExponent: string;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly neverExtractable: boolean;
}

/** Asks `attribute` alone: the refusal's CKR_ code, or how many bytes came back. */
function ask(pkcs11: Pkcs11js.PKCS11, session: Buffer, object: Buffer, attribute: number): string {
  try {
    const [answer] = pkcs11.C_GetAttributeValue(session, object, [{ type: attribute }]);
    const value = answer?.value;
    return `returned ${value instanceof Buffer ? value.length : 0} bytes`;
  } catch (e) {
    return /CKR_[A-Z_]+/.exec(String((e as Error).message))?.[0] ?? String(e);
  }
}

const flag = (pkcs11: Pkcs11js.PKCS11, session: Buffer, object: Buffer, attribute: number): boolean => {
  const [answer] = pkcs11.C_GetAttributeValue(session, object, [{ type: attribute }]);
  return answer?.value instanceof Buffer && answer.value[0] === 1;
};

/** Logs in to the token in this process and reads what it shows of the key (the module is finalised again). */
export function privateKeyExposure(token: SoftToken, key: TokenKey): PrivateKeyExposure {
  const previous = process.env.SOFTHSM2_CONF;
  // SoftHSM2 reads its configuration at C_Initialize, from this process's environment.
  process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
  const binding = require('pkcs11js') as typeof Pkcs11js;
  const pkcs11 = new binding.PKCS11();
  pkcs11.load(token.module);
  pkcs11.C_Initialize();
  try {
    const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === token.label);
    if (slot === undefined) throw new Error(`no token labelled ${token.label}`);
    const session = pkcs11.C_OpenSession(slot, binding.CKF_SERIAL_SESSION | binding.CKF_RW_SESSION);
    pkcs11.C_Login(session, binding.CKU_USER, token.pin);
    pkcs11.C_FindObjectsInit(session, [
      { type: binding.CKA_CLASS, value: binding.CKO_PRIVATE_KEY },
      { type: binding.CKA_LABEL, value: key.label },
      { type: binding.CKA_ID, value: Buffer.from(key.idHex, 'hex') },
    ]);
    const objects = pkcs11.C_FindObjects(session, 10);
    pkcs11.C_FindObjectsFinal(session);
    const [object] = objects;
    if (object === undefined) throw new Error(`no private key ${key.label} (id ${key.idHex}) on ${token.label}`);
    return {
      matches: objects.length,
      value: ask(pkcs11, session, object, binding.CKA_VALUE),
      privateExponent: ask(pkcs11, session, object, binding.CKA_PRIVATE_EXPONENT),
      sensitive: flag(pkcs11, session, object, binding.CKA_SENSITIVE),
      extractable: flag(pkcs11, session, object, binding.CKA_EXTRACTABLE),
      neverExtractable: flag(pkcs11, session, object, binding.CKA_NEVER_EXTRACTABLE),
    };
  } finally {
    pkcs11.C_Finalize();
    pkcs11.close();
    if (previous === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previous;
  }
}
