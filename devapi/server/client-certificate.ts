/**
 * What a request's TLS client certificate says, for the x509 authenticator (auth/authentication.ts).
 *
 * kube-apiserver (k8s.io/apiserver pkg/authentication/request/x509/x509.go, `Authenticator.AuthenticateRequest`)
 * asks for a certificate without requiring one, verifies the chain the client sent against the
 * `--client-ca-file` bundle with `x509.ExtKeyUsageClientAuth`, and maps the leaf with
 * `CommonNameUserConversion`: user = subject CN (an empty CN authenticates nobody), groups =
 * subject O values, extra `authentication.kubernetes.io/credential-id: X509SHA256=<sha256 of the DER>`. devapi lets Node's TLS (OpenSSL, purpose `sslclient`: an extended key usage,
 * when present, must allow client auth) verify the chain against the same bundle, and reads the
 * subject as Go's crypto/x509 does (go/x509-certificate.ts, go/asn1.ts).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { subjectNames } from '../go/asn1.js';
import { parseCertificateDer } from '../go/x509-certificate.js';

/** No certificate; one that verified (CN and O values); or one that did not (why, for the log). */
export type ClientCertificate =
  | undefined
  | { readonly verified: true; readonly commonName: string; readonly organizations: readonly string[]; readonly credentialId: string }
  | { readonly verified: false; readonly error: string };

export function clientCertificate(req: IncomingMessage): ClientCertificate {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  // An empty object: the client sent no certificate (or none was asked for).
  if (!peer || !('raw' in peer) || !Buffer.isBuffer(peer.raw)) return undefined;
  if (socket.authorized !== true) return { verified: false, error: String(socket.authorizationError ?? 'unverified') };
  try {
    const { subject } = parseCertificateDer(new Uint8Array(peer.raw));
    const { commonName, organizations } = subjectNames(subject);
    // CommonNameUserConversion's credential id: the SHA-256 of the leaf's DER.
    return { verified: true, commonName, organizations, credentialId: `X509SHA256=${createHash('sha256').update(peer.raw).digest('hex')}` };
  } catch (e) {
    return { verified: false, error: (e as Error).message };
  }
}
