/**
 * Shared by the approval tables: a CSR's request through the real parser, as the
 * controller hands it to decideApproval — the parsed request, or the permanent error.
 */
import { CsrSignerError } from '../../src/errors.js';
import { parseRequest, type CertificateRequest } from '../../src/pki/index.js';
import { requestBytes } from '../../src/signer/decide.js';
import type { Csr } from '../../src/signer/types.js';

export function parsed(csr: Csr): CertificateRequest | CsrSignerError {
  try {
    return parseRequest(requestBytes(csr));
  } catch (e) {
    if (e instanceof CsrSignerError && e.permanent) return e;
    throw e;
  }
}
