/**
 * devapi's authenticators in kube-apiserver's order: a client certificate, then the static tokens, then
 * bootstrap tokens; a failed one is passed over when a later one succeeds, and a request none
 * authenticates but one failed is 401 (union.go, bearertoken.go, bootstrap.go, x509.go).
 */
import t from 'tap';
import { ApiError } from '../../../devapi/api/errors.js';
import { Authenticator, bearerToken, type PresentedCertificate } from '../../../devapi/auth/authentication.js';
import type { UserInfo } from '../../../devapi/auth/rbac.js';

const admin: UserInfo = { name: 'admin', groups: ['system:masters'] };
const auth = new Authenticator({ tokens: new Map([['admin-token', admin]]), bootstrapTokens: ['abcdef.0123456789abcdef', '07401b.f395accd246ae52d'] });
const node: PresentedCertificate = { verified: true, commonName: 'system:node:worker-1', organizations: ['system:nodes'], credentialId: 'X509SHA256=ab12' };
const nodeUser = { name: 'system:node:worker-1', groups: ['system:nodes', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=ab12'] } };
const expired: PresentedCertificate = { verified: false, error: 'CERT_HAS_EXPIRED' };

const who = (certificate: PresentedCertificate, header: string | undefined): UserInfo | number => {
  try {
    return auth.authenticate(certificate, header);
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
};

void t.test('who each combination of certificate and Authorization header is', (t) => {
  const cases: [string, PresentedCertificate, string | undefined, UserInfo | number][] = [
    ['a bootstrap token is system:bootstrap:<id> in system:bootstrappers', undefined, 'Bearer abcdef.0123456789abcdef',
      { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] }],
    ['a second bootstrap token is its own id', undefined, 'bearer 07401b.f395accd246ae52d',
      { name: 'system:bootstrap:07401b', groups: ['system:bootstrappers', 'system:authenticated'] }],
    ['a known id with the wrong secret is 401', undefined, 'Bearer abcdef.0123456789abcdee', 401],
    ['an unknown id is 401', undefined, 'Bearer zzzzzz.0123456789abcdef', 401],
    ['a token of another form (upper case) is 401', undefined, 'Bearer ABCDEF.0123456789abcdef', 401],
    ['a token with a short secret is 401', undefined, 'Bearer abcdef.0123456789', 401],
    ['a static token is its user, plus system:authenticated', undefined, 'Bearer admin-token', { name: 'admin', groups: ['system:masters', 'system:authenticated'] }],
    ['a verified certificate is its CN in groups of its O values, its fingerprint the credential id', node, undefined, nodeUser],
    ['a verified certificate wins over a token (x509 comes first)', node, 'Bearer admin-token', nodeUser],
    ['a certificate that does not verify is passed over for a valid token', expired, 'Bearer abcdef.0123456789abcdef',
      { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] }],
    ['a certificate that does not verify, alone, is 401', expired, undefined, 401],
    ['a verified certificate without a CN authenticates nobody: anonymous', { verified: true, commonName: '', organizations: ['x'], credentialId: 'X509SHA256=00' }, undefined,
      { name: 'system:anonymous', groups: ['system:unauthenticated'] }],
    ['no credentials at all is anonymous', undefined, undefined, { name: 'system:anonymous', groups: ['system:unauthenticated'] }],
    ['a Basic header is no bearer token: anonymous', undefined, 'Basic YTpi', { name: 'system:anonymous', groups: ['system:unauthenticated'] }],
    ['"Bearer" with no token is no token: anonymous', undefined, 'Bearer ', { name: 'system:anonymous', groups: ['system:unauthenticated'] }],
  ];
  for (const [name, certificate, header, want] of cases) t.same(who(certificate, header), want, name);
  t.end();
});

void t.test('the bearer token is the second space-separated part, as bearertoken.go splits it', (t) => {
  t.equal(bearerToken('  Bearer abc  '), 'abc');
  t.equal(bearerToken('BEARER abc extra'), 'abc');
  t.equal(bearerToken('Bearer  abc'), undefined, 'two spaces: an empty token');
  t.equal(bearerToken('Token abc'), undefined);
  t.end();
});

void t.test('bootstrap tokens given at start must have the bootstrap form, one per id', (t) => {
  t.throws(() => new Authenticator({ tokens: new Map(), bootstrapTokens: ['abcdef:0123456789abcdef'] }), /must have the form \[a-z0-9\]\{6\}\.\[a-z0-9\]\{16\}/);
  t.throws(() => new Authenticator({ tokens: new Map(), bootstrapTokens: ['abcdef.0123456789abcdef', 'abcdef.aaaaaaaaaaaaaaaa'] }), /bootstrap token id abcdef is given twice/);
  t.end();
});
