/**
 * golang.org/x/crypto/cryptobyte's strict DER read as crypto/x509's parser.go uses it: it
 * answers "no" (undefined) instead of an error, parser.go choosing the message. devapi's
 * certificate and key readers build their cryptobyte.String on it.
 */
import { readTlv, type Tlv } from '../der.js';

/** cryptobyte's strict DER read of one element with `tag` at `offset`, or undefined. */
export function cb(buf: Uint8Array, offset: number, limit: number, tag?: number): Tlv | undefined {
  try {
    const tlv = readTlv(buf, offset, limit);
    return tag === undefined || tlv.tag === tag ? tlv : undefined;
  } catch {
    return undefined;
  }
}
