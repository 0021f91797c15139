/**
 * The Lease errors that retrying cannot cure: the API server refused a request
 * for want of a permission (403 on get, create or update), or the Lease cannot
 * be created because its namespace (or the coordination.k8s.io/v1 API) is not
 * there (404 on create). Leader election retries them like any other failure,
 * but reports them as one CsrSignerError naming what is missing — verb, resource
 * `leases` in group `coordination.k8s.io`, namespace, and the user when the
 * server's message names it — so /readyz and one log line can say it.
 *
 * A 404 on get only means "no Lease yet" (the lock returns undefined), and a
 * 404 on update means someone deleted the Lease since we read it: the next
 * attempt creates it. Neither is reported here.
 */
import { csrErrorWithCause, type CsrSignerError } from '../errors.js';
import { KubeApiError } from '../kube/http.js';

/** The lock's three requests, as RBAC verbs. */
export type LeaseVerb = 'get' | 'create' | 'update';

/**
 * kube-apiserver's 403 text names the user: `User "NAME" cannot VERB resource ...`
 * (k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go, forbiddenMessage).
 * The name is printed with %q, so it may hold escaped quotes.
 */
const forbiddenUser = /\bUser "((?:[^"\\]|\\.)*)" cannot /;

/** The user the server's 403 names, if it does. */
export function forbiddenUserOf(message: string): string | undefined {
  const quoted = forbiddenUser.exec(message)?.[1];
  if (quoted === undefined) return undefined;
  try {
    return JSON.parse(`"${quoted}"`) as string;
  } catch {
    return quoted;
  }
}

/** The error to report for `e`, a failed `verb` on the Lease `namespace/name`; undefined for an error retrying may cure. */
export function leaseAccessError(verb: LeaseVerb, e: unknown, lease: { readonly namespace: string; readonly name: string }): CsrSignerError | undefined {
  if (!(e instanceof KubeApiError)) return undefined;
  if (e.status === 403) {
    const user = forbiddenUserOf(e.message);
    const who = user === undefined ? 'the signer\'s identity' : `user ${JSON.stringify(user)}`;
    return csrErrorWithCause(e, 'LeaseForbidden', who, verb, lease.namespace, lease.name);
  }
  if (e.status === 404 && verb === 'create') {
    const detail = e.message.replace(/^404 \w+: /, '');
    return csrErrorWithCause(e, 'LeaseNamespaceNotFound', lease.namespace, lease.name, detail);
  }
  return undefined;
}
