/**
 * Event validation as kube-apiserver's (kubernetes pkg/apis/core/validation/events.go
 * `ValidateEventCreate`, `ValidateEventUpdate`), on the stored core/v1 form: every Event
 * passes `legacyValidateEvent`; one written through events.k8s.io/v1 also passes the
 * stricter checks that API adds. Field paths are the internal type's, whichever API the
 * Event came through (`reportingController`, `message`, `involvedObject.namespace`).
 */
import { quote, type FieldError } from '../api/errors.js';
import { subdomainErrors } from './csr-validation.js';
import { isObj, obj, str, type Obj } from './json.js';

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

const invalidField = (field: string, value: string, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });
const required = (field: string): FieldError => ({ type: 'FieldValueRequired', field });

/** A metav1.Time or MicroTime is zero when absent, null, empty or the zero instant. */
const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');
function isZeroTime(v: unknown): boolean {
  if (typeof v !== 'string' || v === '') return true;
  const ms = Date.parse(v);
  return Number.isNaN(ms) || ms === ZERO_TIME;
}

const qualifiedNameFormat = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const qualifiedNameMessage = `must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${qualifiedNameFormat}')`;

/** apimachinery util/validation `IsQualifiedName`. */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  const errors: string[] = [];
  if (parts.length > 2) return [`a qualified name ${qualifiedNameMessage} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  const name = parts.length === 2 ? parts[1] ?? '' : parts[0] ?? '';
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix === '') errors.push('prefix part must be non-empty');
    else errors.push(...subdomainErrors(prefix).map((m) => `prefix part ${m}`));
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  if (!new RegExp(`^${qualifiedNameFormat}$`).test(name)) errors.push(`name part ${qualifiedNameMessage}`);
  return errors;
}

/** Go's len of a string: bytes, not characters. */
const len = (s: string): number => Buffer.byteLength(s, 'utf8');

/** `legacyValidateEvent`: what every Event must satisfy. */
function legacyErrors(event: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const namespace = str(obj(event.metadata).namespace);
  const involvedNamespace = str(obj(event.involvedObject).namespace);
  const mismatch = (): FieldError => invalidField('involvedObject.namespace', quote(involvedNamespace), 'does not match event.namespace');
  if (isZeroTime(event.eventTime)) {
    // An Event about a cluster-scoped object (no involvedObject.namespace) lives in no
    // namespace, or in "default" for older clients; otherwise the namespaces agree.
    if (involvedNamespace === '') {
      if (namespace !== '' && namespace !== 'default') errors.push(mismatch());
    } else if (namespace !== involvedNamespace) {
      errors.push(mismatch());
    }
  } else {
    if (involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') errors.push(mismatch());
    const controller = str(event.reportingComponent);
    if (controller === '') errors.push(required('reportingController'));
    for (const message of qualifiedNameErrors(controller)) errors.push(invalidField('reportingController', quote(controller), message));
    const instance = str(event.reportingInstance);
    if (instance === '') errors.push(required('reportingInstance'));
    if (len(instance) > REPORTING_INSTANCE_LIMIT) errors.push(invalidField('reportingInstance', '""', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
    const action = str(event.action);
    if (action === '') errors.push(required('action'));
    if (len(action) > ACTION_LIMIT) errors.push(invalidField('action', '""', `can have at most ${ACTION_LIMIT} characters`));
    const reason = str(event.reason);
    if (reason === '') errors.push(required('reason'));
    if (len(reason) > REASON_LIMIT) errors.push(invalidField('reason', '""', `can have at most ${REASON_LIMIT} characters`));
    if (len(str(event.message)) > NOTE_LIMIT) errors.push(invalidField('message', '""', `can have at most ${NOTE_LIMIT} characters`));
  }
  for (const message of subdomainErrors(namespace)) errors.push(invalidField('namespace', quote(namespace), message));
  return errors;
}

/** apimachinery api/validation `NameIsDNSSubdomain` on metadata.name (ValidateObjectMeta, events.k8s.io only). */
function dnsSubdomainNameErrors(event: Obj): FieldError[] {
  const name = str(obj(event.metadata).name);
  return name === '' ? [] : subdomainErrors(name).map((m) => invalidField('metadata.name', quote(name), m));
}

function seriesErrors(event: Obj): FieldError[] {
  if (!isObj(event.series)) return [];
  const errors: FieldError[] = [];
  const count = typeof event.series.count === 'number' ? event.series.count : 0;
  if (count < 2) errors.push(invalidField('series.count', '""', 'should be at least 2'));
  if (isZeroTime(event.series.lastObservedTime)) errors.push(required('series.lastObservedTime'));
  return errors;
}

/**
 * The generic ObjectMeta check kube-apiserver runs after a strategy's own validation passes
 * (apiserver pkg/registry/rest/create.go `ValidateCreate`: the name a path segment).
 */
export function pathSegmentNameErrors(object: Obj): FieldError[] {
  const name = str(obj(object.metadata).name);
  if (name === '.' || name === '..') return [invalidField('metadata.name', quote(name), `may not be '${name}'`)];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => invalidField('metadata.name', quote(name), `may not contain '${c}'`));
}

/** `ValidateEventCreate`; `strict` for an Event written through events.k8s.io/v1. */
export function validateEventCreate(event: Obj, strict: boolean): FieldError[] {
  const errors = legacyErrors(event);
  if (!strict) return errors.length > 0 ? errors : pathSegmentNameErrors(event);
  errors.push(...dnsSubdomainNameErrors(event), ...seriesErrors(event));
  if (isZeroTime(event.eventTime)) errors.push(required('eventTime'));
  const type = str(event.type);
  if (type !== 'Normal' && type !== 'Warning') errors.push(invalidField('type', '""', `has invalid value: ${type}`));
  if (!isZeroTime(event.firstTimestamp)) errors.push(invalidField('firstTimestamp', '""', 'needs to be unset'));
  if (!isZeroTime(event.lastTimestamp)) errors.push(invalidField('lastTimestamp', '""', 'needs to be unset'));
  if (typeof event.count === 'number' && event.count !== 0) errors.push(invalidField('count', '""', 'needs to be unset'));
  const source = obj(event.source);
  if (str(source.component) !== '' || str(source.host) !== '') errors.push(invalidField('source', '""', 'needs to be unset'));
  return errors.length > 0 ? errors : pathSegmentNameErrors(event);
}

// ------------------------------------------------------------------ update

/** How field.Invalid renders a value: %q for strings, %v for numbers, String() for times, %#v for structs. */
function goValue(field: string, v: unknown): string {
  if (field === 'involvedObject' || field === 'related') {
    if (field === 'related' && !isObj(v)) return 'null';
    const r = obj(v);
    const f = (k: string): string => quote(str(r[k]));
    return `core.ObjectReference{Kind:${f('kind')}, Namespace:${f('namespace')}, Name:${f('name')}, UID:${f('uid')}, APIVersion:${f('apiVersion')}, ResourceVersion:${f('resourceVersion')}, FieldPath:${f('fieldPath')}}`;
  }
  if (field === 'source') return `core.EventSource{Component:${quote(str(obj(v).component))}, Host:${quote(str(obj(v).host))}}`;
  if (field === 'count') return String(typeof v === 'number' ? v : 0);
  if (field === 'firstTimestamp' || field === 'lastTimestamp' || field === 'eventTime') return goTimeString(v, field === 'eventTime');
  return quote(str(v));
}

/** Go's time.Time String() in UTC: `2026-01-02 03:04:05.123456 +0000 UTC` (fraction without trailing zeros). */
function goTimeString(v: unknown, micro: boolean): string {
  if (isZeroTime(v)) return '0001-01-01 00:00:00 +0000 UTC';
  const iso = new Date(Date.parse(str(v))).toISOString();
  const fraction = micro ? (/\.(\d+)/.exec(str(v))?.[1] ?? '').slice(0, 9).replace(/0+$/, '') : '';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''} +0000 UTC`;
}

/** What `ValidateImmutableField` compares by (apiequality.Semantic.DeepEqual), for the fields an events.k8s.io update may not change. */
function sameValue(field: string, a: unknown, b: unknown): boolean {
  if (field === 'involvedObject' || field === 'related' || field === 'source') {
    if (field === 'related' && isObj(a) !== isObj(b)) return false;
    const keys = field === 'source' ? ['component', 'host'] : ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];
    return keys.every((k) => str(obj(a)[k]) === str(obj(b)[k]));
  }
  if (field === 'count') return (typeof a === 'number' ? a : 0) === (typeof b === 'number' ? b : 0);
  if (field === 'firstTimestamp' || field === 'lastTimestamp' || field === 'eventTime') {
    return isZeroTime(a) ? isZeroTime(b) : !isZeroTime(b) && Date.parse(str(a)) === Date.parse(str(b)) && (field !== 'eventTime' || goTimeString(a, true) === goTimeString(b, true));
  }
  return str(a) === str(b);
}

/** The immutable fields in `ValidateEventUpdate`'s order (reason is listed twice upstream, and so reported twice). */
const immutable: readonly [string, string][] = [
  ['involvedObject', 'involvedObject'], ['reason', 'reason'], ['message', 'message'], ['source', 'source'], ['firstTimestamp', 'firstTimestamp'],
  ['lastTimestamp', 'lastTimestamp'], ['count', 'count'], ['reason', 'reason'], ['type', 'type'], ['eventTime', 'eventTime'], ['action', 'action'],
  ['related', 'related'], ['reportingComponent', 'reportingController'], ['reportingInstance', 'reportingInstance'],
];

/** `ValidateEventUpdate`; `strict` for an update through events.k8s.io/v1. */
export function validateEventUpdate(event: Obj, old: Obj, strict: boolean): FieldError[] {
  const errors = legacyErrors(event);
  if (!strict) return errors;
  if (JSON.stringify(event.series ?? null) !== JSON.stringify(old.series ?? null)) errors.push(...seriesErrors(event));
  for (const [key, path] of immutable) {
    if (!sameValue(key, event[key], old[key])) errors.push(invalidField(path, goValue(key, event[key]), 'field is immutable'));
  }
  return errors;
}
