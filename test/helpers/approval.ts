/**
 * Shared by the approval tables: a CSR's request through the real parser, as the
 * controller hands it to decideApproval — the parsed request, or the permanent error
 * — and a request whose signature does not verify (no proof of possession).
 */
import { CsrSignerError } from '../../src/errors.js';
import { parseRequest, type CertificateRequest } from '../../src/pki/index.js';
import { requestBytes } from '../../src/signer/decide.js';
import type { Csr } from '../../src/signer/types.js';
import { withRawRequest, type CsrModifier } from './csr.js';
import { buildRequest, toPem, type RequestSpec } from './requests.js';

export function parsed(csr: Csr): CertificateRequest | CsrSignerError {
  try {
    return parseRequest(requestBytes(csr));
  } catch (e) {
    if (e instanceof CsrSignerError && e.permanent) return e;
    throw e;
  }
}

/** The request of `spec` with the last byte of its signature flipped: well formed, signed by no one. */
export function withForgedSignature(spec: RequestSpec): CsrModifier {
  const der = Uint8Array.from(buildRequest(spec));
  der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 1;
  return withRawRequest(Buffer.from(toPem('CERTIFICATE REQUEST', der)).toString('base64'));
}
