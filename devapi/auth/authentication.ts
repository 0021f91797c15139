/**
 * Who a request is, in kube-apiserver's order (pkg/kubeapiserver/authenticator/config.go `Config.New`):
 * the x509 client-certificate authenticator first, then the bearer-token authenticators
 * (the static token table, then bootstrap tokens), in one union
 * (k8s.io/apiserver pkg/authentication/request/union/union.go `AuthenticateRequest`): the
 * first that authenticates wins; one that fails is remembered and the next is tried; if
 * none authenticates and one failed, the request is 401. Nothing presented at all is
 * `system:anonymous` (anonymous.go), and every authenticated user also gets
 * `system:authenticated` (group/authenticated_group_adder.go).
 */
import { timingSafeEqual } from 'node:crypto';
import type { UserInfo } from './rbac.js';
import { unauthorized } from '../api/errors.js';

/** A verified client certificate's subject, or a certificate that did not verify (server/client-certificate.ts). */
export type PresentedCertificate =
  | undefined
  | { readonly verified: true; readonly commonName: string; readonly organizations: readonly string[]; readonly credentialId: string }
  | { readonly verified: false; readonly error: string };

/** user.CredentialIDKey: the extra key a client certificate's fingerprint is given under. */
export const CREDENTIAL_ID_KEY = 'authentication.kubernetes.io/credential-id';

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
const AUTHENTICATED = 'system:authenticated';

/**
 * A bootstrap token: `<id>.<secret>`, `[a-z0-9]{6}.[a-z0-9]{16}`
 * (k8s.io/cluster-bootstrap token/api/types.go `BootstrapTokenPattern`, read by token/util `ParseToken`).
 */
export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';

/** The user a bootstrap token's id stands for (bootstrap.go `AuthenticateToken`: prefix + id; default group only). */
export const bootstrapUser = (id: string): UserInfo => ({ name: `${BOOTSTRAP_USER_PREFIX}${id}`, groups: [BOOTSTRAPPERS_GROUP] });

const withAuthenticated = (user: UserInfo): UserInfo =>
  (user.groups.includes(AUTHENTICATED) ? user : { ...user, groups: [...user.groups, AUTHENTICATED] });

export interface AuthenticatorOptions {
  /** The static token table (kube-apiserver's `--token-auth-file`), users without `system:authenticated`. */
  readonly tokens: ReadonlyMap<string, UserInfo>;
  /**
   * Bootstrap tokens, `id.secret`. Upstream each is a Secret `bootstrap-token-<id>` in kube-system of
   * type bootstrap.kubernetes.io/token with `usage-bootstrap-authentication: "true"`; here they are
   * given at start, never expire and have no `auth-extra-groups`.
   */
  readonly bootstrapTokens: readonly string[];
}

export class Authenticator {
  readonly #tokens: ReadonlyMap<string, UserInfo>;
  readonly #bootstrap = new Map<string, Buffer>();

  constructor(options: AuthenticatorOptions) {
    this.#tokens = options.tokens;
    for (const token of options.bootstrapTokens) {
      const match = BOOTSTRAP_TOKEN_PATTERN.exec(token);
      if (!match) throw new Error('a bootstrap token must have the form [a-z0-9]{6}.[a-z0-9]{16}');
      const [, id = '', secret = ''] = match;
      // One Secret per id upstream (its name is bootstrap-token-<id>): a second secret for an id cannot exist.
      if (this.#bootstrap.has(id)) throw new Error(`bootstrap token id ${id} is given twice`);
      this.#bootstrap.set(id, Buffer.from(secret));
    }
  }

  /** The user, or an ApiError 401 (`Unauthorized`). `authorization`: the Authorization header. */
  authenticate(certificate: PresentedCertificate, authorization: string | undefined): UserInfo {
    let failed = false;
    if (certificate !== undefined) {
      if (!certificate.verified) failed = true;
      // x509.go CommonNameUserConversion: no CN, no user (and no error either); the certificate's
      // fingerprint as extra credential-id (the UID attribute behind AllowParsingUserUIDFromCertAuth is not read).
      else if (certificate.commonName !== '') {
        return withAuthenticated({ name: certificate.commonName, groups: [...certificate.organizations], extra: { [CREDENTIAL_ID_KEY]: [certificate.credentialId] } });
      }
    }
    const token = bearerToken(authorization);
    if (token !== undefined) {
      const user = this.#tokens.get(token) ?? this.#bootstrapUser(token);
      if (user) return withAuthenticated(user);
      // bearertoken.go: a token no authenticator accepts is `invalid bearer token`.
      failed = true;
    }
    if (failed) throw unauthorized();
    return ANONYMOUS;
  }

  /** bootstrap.go `AuthenticateToken`: a token of another form, an unknown id or a wrong secret authenticates nobody. */
  #bootstrapUser(token: string): UserInfo | undefined {
    const match = BOOTSTRAP_TOKEN_PATTERN.exec(token);
    if (!match) return undefined;
    const [, id = '', secret = ''] = match;
    const expected = this.#bootstrap.get(id);
    // subtle.ConstantTimeCompare upstream; both are 16 bytes by the pattern.
    if (!expected || !timingSafeEqual(expected, Buffer.from(secret))) return undefined;
    return bootstrapUser(id);
  }
}

/**
 * k8s.io/apiserver pkg/authentication/request/bearertoken/bearertoken.go `AuthenticateRequest`: the
 * header trimmed, split on single spaces into at most three parts; not `Bearer <token>` (any case)
 * or an empty token → no token at all (the request goes on as anonymous, not 401).
 */
export function bearerToken(header: string | undefined): string | undefined {
  const auth = (header ?? '').trim();
  if (auth === '') return undefined;
  const parts = auth.split(' ');
  const [scheme = '', token = ''] = parts;
  if (parts.length < 2 || scheme.toLowerCase() !== 'bearer' || token === '') return undefined;
  return token;
}
