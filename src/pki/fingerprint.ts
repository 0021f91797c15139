/** A certificate's SHA-256 fingerprint, as `openssl x509 -noout -fingerprint -sha256` prints it without colons, lower case. */
import { createHash } from 'node:crypto';

export const certificateFingerprint = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');
