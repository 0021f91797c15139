/**
 * An observability hook: every certificate the authority issues is announced on a
 * `node:diagnostics_channel` channel, as undici announces its requests. Nothing is
 * published, and nothing is copied, while no one subscribes.
 *
 *   import { subscribe } from 'node:diagnostics_channel';
 *   subscribe('csr-signer:pki:certificate-issued', (message) => { ... });
 *
 * The message is a CertificateIssuedMessage, published synchronously just before the
 * issuing call returns, once per certificate, on the thread that issued it. Its bytes
 * are copies: a subscriber may keep them.
 */
import { channel } from 'node:diagnostics_channel';

export const certificateIssuedChannelName = 'csr-signer:pki:certificate-issued';

export interface CertificateIssuedMessage {
  /** The certificate issued, DER. */
  readonly der: Uint8Array;
  /** The certificate of the CA that signed it, DER. */
  readonly issuerDer: Uint8Array;
}

const issued = channel(certificateIssuedChannelName);

/** Announces a certificate just issued, when anyone listens. */
export function announceIssued(der: Uint8Array, issuerDer: Uint8Array): void {
  if (!issued.hasSubscribers) return;
  const message: CertificateIssuedMessage = { der: der.slice(), issuerDer: issuerDer.slice() };
  issued.publish(message);
}
