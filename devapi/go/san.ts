/**
 * The subjectAltName checks crypto/x509 makes on a request and a certificate
 * (parseSANExtension over cryptobyte), with their error texts. A URI goes through the
 * same url.Parse subset the PKI core applies (src/pki).
 */
import { cb, GoError, goQuote, latin1, Tag, uriProblem } from '../../src/pki/index.js';

/** parseSANExtension's checks (forEachSAN over cryptobyte). */
export function checkSubjectAltNames(der: Uint8Array): void {
  const seq = cb(der, 0, der.length, Tag.sequence);
  if (!seq) throw new GoError('x509: invalid subject alternative names');
  for (let offset = seq.contentStart; offset < seq.end;) {
    const san = cb(der, offset, seq.end);
    if (!san) throw new GoError('x509: invalid subject alternative name');
    const data = der.subarray(san.contentStart, san.end);
    const ascii = data.every((c) => c < 0x80);
    const text = latin1(data);
    switch (san.tag ^ 0x80) {
      case 1: if (!ascii) throw new GoError('x509: SAN rfc822Name is malformed'); break;
      case 2: if (!ascii) throw new GoError('x509: SAN dNSName is malformed'); break;
      case 6: {
        if (!ascii) throw new GoError('x509: SAN uniformResourceIdentifier is malformed');
        const problem = uriProblem(text);
        if (problem !== undefined) throw new GoError(`x509: cannot parse URI ${goQuote(text)}: ${problem}`);
        break;
      }
      case 7: if (data.length !== 4 && data.length !== 16) throw new GoError(`x509: cannot parse IP address of length ${data.length}`); break;
      default: break;
    }
    offset = san.end;
  }
}
