/**
 * A property over generated requests, with devapi's port of Go's crypto/x509 (checked
 * against Go itself) as the oracle: whenever Go's x509.ParseCertificateRequest refuses a
 * request, the core refuses it too; whenever the core issues, Go's request parser reads the
 * request and Go's certificate parser reads the certificate (test/helpers/go-gate-requests.ts
 * says what the requests are made of). go-gate-oracle.test.ts asks Go itself.
 *
 * For URIs and subject string types the port and the core share one reader (src/pki/go/),
 * so there this property checks only that the two ladders agree; whether that reader is
 * right is for the real-Go test, which also runs a written-out list of tricky URIs.
 */
import fc from 'fast-check';
import t from 'tap';
import { parseCertificateDer } from '../../devapi/go/x509-certificate.js';
import { parseCsr } from '../../devapi/go/x509-request.js';
import { isCsrSignerError } from '../../src/errors.js';
import { signRequest, type SigningProfile } from '../../src/pki/index.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { gateRequest } from '../helpers/go-gate-requests.js';
import { toPem } from '../helpers/requests.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const ca = await loadTestCa(makeOpensslCa(tempDir(), 'property', 'p256'));
const profile: SigningProfile = { usages: ['digital signature', 'client auth'], maxDurationMs: 3_600_000 };
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

/** Characters on both sides of PrintableString, IA5String, UTF-8 and URL rules. */
const goRequestRefusal = (der: Uint8Array): string | undefined => {
  const parsed = parseCsr(Buffer.from(toPem('CERTIFICATE REQUEST', der)));
  return typeof parsed === 'string' ? parsed : undefined;
};
const goCertificateRefusal = (der: Uint8Array): string | undefined => {
  try {
    parseCertificateDer(der);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

void t.test('what Go refuses in a request the core refuses; what the core issues Go reads, request and certificate', async (t) => {
  let issued = 0;
  let refused = 0;
  await fc.assert(fc.asyncProperty(gateRequest, async (der) => {
    const goRequest = goRequestRefusal(der);
    const outcome = await signRequest(der, profile, ca, { now: new Date(), random }).then(
      (cert) => ({ cert: cert.der }),
      (e: unknown) => {
        if (isCsrSignerError(e) && e.permanent) return { refused: e.message };
        throw e;
      },
    );
    if ('refused' in outcome) {
      refused++;
      return;
    }
    issued++;
    if (goRequest !== undefined) throw new Error(`the core issued a request Go refuses (${goRequest})`);
    const goCertificate = goCertificateRefusal(outcome.cert);
    if (goCertificate !== undefined) throw new Error(`the core issued a certificate Go cannot read (${goCertificate})`);
  }), { numRuns: 1000 });
  t.ok(issued > 50 && refused > 50, `both sides are exercised: ${issued} issued, ${refused} refused`);
  t.end();
});
