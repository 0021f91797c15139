/**
 * Kubernetes usage strings → X.509 keyUsage bits and extKeyUsage OIDs, exactly
 * as the in-tree signer maps them (authority/policies.go).
 */
import { csrError } from '../errors.js';

/** keyUsage bit numbers (RFC 5280 §4.2.1.3). */
const KeyUsageBit = {
  digitalSignature: 0,
  contentCommitment: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;

/** extKeyUsage, listed in Go's ExtKeyUsage enum order, which is the order they are written in. */
const extendedKeyUsages = [
  ['any', '2.5.29.37.0'],
  ['serverAuth', '1.3.6.1.5.5.7.3.1'],
  ['clientAuth', '1.3.6.1.5.5.7.3.2'],
  ['codeSigning', '1.3.6.1.5.5.7.3.3'],
  ['emailProtection', '1.3.6.1.5.5.7.3.4'],
  ['ipsecEndSystem', '1.3.6.1.5.5.7.3.5'],
  ['ipsecTunnel', '1.3.6.1.5.5.7.3.6'],
  ['ipsecUser', '1.3.6.1.5.5.7.3.7'],
  ['timeStamping', '1.3.6.1.5.5.7.3.8'],
  ['ocspSigning', '1.3.6.1.5.5.7.3.9'],
  ['microsoftServerGatedCrypto', '1.3.6.1.4.1.311.10.3.3'],
  ['netscapeServerGatedCrypto', '2.16.840.1.113730.4.1'],
] as const;

type ExtendedKeyUsage = (typeof extendedKeyUsages)[number][0];
type Mapping = { readonly bit: number } | { readonly eku: ExtendedKeyUsage };

/** The 23 usage strings of certificates.k8s.io/v1. */
const usageTable: Record<string, Mapping> = {
  'signing': { bit: KeyUsageBit.digitalSignature },
  'digital signature': { bit: KeyUsageBit.digitalSignature },
  'content commitment': { bit: KeyUsageBit.contentCommitment },
  'key encipherment': { bit: KeyUsageBit.keyEncipherment },
  'key agreement': { bit: KeyUsageBit.keyAgreement },
  'data encipherment': { bit: KeyUsageBit.dataEncipherment },
  'cert sign': { bit: KeyUsageBit.keyCertSign },
  'crl sign': { bit: KeyUsageBit.cRLSign },
  'encipher only': { bit: KeyUsageBit.encipherOnly },
  'decipher only': { bit: KeyUsageBit.decipherOnly },
  'any': { eku: 'any' },
  'server auth': { eku: 'serverAuth' },
  'client auth': { eku: 'clientAuth' },
  'code signing': { eku: 'codeSigning' },
  'email protection': { eku: 'emailProtection' },
  's/mime': { eku: 'emailProtection' },
  'ipsec end system': { eku: 'ipsecEndSystem' },
  'ipsec tunnel': { eku: 'ipsecTunnel' },
  'ipsec user': { eku: 'ipsecUser' },
  'timestamping': { eku: 'timeStamping' },
  'ocsp signing': { eku: 'ocspSigning' },
  'microsoft sgc': { eku: 'microsoftServerGatedCrypto' },
  'netscape sgc': { eku: 'netscapeServerGatedCrypto' },
};

export const knownUsages: readonly string[] = Object.keys(usageTable);

export interface UsageExtensions {
  /** keyUsage as a DER BIT STRING's content (unused-bits byte first); undefined when no bit is set. */
  readonly keyUsage: Uint8Array | undefined;
  /** extKeyUsage OIDs, de-duplicated, in Go's order; empty when none. */
  readonly extKeyUsages: readonly string[];
}

/** Maps usage strings; an unknown one is the in-tree signer's "unrecognized usage values" error. */
export function mapUsages(usages: readonly string[]): UsageExtensions {
  const unknown = usages.filter((u) => !(u in usageTable));
  if (unknown.length > 0) throw csrError('UnrecognizedUsage', unknown);
  let bits = 0;
  const ekus = new Set<ExtendedKeyUsage>();
  for (const usage of usages) {
    const mapping = usageTable[usage] as Mapping;
    if ('bit' in mapping) bits |= 1 << mapping.bit;
    else ekus.add(mapping.eku);
  }
  return {
    keyUsage: bits === 0 ? undefined : keyUsageBitString(bits),
    extKeyUsages: extendedKeyUsages.filter(([name]) => ekus.has(name)).map(([, oid]) => oid),
  };
}

/** DER named-bit-list encoding: bit 0 is the first byte's high bit; trailing zero bits are dropped. */
function keyUsageBitString(bits: number): Uint8Array {
  const bytes = [0, 0];
  for (let bit = 0; bit <= 8; bit++) {
    if (bits & (1 << bit)) bytes[bit >> 3] = (bytes[bit >> 3] as number) | (0x80 >> (bit & 7));
  }
  const length = bytes[1] === 0 ? 1 : 2;
  const last = bytes[length - 1] as number;
  let unused = 0;
  while (unused < 7 && (last & (1 << unused)) === 0) unused++;
  return Uint8Array.from([unused, ...bytes.slice(0, length)]);
}
