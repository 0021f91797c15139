/** The generic REST verbs over the store, with Kubernetes' status codes and preconditions. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { warmRequestVerdict } from '../resources/csr-validation.js';
import { parseJson, readBody, sendJson, sendJsonText, mediaType } from './request-response.js';
import { decodeGo, jsonTree, valueTree, type JsonNode } from '../go/json-decode.js';
import { goTypeOf } from '../resources/go-types.js';
import { typedJson } from '../storage/object-json.js';
import { applyStrategicMergePatch } from '../storage/strategic-merge.js';
import { applyJsonPatch, applyMergePatch } from '../storage/patch.js';
import { ignoreManagedFieldsTimestamps } from '../storage/object-equality.js';
import { checkNamespaceDeletable, isTerminating, namespaceTerminating } from '../resources/namespaces.js';
import type { NamespaceTermination } from '../resources/namespace-termination.js';
import { decodeKubernetesProtobuf } from './protobuf.js';
import { forbiddenError, isAuthorizedForSignerName, signerNotPermitted, type RequestAuthorizer, type UserInfo } from '../auth/rbac.js';
import { apiVersionOf, type ResourceDef } from '../api/resource-definitions.js';
import { parseFieldSelector, parseLabelSelector } from '../storage/selectors.js';
import {
  alreadyExists, ApiError, badRequest, conflict, invalid, notFound, qualifiedResource, quote,
} from '../api/errors.js';
import { strategies, strategyFor, type Strategy, type Subresource } from '../resources/strategies.js';
import { pcrStatusChanged, pcrTerminalCondition } from '../resources/pod-certificate-requests.js';
import { admitPodCertificateRequest } from '../resources/pod-certificate-admission.js';
import type { KubeObject } from '../storage/kube-object.js';
import type { Store } from '../storage/store.js';
import { toTable } from './tables.js';
import { listPage, validateListOptions } from './list-pages.js';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly user: UserInfo;
  readonly def: ResourceDef;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: Subresource;
  readonly table: boolean;
}

/** A status write that set a certificate, kept so tests can prove "issued once, only when approved". */
export interface CertificateWrite {
  readonly csr: string;
  readonly uid: string;
  readonly signerName: string;
  readonly user: string;
  readonly resourceVersion: string;
  readonly time: string;
  readonly approved: boolean;
  readonly denied: boolean;
  readonly failed: boolean;
  /** True when the write tried to change a certificate already set (the API refuses it). */
  readonly replaced: boolean;
}

/**
 * One PUT to a CSR's /approval, as answered: accepted (2xx) or refused (its status code). A
 * refusal injected by a fault rule before handling has `injected: true` and no version (the
 * body was not read); a write stored whose answer a fault then lost is recorded as accepted.
 */
export interface ApprovalWrite {
  readonly csr: string;
  readonly user: string;
  /** The resourceVersion the request sent; undefined when it sent none or its body was not read. */
  readonly resourceVersion: string | undefined;
  readonly time: string;
  readonly status: number;
  readonly accepted: boolean;
  /** The condition types the write added (accepted writes only; a dry run adds nothing). */
  readonly added: readonly string[];
  /** The condition types the body carried that the CSR did not have yet (what it tried to add). */
  readonly attempted: readonly string[];
  /** For a refused write: the Status reason and message. */
  readonly reason?: string;
  readonly message?: string;
  readonly injected?: true;
  readonly dryRun?: true;
}

/** A PodCertificateRequest status write that was stored and changed the status (each adds the one terminal condition). */
export interface PcrStatusWrite {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly user: string;
  /** The terminal condition the write added: Issued, Denied or Failed. */
  readonly conditionType: string;
  readonly resourceVersion: string;
  readonly time: string;
}

export interface RestDeps {
  readonly store: Store;
  readonly authorizer: RequestAuthorizer;
  readonly audit: CertificateWrite[];
  readonly pcrStatusWrites: PcrStatusWrite[];
  readonly approvalWrites: ApprovalWrite[];
  /** A request's verdict computed off the event loop (go/request-verifier.ts). */
  readonly verifyRequest: (encoded: string) => Promise<string | undefined>;
  /** Namespace deletion: Terminating first, gone later. */
  readonly namespaces: NamespaceTermination;
}

type Obj = Record<string, unknown>;
const meta = (o: Obj): Obj => (o.metadata ?? {}) as Obj;
/** The object as stored: the type fields come from the resource, not the body. */
const withoutType = (o: Obj): Obj => {
  const rest = { ...o };
  delete rest.apiVersion;
  delete rest.kind;
  return rest;
};
const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const strategyOf = (def: ResourceDef): Strategy => strategyFor(def.group, def.resource, def.version, def.podCertificateStub) ?? (strategies.events as Strategy);
const isPcr = (def: ResourceDef): boolean => def.resource === 'podcertificaterequests';
const withType = (def: ResourceDef, o: KubeObject): Obj => ({ apiVersion: apiVersionOf(def), kind: def.kind, ...(def.convert ? def.convert.fromStorage(o) : o) });

/** Decodes a request body by Content-Type: JSON, YAML, or (kubectl ≥ 1.32 approve / can-i) protobuf. */
export async function readObject(req: IncomingMessage, kind: string): Promise<Obj> {
  return (await readTree(req, kind)).object;
}

/** A create's body decoded into its Go type (the reviews, which are answered, not stored). */
export async function readTyped(ctx: RequestContext): Promise<Obj> {
  return decodeTyped(ctx, (await readTree(ctx.req, ctx.def.kind)).tree, 'CreateOptions');
}

/** The body as an object, and as written (for the typed decode, decodeTyped). */
async function readTree(req: IncomingMessage, kind: string): Promise<{ object: Obj; tree: JsonNode; raw: Buffer }> {
  const body = await readBody(req);
  const type = mediaType(req.headers['content-type']);
  let value: unknown;
  let tree: JsonNode | undefined;
  if (type === 'application/vnd.kubernetes.protobuf') value = decodeKubernetesProtobuf(body).object;
  else if (type === 'application/yaml' || type === 'application/apply-patch+yaml') value = parseYamlBody(body);
  else {
    value = parseJson(body);
    tree = jsonTree(body.toString('utf8'));
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    if (value === null || tree === undefined) throw badRequest('the request body must be a JSON object');
    const what = Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value;
    throw unrecognized(`json: cannot unmarshal ${what} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`, body, kind);
  }
  for (const field of ['apiVersion', 'kind']) {
    const v = (value as Obj)[field];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      throw unrecognized(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v} into Go struct field .${field} of type string`, body, kind);
    }
  }
  return { object: value as Obj, tree: tree ?? valueTree(value), raw: body };
}

/**
 * A JSON body that is not an object fails where the serializer first reads it, for its kind
 * and apiVersion (apimachinery runtime/serializer/json `DefaultMetaFactory.Interpret`), and is
 * answered as endpoints/handlers/rest.go `transformDecodeError` answers a body of no kind.
 */
function unrecognized(problem: string, body: Buffer, kind: string): ApiError {
  const summary = body[0] === 0x7b
    ? (body.length > 30 ? `${body.subarray(0, 30).toString('latin1')} ...` : body.toString('latin1'))
    : (body.length > 30 ? `${body.subarray(0, 30).toString('hex')} ...` : body.toString('hex'));
  return badRequest(`the object provided is unrecognized (must be of type ${kind}): couldn't get version/kind; json parse error: ${problem} (${summary})`);
}

/** The write options a request's query carries (CreateOptions, UpdateOptions, PatchOptions). */
type WriteOptions = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';
type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

/**
 * `fieldValidation` (apiserver endpoints/handlers/rest.go `fieldValidation`: Warn when not
 * given), checked as apimachinery meta/v1/validation `ValidateFieldValidation` does.
 */
function fieldValidation(ctx: RequestContext, options: WriteOptions): FieldValidation {
  const value = ctx.url.searchParams.get('fieldValidation') ?? '';
  if (value === '') return 'Warn';
  if (value === 'Ignore' || value === 'Warn' || value === 'Strict') return value;
  throw invalid(options, 'meta.k8s.io', '', [{ type: 'FieldValueNotSupported', field: 'fieldValidation', value: quote(value), detail: 'supported values: "", "Ignore", "Strict", "Warn"' }]);
}

/** A `Warning` header as the apiserver's warning recorder writes one (apimachinery util/net `NewWarningHeader`). */
function addWarnings(ctx: RequestContext, texts: readonly string[]): void {
  if (texts.length === 0) return;
  const existing = ctx.res.getHeader('Warning');
  const before = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  ctx.res.setHeader('Warning', [...before, ...texts.map((text) => `299 - "${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`)]);
}

/**
 * The body decoded into the resource's Go type, as create.go and update.go decode it: a
 * wrong type is 400 `<Kind> in version "<v>" cannot be handled as a <Kind>: json: …`;
 * unknown and repeated fields are dropped, and with fieldValidation Warn (the default)
 * each is a `Warning` header, with Strict a 400 `strict decoding error: …`, with Ignore
 * nothing. A patch is decoded after it is applied (patch.go `applyPatchToCurrentObject`),
 * where both kinds of error are 422 on the field `patch`.
 */
function decodeTyped(ctx: RequestContext, tree: JsonNode, options: WriteOptions): Obj {
  const directive = fieldValidation(ctx, options);
  const type = goTypeOf(ctx.def.group, ctx.def.version, ctx.def.resource, ctx.def.podCertificateStub);
  if (!type) return plainObject(tree);
  const decoded = decodeGo(tree, type, { strict: directive !== 'Ignore' });
  const patchError = (detail: string): ApiError => invalid('', '', '', [{ type: 'FieldValueInvalid', field: 'patch', value: quote(JSON.stringify(plainObject(tree))), detail }]);
  if (decoded.error !== undefined) {
    if (options === 'PatchOptions') throw patchError(decoded.error);
    throw badRequest(`${ctx.def.kind} in version ${quote(ctx.def.version)} cannot be handled as a ${ctx.def.kind}: ${decoded.error}`);
  }
  if (decoded.strict.length > 0 && directive === 'Strict') {
    const message = `strict decoding error: ${decoded.strict.join(', ')}`;
    if (options === 'PatchOptions') throw patchError(message);
    throw badRequest(`${ctx.def.kind} in version ${quote(ctx.def.version)} cannot be handled as a ${ctx.def.kind}: ${message}`);
  }
  if (directive === 'Warn') addWarnings(ctx, decoded.strict);
  return decoded.value as Obj;
}

const plainObject = (tree: JsonNode): Obj => decodeGo(tree, { kind: 'raw' }).value as Obj;

function parseYamlBody(body: Buffer): unknown {
  try {
    return parseYaml(body.toString('utf8')) as unknown;
  } catch (e) {
    throw badRequest(`error decoding YAML: ${(e as Error).message}`);
  }
}

function checkKind(ctx: RequestContext, body: Obj): void {
  const { def } = ctx;
  if (body.kind !== undefined && body.kind !== def.kind) throw badRequest(`the body kind ${text(body.kind)} does not match the resource ${def.kind}`);
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(def)) throw badRequest(`the API version in the data (${text(body.apiVersion)}) does not match the expected API version (${apiVersionOf(def)})`);
}

/**
 * NamespaceLifecycle on create (apiserver pkg/admission/plugin/namespace/lifecycle/admission.go
 * `Lifecycle.Admit`): 404 `namespaces "x" not found` when the namespace does not exist, 403 with
 * a NamespaceTerminating cause while it is Terminating. `metadata` is the object's: the 403
 * names it by name, else generateName, else `Unknown` (admission/errors.go extractResourceName).
 */
function requireNamespace(ctx: RequestContext, deps: RestDeps, metadata: Obj): void {
  if (!ctx.def.namespaced || ctx.namespace === undefined) return;
  const ns = deps.store.get('namespaces', undefined, ctx.namespace);
  if (!ns) throw notFound('namespaces', '', ctx.namespace);
  if (!isTerminating(ns)) return;
  const name = [metadata.name, metadata.generateName].find((v): v is string => typeof v === 'string' && v !== '') ?? 'Unknown';
  throw namespaceTerminating(ctx.def.resource, ctx.def.group, ctx.namespace, name);
}

// ------------------------------------------------------------------ read

export function list(ctx: RequestContext, deps: RestDeps): void {
  const { def, url } = ctx;
  const fieldMatch = parseFieldSelector(url.searchParams.get('fieldSelector'), def.fields);
  const labelMatch = parseLabelSelector(url.searchParams.get('labelSelector'));
  const limit = Number(url.searchParams.get('limit') ?? '0');
  validateListOptions(url.searchParams, false);
  const version = { resourceVersion: url.searchParams.get('resourceVersion') ?? '', match: url.searchParams.get('resourceVersionMatch') ?? '', cached: def.storeKey !== 'events' };
  const { items: page, metadata: listMeta } = listPage(deps.store, def.storeKey, ctx.namespace, (o) => fieldMatch(o) && labelMatch(o), limit, url.searchParams.get('continue'), version);
  if (ctx.table) {
    sendJson(ctx.res, 200, { ...toTable(def, page, deps.store.now(), true), metadata: listMeta }, 'application/json;as=Table;v=v1;g=meta.k8s.io');
    return;
  }
  const head = JSON.stringify({ apiVersion: apiVersionOf(def), kind: `${def.kind}List`, metadata: listMeta }).slice(0, -1);
  sendJsonText(ctx.res, 200, `${head},"items":[${page.map((o) => typedJson(def, o)).join(',')}]}`);
}

function existing(ctx: RequestContext, deps: RestDeps): KubeObject {
  const found = deps.store.get(ctx.def.storeKey, ctx.namespace, ctx.name ?? '');
  if (!found) throw notFound(ctx.def.resource, ctx.def.group, ctx.name ?? '');
  return found;
}

export function get(ctx: RequestContext, deps: RestDeps): void {
  const object = existing(ctx, deps);
  if (ctx.table) {
    sendJson(ctx.res, 200, toTable(ctx.def, [object], deps.store.now(), true), 'application/json;as=Table;v=v1;g=meta.k8s.io');
    return;
  }
  sendJsonText(ctx.res, 200, typedJson(ctx.def, object));
}

// ------------------------------------------------------------------ write

function dryRun(ctx: RequestContext): boolean {
  const value = ctx.url.searchParams.get('dryRun');
  if (value === null || value === '') return false;
  if (value !== 'All') throw badRequest(`dryRun: Unsupported value: "${value}": supported values: "All"`);
  return true;
}

const generateChars = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * `onUpdate`: a PUT that creates (the strategy allows create-on-update). kube-apiserver then
 * also asks the authorizer for `create` on the object, after validation, as the create
 * admission step (apiserver endpoints/handlers/update.go `withAuthorization`).
 */
function createObject(ctx: RequestContext, deps: RestDeps, received: Obj, status = 201, onUpdate = false): void {
  const { def } = ctx;
  const strategy = strategyOf(def);
  checkKind(ctx, received);
  const body = def.convert ? def.convert.toStorage(received) : received;
  requireNamespace(ctx, deps, meta(body));
  const metadata = { ...meta(body) };
  if (metadata.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
  if (def.namespaced) {
    if (metadata.namespace !== undefined && metadata.namespace !== ctx.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    metadata.namespace = ctx.namespace;
  } else {
    delete metadata.namespace;
  }
  if (!metadata.name && typeof metadata.generateName === 'string' && metadata.generateName !== '') {
    for (let attempt = 0; attempt < 8 && !metadata.name; attempt++) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += generateChars[Math.floor(Math.random() * generateChars.length)];
      const candidate = `${metadata.generateName.slice(0, 58)}${suffix}`;
      if (!deps.store.get(def.storeKey, ctx.namespace, candidate)) metadata.name = candidate;
    }
  }
  // NodeRestriction is a mutating admission plugin: it runs before the registry's PrepareForCreate and validation.
  if (isPcr(def)) {
    const refused = admitPodCertificateRequest(deps.store, ctx.user, 'CREATE', '', ctx.namespace ?? '', undefined, { ...body, metadata });
    if (refused) throw refused;
  }
  const prepared = strategy.prepareCreate({ ...body, metadata }, ctx.user);
  const name = (meta(prepared).name as string | undefined) ?? '';
  const errors = strategy.validateCreate(prepared);
  if (!name && !errors.some((e) => e.field === 'metadata.name')) errors.unshift({ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' });
  if (errors.length > 0) throw invalid(def.kind, def.group, name, errors);
  if (onUpdate) {
    const attrs = { verb: 'create', apiGroup: def.group, resource: def.resource, name, ...(ctx.namespace === undefined ? {} : { namespace: ctx.namespace }) };
    const decision = deps.authorizer.authorize(ctx.user, attrs);
    if (!decision.allowed) throw forbiddenError(ctx.user, attrs, decision.reason);
  }
  const denied = strategy.admitCreate(prepared) ?? strategy.admitWrite?.(prepared, undefined, ctx.user, deps.authorizer);
  if (denied) throw denied;
  if (deps.store.get(def.storeKey, ctx.namespace, name)) throw alreadyExists(def.resource, def.group, name);
  if (dryRun(ctx)) {
    sendJson(ctx.res, status, withType(def, prepared as KubeObject));
    return;
  }
  sendJsonText(ctx.res, status, typedJson(def, deps.store.create(def.storeKey, withoutType(prepared))));
}

export async function create(ctx: RequestContext, deps: RestDeps): Promise<void> {
  const body = decodeTyped(ctx, (await readTree(ctx.req, ctx.def.kind)).tree, 'CreateOptions');
  if (ctx.def.resource === 'certificatesigningrequests') await warmRequestVerdict((body.spec as Obj | undefined)?.request, deps.verifyRequest);
  createObject(ctx, deps, body);
}

function conditionTypes(o: Obj): Set<string> {
  const conditions = ((o.status as Obj | undefined)?.conditions as { type?: string }[] | undefined) ?? [];
  return new Set(conditions.map((c) => c.type ?? ''));
}

/** The CertificateSigning and CertificateApproval admission plugins, and the audit of certificate writes. */
function admitCsrUpdate(ctx: RequestContext, deps: RestDeps, old: KubeObject, next: Obj): void {
  if (ctx.def.resource !== 'certificatesigningrequests') return;
  const signerName = String(((old.spec as Obj | undefined)?.signerName as string | undefined) ?? '');
  const oldStatus = (old.status ?? {}) as Obj;
  const newStatus = (next.status ?? {}) as Obj;
  if (ctx.subresource === 'status') {
    const changed = JSON.stringify(oldStatus.certificate ?? '') !== JSON.stringify(newStatus.certificate ?? '')
      || JSON.stringify(oldStatus.conditions ?? []) !== JSON.stringify(newStatus.conditions ?? []);
    if (changed && !isAuthorizedForSignerName(deps.authorizer, ctx.user, 'sign', signerName)) throw signerNotPermitted(old.metadata.name, 'sign', signerName);
  }
  if (ctx.subresource === 'approval' && !isAuthorizedForSignerName(deps.authorizer, ctx.user, 'approve', signerName)) {
    throw signerNotPermitted(old.metadata.name, 'approve', signerName);
  }
}

function recordCertificateWrite(ctx: RequestContext, deps: RestDeps, old: KubeObject, stored: KubeObject, attempted: unknown): void {
  if (ctx.def.resource !== 'certificatesigningrequests' || ctx.subresource !== 'status') return;
  const before = ((old.status as Obj | undefined)?.certificate as string | undefined) ?? '';
  const after = ((stored.status as Obj | undefined)?.certificate as string | undefined) ?? '';
  const replaced = before !== '' && typeof attempted === 'string' && attempted !== before;
  if ((before === '' && after !== '') || replaced) {
    const types = conditionTypes(old);
    deps.audit.push({
      csr: stored.metadata.name, uid: stored.metadata.uid, signerName: String(((stored.spec as Obj | undefined)?.signerName as string | undefined) ?? ''),
      user: ctx.user.name, resourceVersion: stored.metadata.resourceVersion, time: new Date().toISOString(),
      approved: types.has('Approved'), denied: types.has('Denied'), failed: types.has('Failed'), replaced,
    });
  }
}

/**
 * The PodCertificateRequest status strategy's `sign` check (podcertificaterequest/strategy.go
 * `statusStrategy.ValidateUpdate`, after the status validation passed): a write that changes the status
 * needs `sign` on the signer's name, or on `<domain>/*` (certauthorization.IsAuthorizedForSignerName);
 * refused as a 422 field error, not a 403. A write that changes nothing is not checked.
 */
function checkPcrSign(ctx: RequestContext, deps: RestDeps, old: KubeObject, next: Obj): void {
  if (!isPcr(ctx.def) || ctx.subresource !== 'status' || !pcrStatusChanged(old, next)) return;
  const signerName = String(((old.spec as Obj | undefined)?.signerName as string | undefined) ?? '');
  if (isAuthorizedForSignerName(deps.authorizer, ctx.user, 'sign', signerName)) return;
  throw invalid(ctx.def.kind, ctx.def.group, old.metadata.name, [
    { type: 'FieldValueForbidden', field: 'spec.signerName', detail: `User ${quote(ctx.user.name)} is not permitted to "sign" for signer ${quote(signerName)}` },
  ]);
}

function recordPcrStatusWrite(ctx: RequestContext, deps: RestDeps, old: KubeObject, stored: KubeObject): void {
  if (!isPcr(ctx.def) || ctx.subresource !== 'status' || !pcrStatusChanged(old, stored)) return;
  deps.pcrStatusWrites.push({
    namespace: stored.metadata.namespace ?? '', name: stored.metadata.name, uid: stored.metadata.uid, user: ctx.user.name,
    conditionType: pcrTerminalCondition(stored), resourceVersion: stored.metadata.resourceVersion, time: new Date().toISOString(),
  });
}

/** PUT semantics for a full incoming object (also the end of every PATCH). */
function updateObject(ctx: RequestContext, deps: RestDeps, received: Obj, createIfMissing: boolean): void {
  const { def } = ctx;
  const strategy = strategyOf(def);
  checkKind(ctx, received);
  const incoming = def.convert ? { ...def.convert.toStorage(received), metadata: received.metadata } : received;
  const name = ctx.name ?? '';
  const incomingMeta = meta(incoming);
  if (incomingMeta.name !== undefined && incomingMeta.name !== name) {
    throw badRequest(`the name of the object (${text(incomingMeta.name)}) does not match the name on the URL (${name})`);
  }
  const old = deps.store.get(def.storeKey, ctx.namespace, name);
  if (!old) {
    if (createIfMissing && ctx.subresource === '') {
      createObject(ctx, deps, { ...received, metadata: { ...incomingMeta, name, resourceVersion: undefined } }, 201, true);
      return;
    }
    throw notFound(def.resource, def.group, name);
  }
  const rv = incomingMeta.resourceVersion as string | undefined;
  if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw conflict(def.resource, def.group, name);
  if ((rv === undefined || rv === '') && !strategy.allowUnconditionalUpdate) {
    throw invalid(def.kind, def.group, name, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', value: '0x0', detail: 'must be specified for an update' }]);
  }
  if (incomingMeta.uid !== undefined && incomingMeta.uid !== '' && incomingMeta.uid !== old.metadata.uid) {
    throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(def.resource, def.group)} "${name}": Precondition failed: UID in precondition: ${text(incomingMeta.uid)}, UID in object meta: ${old.metadata.uid}`);
  }
  if (isPcr(def)) {
    const refused = admitPodCertificateRequest(deps.store, ctx.user, 'UPDATE', ctx.subresource, ctx.namespace ?? '', name, incoming);
    if (refused) throw refused;
  }
  const { object, errors } = strategy.prepareUpdate(old, incoming, ctx.subresource, deps.store.now());
  if (errors.length > 0) throw invalid(def.kind, def.group, name, errors);
  admitCsrUpdate(ctx, deps, old, object);
  checkPcrSign(ctx, deps, old, object);
  const denied = strategy.admitWrite?.(object, old, ctx.user, deps.authorizer);
  if (denied) throw denied;
  if (dryRun(ctx)) {
    sendJson(ctx.res, 200, withType(def, object as KubeObject));
    return;
  }
  // An update that changes nothing stores nothing: `replace` hands back the stored object unchanged.
  const rest = ignoreManagedFieldsTimestamps(withoutType(object), old);
  const stored = deps.store.replace(def.storeKey, { ...rest, metadata: { ...meta(rest), resourceVersion: old.metadata.resourceVersion } } as KubeObject);
  recordCertificateWrite(ctx, deps, old, stored, ((incoming.status as Obj | undefined)?.certificate));
  recordPcrStatusWrite(ctx, deps, old, stored);
  sendJsonText(ctx.res, 200, typedJson(def, stored));
}

export async function update(ctx: RequestContext, deps: RestDeps): Promise<void> {
  if (ctx.def.resource === 'certificatesigningrequests' && ctx.subresource === 'approval') return updateApproval(ctx, deps);
  const body = decodeTyped(ctx, (await readTree(ctx.req, ctx.def.kind)).tree, 'UpdateOptions');
  updateObject(ctx, deps, body, strategyOf(ctx.def).allowCreateOnUpdate);
}

/** A PUT to /approval, recorded in `approvalWrites` whatever its answer. */
async function updateApproval(ctx: RequestContext, deps: RestDeps): Promise<void> {
  let body: Obj | undefined;
  let before = new Set<string>();
  const record = (status: number, added: readonly string[], refusal?: ApiError): void => {
    const sent = body === undefined ? undefined : meta(body).resourceVersion;
    deps.approvalWrites.push({
      csr: ctx.name ?? '', user: ctx.user.name, resourceVersion: typeof sent === 'string' && sent !== '' ? sent : undefined,
      time: new Date().toISOString(), status, accepted: status < 300, added,
      attempted: body === undefined ? [] : [...conditionTypes(body)].filter((type) => !before.has(type)),
      ...(refusal ? { reason: refusal.reason, message: refusal.message } : {}),
      ...(status < 300 && dryRun(ctx) ? { dryRun: true as const } : {}),
    });
  };
  try {
    body = decodeTyped(ctx, (await readTree(ctx.req, ctx.def.kind)).tree, 'UpdateOptions');
    // From here on nothing awaits: the object read is the one the update replaces.
    const old = deps.store.get(ctx.def.storeKey, ctx.namespace, ctx.name ?? '');
    before = old ? conditionTypes(old) : new Set();
    updateObject(ctx, deps, body, false);
    const stored = deps.store.get(ctx.def.storeKey, ctx.namespace, ctx.name ?? '');
    record(200, dryRun(ctx) || !stored ? [] : [...conditionTypes(stored)].filter((type) => !before.has(type)));
  } catch (e) {
    const error = e instanceof ApiError ? e : undefined;
    record(error?.code ?? 500, [], error);
    throw e;
  }
}

export async function patch(ctx: RequestContext, deps: RestDeps): Promise<void> {
  const type = mediaType(ctx.req.headers['content-type']);
  const body = await readBody(ctx.req);
  const current = deps.store.get(ctx.def.storeKey, ctx.namespace, ctx.name ?? '');
  const base: Obj = current ? withType(ctx.def, current) : {};
  let doc: unknown;
  let result: unknown;
  switch (type) {
    case 'application/json-patch+json':
      if (!current) throw notFound(ctx.def.resource, ctx.def.group, ctx.name ?? '');
      result = applyJsonPatch(base, (doc = parseJson(body, 'patch')));
      break;
    case 'application/merge-patch+json':
    case 'application/strategic-merge-patch+json': {
      if (!current) throw notFound(ctx.def.resource, ctx.def.group, ctx.name ?? '');
      const lists = type === 'application/strategic-merge-patch+json' ? strategyOf(ctx.def).strategicMerge : undefined;
      doc = parseJson(body, 'patch');
      result = lists ? applyStrategicMergePatch(base, doc, lists) : applyMergePatch(base, doc);
      break;
    }
    case 'application/apply-patch+yaml': {
      if (!ctx.url.searchParams.get('fieldManager')) {
        throw invalid('PatchOptions', 'meta.k8s.io', '', [{ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' }]);
      }
      result = applyMergePatch(base, (doc = parseYamlBody(body)));
      if (!current) {
        createObject(ctx, deps, decodeTyped(ctx, valueTree(result), 'PatchOptions'), 201);
        return;
      }
      break;
    }
    default:
      throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json');
  }
  if (!result || typeof result !== 'object' || Array.isArray(result)) throw badRequest('the patch did not produce an object');
  const patched = decodeTyped(ctx, valueTree(result), 'PatchOptions');
  // A patch is conditional only when it names a resourceVersion itself.
  const docMeta = doc && typeof doc === 'object' && !Array.isArray(doc) ? meta(doc as Obj) : {};
  const patchMeta = meta(patched);
  const resourceVersion = docMeta.resourceVersion !== undefined ? patchMeta.resourceVersion : current?.metadata.resourceVersion;
  updateObject(ctx, deps, { ...patched, metadata: { ...patchMeta, resourceVersion } }, false);
}

/**
 * DeleteOptions.preconditions (uid, resourceVersion), checked against the stored
 * object as the apiserver's storage does (apiserver pkg/storage/interfaces.go
 * Preconditions.Check), answered 409 Conflict as registry/generic/registry
 * InterpretDeleteError turns the storage error into. Read from a JSON body only: a
 * body in another encoding (or none) carries no preconditions here.
 */
interface Preconditions { readonly uid?: unknown; readonly resourceVersion?: unknown }

async function readDeletePreconditions(ctx: RequestContext): Promise<Preconditions | undefined> {
  const body = await readBody(ctx.req);
  if (body.length === 0 || mediaType(ctx.req.headers['content-type']) !== 'application/json') return undefined;
  const preconditions = (parseJson(body) as { preconditions?: Preconditions } | null)?.preconditions;
  return preconditions && typeof preconditions === 'object' ? preconditions : undefined;
}

function checkDeletePreconditions(ctx: RequestContext, object: KubeObject, preconditions: Preconditions | undefined): void {
  if (!preconditions) return;
  const failed = (what: string, wanted: unknown, have: string | undefined): ApiError => new ApiError(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(ctx.def.resource, ctx.def.group)} "${object.metadata.name}": StorageError: invalid object, Code: 4, `
    + `Key: /registry/${ctx.def.resource}/${ctx.namespace === undefined ? '' : `${ctx.namespace}/`}${object.metadata.name}, ResourceVersion: 0, `
    + `AdditionalErrorMsg: Precondition failed: ${what} in precondition: ${text(wanted)}, ${what} in object meta: ${have ?? ''}`);
  if (typeof preconditions.uid === 'string' && preconditions.uid !== object.metadata.uid) throw failed('UID', preconditions.uid, object.metadata.uid);
  if (typeof preconditions.resourceVersion === 'string' && preconditions.resourceVersion !== object.metadata.resourceVersion) {
    throw failed('ResourceVersion', preconditions.resourceVersion, object.metadata.resourceVersion);
  }
}

export async function remove(ctx: RequestContext, deps: RestDeps): Promise<void> {
  const preconditions = await readDeletePreconditions(ctx);
  const object = existing(ctx, deps);
  checkDeletePreconditions(ctx, object, preconditions);
  const denied = strategyOf(ctx.def).admitDelete?.(object, ctx.user)
    ?? (isPcr(ctx.def) ? admitPodCertificateRequest(deps.store, ctx.user, 'DELETE', '', ctx.namespace ?? '', object.metadata.name, object) : undefined);
  if (denied) throw denied;
  const isNamespace = ctx.def.resource === 'namespaces';
  if (isNamespace) checkNamespaceDeletable(object.metadata.name);
  if (dryRun(ctx)) {
    sendJson(ctx.res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: object.metadata.name, group: ctx.def.group, kind: ctx.def.resource, uid: object.metadata.uid } });
    return;
  }
  // A namespace is not deleted at once: it turns Terminating, and the answer is the namespace itself
  // (pkg/registry/core/namespace/storage/storage.go REST.Delete), its contents and it go later.
  if (isNamespace) {
    sendJson(ctx.res, 200, withType(ctx.def, deps.namespaces.begin(object)));
    return;
  }
  deps.store.delete(ctx.def.storeKey, ctx.namespace, object.metadata.name);
  sendJson(ctx.res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: object.metadata.name, group: ctx.def.group, kind: ctx.def.resource, uid: object.metadata.uid } });
}

export function removeCollection(ctx: RequestContext, deps: RestDeps): void {
  const fieldMatch = parseFieldSelector(ctx.url.searchParams.get('fieldSelector'), ctx.def.fields);
  const labelMatch = parseLabelSelector(ctx.url.searchParams.get('labelSelector'));
  const doomed = deps.store.list(ctx.def.storeKey, ctx.namespace).filter((o) => fieldMatch(o) && labelMatch(o));
  // Upstream each item's delete passes admission (NodeRestriction); here one refusal stops the whole collection first.
  const strategy = strategyOf(ctx.def);
  for (const o of doomed) {
    const denied = strategy.admitDelete?.(o, ctx.user)
      ?? (isPcr(ctx.def) ? admitPodCertificateRequest(deps.store, ctx.user, 'DELETE', '', o.metadata.namespace ?? '', o.metadata.name, o) : undefined);
    if (denied) throw denied;
  }
  const deleted = dryRun(ctx) ? doomed : doomed.map((o) => deps.store.delete(ctx.def.storeKey, o.metadata.namespace, o.metadata.name) ?? o);
  sendJson(ctx.res, 200, { apiVersion: apiVersionOf(ctx.def), kind: `${ctx.def.kind}List`, metadata: { resourceVersion: String(deps.store.resourceVersion) }, items: deleted.map((o) => withType(ctx.def, o)) });
}
