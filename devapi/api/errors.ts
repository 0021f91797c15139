/**
 * Kubernetes `Status` error bodies and field errors, with the real reasons,
 * codes and message shapes (apimachinery pkg/api/errors, pkg/util/validation/field).
 */
import { goQuote } from '../../src/pki/index.js';

export interface StatusBody {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  /** ListMeta: empty, but for the token a 410 for an expired continue token hands back. */
  readonly metadata: { readonly continue?: string };
  readonly status: 'Failure' | 'Success';
  readonly message: string;
  /** Absent for an error the apiserver could not classify (StatusReasonUnknown is ""). */
  readonly reason?: string;
  readonly details?: Record<string, unknown>;
  readonly code: number;
}

/** An error a handler throws to answer with a Status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Record<string, unknown>, readonly headers?: Record<string, string>) {
    super(message);
  }

  toStatus(): StatusBody {
    return {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, ...(this.reason === '' ? {} : { reason: this.reason }),
      ...(this.details ? { details: this.details } : {}), code: this.code,
    };
  }
}

/** What a resource is called in messages: `certificatesigningrequests.certificates.k8s.io`, or `events` for core. */
export const qualifiedResource = (resource: string, group: string): string => (group === '' ? resource : `${resource}.${group}`);

export const notFound = (resource: string, group: string, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, { name, group, kind: resource });

export const unknownPath = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

export const alreadyExists = (resource: string, group: string, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`, { name, group, kind: resource });

export const conflict = (resource: string, group: string, name: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group, kind: resource });

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');

export const forbidden = (message: string, details?: Record<string, unknown>): ApiError => new ApiError(403, 'Forbidden', message, details);

export const expired = (message: string): ApiError => new ApiError(410, 'Expired', message);

/**
 * 410 for a continue token whose revision has been compacted, carrying a token that reads the
 * rest of the list at the current revision (apiserver pkg/storage/etcd3/errors.go
 * handleCompactedErrorForPaging; the message is its inconsistentContinue).
 */
export class ExpiredContinue extends ApiError {
  constructor(readonly continueToken: string) {
    super(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, '
      + 'or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - '
      + 'objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
  }

  override toStatus(): StatusBody {
    return { ...super.toStatus(), metadata: { continue: this.continueToken } };
  }
}

export const methodNotAllowed = (verb: string, resource: string, group: string): ApiError =>
  new ApiError(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${qualifiedResource(resource, group)}"`);

export type FieldErrorType = 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden' | 'FieldValueTooLong';

/** One field error, as Go's field.Error renders it. */
export interface FieldError {
  readonly type: FieldErrorType;
  readonly field: string;
  /** The rendered value (already quoted when it is a string), for Invalid/NotSupported/Duplicate. */
  readonly value?: string;
  readonly detail?: string;
}

const typeText: Record<FieldErrorType, string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
};

/** `spec.usages[0]: Unsupported value: "foo": supported values: ...` */
export function formatFieldError(e: FieldError): string {
  const parts = [`${e.field}: ${typeText[e.type]}`];
  if (e.value !== undefined) parts.push(e.value);
  if (e.detail !== undefined && e.detail !== '') parts.push(e.detail);
  return parts.join(': ');
}

/**
 * Go's %q (strconv.Quote) of a string value, for FieldError.value and messages: \a \b \f
 * \n \r \t \v, \xNN for other control bytes, \uNNNN / \UNNNNNNNN for other unprintable runes.
 */
export const quote: (s: string) => string = goQuote;

/** 422 Invalid: `<Kind>.<group> "<name>" is invalid: [a, b]` (no brackets for a single error). */
export function invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): ApiError {
  const messages = errors.map(formatFieldError);
  const list = messages.length === 1 ? messages[0] ?? '' : `[${messages.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${group === '' ? kind : `${kind}.${group}`} "${name}" is invalid: ${list}`, {
    name, group, kind,
    causes: errors.map((e) => ({ reason: e.type, message: formatFieldError(e).slice(e.field.length + 2), field: e.field })),
  });
}
