/**
 * devapi: the slice of the Kubernetes API the signer and its users touch, over
 * HTTPS on loopback, faithful enough for the real kubectl and client-node.
 * The signer never imports this module.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPolicy } from '../auth/default-policy.js';
import {
  aggregatedDiscovery, AGGREGATED_CONTENT_TYPE, legacyApiVersions, legacyGroupList, legacyResourceList, openApiGroupVersion, openApiRoot, versionInfo, wantsAggregated,
} from './discovery.js';
import { Faults, type FaultRule } from './faults.js';
import { holdReply, parseJson, readBody, sendError, sendJson, wantsTable } from './request-response.js';
import { identities, kubeconfig, kubeconfigFor, servingMaterial, type Identity, type KubeconfigUser } from '../auth/identity.js';
import { Authenticator, BOOTSTRAP_TOKEN_PATTERN } from '../auth/authentication.js';
import { Authorizer, forbiddenError, type RbacObject, type RequestAttributes, type UserInfo } from '../auth/rbac.js';
import { clientCertificate } from './client-certificate.js';
import { certificateError } from '../go/x509-certificate.js';
import { builtWorkerUrl, RequestVerifier } from '../go/request-verifier.js';
import { NAME_LABEL } from '../resources/namespaces.js';
import { NamespaceTermination } from '../resources/namespace-termination.js';
import {
  findResource, podCertificateVersionsOf, servedResources, type ClusterTrustBundleVersion, type PodCertificateVersion, type ResourceDef,
} from '../api/resource-definitions.js';
import { nodeAuthorizesPodCertificateRequest } from '../resources/pod-certificate-admission.js';
import * as rest from './rest.js';
import { review } from '../auth/access-reviews.js';
import { ApiError, unknownPath } from '../api/errors.js';
import { Store } from '../storage/store.js';
import type { Subresource } from '../resources/strategies.js';
import { realTimers, watch, WatchRegistry, type WatchTimers } from './watch.js';

export { clusterTrustBundleVersions, podCertificateVersions, type ClusterTrustBundleVersion, type PodCertificateVersion } from '../api/resource-definitions.js';
export { BOOTSTRAP_TOKEN_PATTERN } from '../auth/authentication.js';

export interface DevApiOptions {
  readonly stateDir: string;
  /**
   * How devapi reads its state and identity files: the commands pass the product's bounded
   * reader (src/files.ts readBoundedText), so an oversized or endless file fails at once.
   * devapi takes it as a parameter because it may use src/ only through src/pki/index.ts.
   */
  readonly readText: (file: string, kind: 'devapiState' | 'devapiIdentity') => string;
  readonly port?: number;
  readonly host?: string;
  /** The minor version /version reports: it picks the kubectl the dispatcher runs. */
  readonly minorVersion?: number;
  /** Signer names the signer identity may sign for (default example.com/* and kubernetes.io/*). */
  readonly signerNames?: readonly string[];
  /** The signer identity also gets the approver's rules (src/kube/rbac.ts; `nodes: false`: without reading Nodes). */
  readonly signerApproves?: boolean | { readonly nodes: boolean };
  /** The signer identity also gets the CSR cleaner's rules (src/kube/rbac.ts). */
  readonly signerCleans?: boolean;
  /** Extra RBAC objects (YAML text), applied over the default policy. */
  readonly policyYaml?: string;
  readonly historySize?: number;
  /**
   * How long a deleted namespace stays Terminating before its contents and it are deleted
   * (default 2 s); 0 ends it within the DELETE.
   */
  readonly namespaceTerminationSeconds?: number;
  /** How often a watch that asked for bookmarks is offered one (default 60 s, upstream's). */
  readonly bookmarkIntervalMs?: number;
  /** false: send no bookmarks at all, as the API allows (default true). */
  readonly watchBookmarks?: boolean;
  /**
   * How often every resource's watch cache learns the current resourceVersion, as etcd's progress
   * notifications tell kube-apiserver's (default 10 minutes, etcd's); 0: never.
   */
  readonly progressNotifyIntervalMs?: number;
  readonly watchTimeoutSeconds?: number;
  /** The clock watch timeouts, bookmarks and progress notifications run on (default the real one). */
  readonly timers?: WatchTimers;
  /**
   * The certificates.k8s.io versions that serve ClusterTrustBundles (default both, v1 and v1beta1, over one
   * store, as kube-apiserver 1.37 with the beta API turned on); `[]` serves neither.
   */
  readonly clusterTrustBundleVersions?: readonly ClusterTrustBundleVersion[];
  /** false: serve no ClusterTrustBundles (the older spelling of `clusterTrustBundleVersions: []`). */
  readonly clusterTrustBundles?: boolean;
  /**
   * The certificates.k8s.io versions that serve PodCertificateRequests (one store). Default: what
   * `minorVersion` serves with the feature turned on (none before 35; 35 v1beta1 without stubPKCS10Request;
   * 36 v1beta1; 37 and later v1 and v1beta1). Given, the API has stubPKCS10Request unless the minor is 35.
   */
  readonly podCertificateVersions?: readonly PodCertificateVersion[];
  readonly log?: (line: string) => void;
  /**
   * Bootstrap tokens (`abcdef.0123456789abcdef`): each authenticates as `system:bootstrap:<id>` in
   * `system:bootstrappers`, and gets a kubeconfig `bootstrap-<id>.kubeconfig` in the state directory.
   */
  readonly bootstrapTokens?: readonly string[];
  /**
   * A PEM bundle of CAs (kube-apiserver's `--client-ca-file`): a client certificate that verifies against
   * it authenticates as its subject CN in groups of its O values. Without it no certificate is asked for.
   */
  readonly clientCaPem?: string;
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'csr-signer'];

export class DevApi {
  readonly store: Store;
  readonly faults = new Faults();
  readonly watches = new WatchRegistry();
  readonly audit: rest.CertificateWrite[] = [];
  readonly approvalWrites: rest.ApprovalWrite[] = [];
  readonly pcrStatusWrites: rest.PcrStatusWrite[] = [];
  readonly authorizer: Authorizer;
  readonly namespaces: NamespaceTermination;
  #server: Server | undefined;
  readonly #verifier = new RequestVerifier(builtWorkerUrl);
  readonly #tokens = new Map<string, UserInfo>();
  readonly #authenticator: Authenticator;
  readonly #timers: WatchTimers;
  #progressTimer: unknown;
  #identities: Record<string, Identity> = {};
  #caPem = '';
  readonly #served: readonly ResourceDef[];
  url = '';

  constructor(private readonly options: DevApiOptions) {
    // Objects, tokens and the serving key live here: the owner's only, also when the
    // directory existed with a looser mode (mkdir's mode applies only to a new one).
    mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
    chmodSync(options.stateDir, 0o700);
    this.store = new Store({ stateFile: join(options.stateDir, 'state.json'), readText: options.readText, historySize: options.historySize ?? 10_000 });
    const minor = options.minorVersion ?? 32;
    const byMinor = podCertificateVersionsOf(minor);
    const pcrVersions = options.podCertificateVersions ?? byMinor.versions;
    const policy: RbacObject[] = defaultPolicy({
      podCertificates: pcrVersions.length > 0,
      ...(options.signerNames ? { signerNames: options.signerNames } : {}),
      ...(options.signerApproves === undefined ? {} : { signerApproves: options.signerApproves }),
      ...(options.signerCleans === undefined ? {} : { signerCleans: options.signerCleans }),
    });
    const extra = options.policyYaml ? Authorizer.fromYaml(options.policyYaml, { bootstrap: false }).objects : [];
    this.authorizer = new Authorizer([...policy, ...extra]);
    this.#authenticator = new Authenticator({ tokens: this.#tokens, bootstrapTokens: options.bootstrapTokens ?? [] });
    if (options.clientCaPem !== undefined) {
      const problem = certificateError(new TextEncoder().encode(options.clientCaPem));
      if (problem !== undefined) throw new Error(`the client CA bundle is not usable: ${problem}`);
    }
    const versions = options.clusterTrustBundles === false ? [] : options.clusterTrustBundleVersions;
    this.#served = servedResources({
      ...(versions === undefined ? {} : { clusterTrustBundleVersions: versions }),
      podCertificateVersions: pcrVersions, podCertificateStub: options.podCertificateVersions === undefined ? byMinor.stub : minor !== 35,
    });
    for (const ns of DEFAULT_NAMESPACES) {
      if (!this.store.get('namespaces', undefined, ns)) {
        this.store.create('namespaces', { metadata: { name: ns, labels: { [NAME_LABEL]: ns } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
      }
    }
    this.namespaces = new NamespaceTermination(this.store, (options.namespaceTerminationSeconds ?? 2) * 1000);
    this.namespaces.resume();
    this.#timers = options.timers ?? realTimers;
  }

  /** Starts listening; writes admin.kubeconfig, signer.kubeconfig (and approver/requester) into the state directory. */
  async start(): Promise<string> {
    const tls = await servingMaterial(this.options.stateDir, this.options.readText);
    this.#identities = identities(this.options.stateDir, this.options.readText);
    for (const identity of Object.values(this.#identities)) {
      this.#tokens.set(identity.token, identity.user);
    }
    // Asked for, not required (kube-apiserver's --client-ca-file): verified here, judged per request.
    const clientCa = this.options.clientCaPem === undefined ? {} : { ca: this.options.clientCaPem, requestCert: true, rejectUnauthorized: false };
    const server = createServer({ cert: tls.certPem, key: tls.keyPem, ...clientCa }, (req, res) => {
      void this.#handle(req, res);
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.#notifyProgressEvery(this.options.progressNotifyIntervalMs ?? 600_000);
    const { port } = server.address() as AddressInfo;
    this.url = `https://127.0.0.1:${port}`;
    for (const [id, identity] of Object.entries(this.#identities)) {
      const file = join(this.options.stateDir, `${id}.kubeconfig`);
      writeFileSync(file, kubeconfig(this.url, tls.caPem, id, identity), { mode: 0o600 });
      chmodSync(file, 0o600);
    }
    this.#caPem = tls.caPem;
    for (const token of this.options.bootstrapTokens ?? []) {
      const id = BOOTSTRAP_TOKEN_PATTERN.exec(token)?.[1] ?? '';
      this.writeKubeconfig(this.bootstrapKubeconfigPath(id), `bootstrap-${id}`, { token });
    }
    return this.url;
  }

  /** The kubeconfig written at start for the bootstrap token with this id. */
  bootstrapKubeconfigPath(id: string): string {
    return join(this.options.stateDir, `bootstrap-${id}.kubeconfig`);
  }

  /** Writes (0600) a kubeconfig for any token or client certificate against this devapi, once started. */
  writeKubeconfig(file: string, name: string, user: KubeconfigUser): string {
    writeFileSync(file, kubeconfigFor(this.url, this.#caPem, name, user), { mode: 0o600 });
    chmodSync(file, 0o600);
    return file;
  }

  #notifyProgressEvery(ms: number): void {
    if (ms <= 0) return;
    this.#progressTimer = this.#timers.setTimeout(() => {
      this.store.notifyProgress();
      this.#notifyProgressEvery(ms);
    }, ms);
    if (this.#timers === realTimers) (this.#progressTimer as NodeJS.Timeout).unref();
  }

  kubeconfigPath(id: 'admin' | 'signer' | 'approver' | 'requester'): string {
    return join(this.options.stateDir, `${id}.kubeconfig`);
  }

  /** Stops listening, ends every watch and writes the state file. */
  async stop(): Promise<void> {
    const server = this.#server;
    // Stop accepting first: a connection accepted while we wait below (or still in its TLS
    // handshake, which the HTTP server does not track yet) would keep close() waiting forever.
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    this.watches.closeAll('clean');
    this.namespaces.stop();
    this.#timers.clearTimeout(this.#progressTimer);
    // Creates waiting on a verdict get it (computed here) and finish before the state is written.
    await this.#verifier.close();
    this.store.flush();
    if (!server) return;
    server.closeAllConnections();
    // A handshake that completes after the sweep becomes a keep-alive connection: sweep until closed.
    const sweep = setInterval(() => server.closeAllConnections(), 100);
    await closed;
    clearInterval(sweep);
  }

  #authenticate(req: IncomingMessage): UserInfo {
    return this.#authenticator.authenticate(clientCertificate(req), req.headers.authorization);
  }

  #authorize(user: UserInfo, attrs: RequestAttributes): void {
    if (!this.authorizer.authorize(user, attrs).allowed) throw forbiddenError(user, attrs);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://devapi');
    const method = req.method ?? 'GET';
    const started = Date.now();
    try {
      const user = this.#authenticate(req);
      if (url.pathname.startsWith('/devapi/')) {
        await this.#control(req, res, url, user);
        return;
      }
      if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      const fault = this.faults.take(method, url.pathname);
      if (fault) {
        this.#recordInjectedApproval(method, url.pathname, user, fault);
        throw fault;
      }
      const serve = async (): Promise<void> => {
        if (!this.#nonResource(req, res, url, user)) await this.#resource(req, res, url, user);
      };
      const afterWrite = this.faults.afterWrite(method, url.pathname);
      if (!afterWrite) return await serve();
      // A write whose answer is lost although it is stored (faults.ts): only a write that succeeded counts.
      const held = await holdReply(res, serve);
      const lost = held.status !== undefined && held.status >= 200 && held.status < 300 ? this.faults.loseReply(afterWrite) : undefined;
      if (!lost) held.release();
      else if (lost.drop) res.socket?.destroy();
      else sendError(res, lost.error);
    } catch (e) {
      if (res.headersSent) {
        res.end();
      } else if (e instanceof ApiError) {
        sendError(res, e);
      } else {
        this.options.log?.(`devapi: internal error on ${method} ${url.pathname}: ${(e as Error).stack ?? String(e)}`);
        sendError(res, new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`));
      }
    } finally {
      // Warnings (unknown fields a client sent) are logged with the request, so a test can see them.
      const warning = res.getHeader('Warning');
      const warned = warning === undefined ? '' : ` warning: ${Array.isArray(warning) ? warning.join(', ') : String(warning)}`;
      this.options.log?.(`${method} ${url.pathname}${url.search} ${res.statusCode} ${Date.now() - started}ms${warned}`);
    }
  }

  /** A PUT to a CSR's /approval that a fault rule answered before it was handled: refused, nothing stored. */
  #recordInjectedApproval(method: string, path: string, user: UserInfo, fault: ApiError): void {
    const approval = /^\/apis\/certificates\.k8s\.io\/v1\/certificatesigningrequests\/([^/]+)\/approval\/?$/.exec(path);
    if (method === 'PUT' && approval) this.#recordRefusedApproval(decodeURIComponent(approval[1] ?? ''), user, fault, true);
  }

  /** A PUT to /approval refused before its body was read (a fault rule, or RBAC): no version, nothing stored. */
  #recordRefusedApproval(csr: string, user: UserInfo, error: ApiError, injected = false): void {
    this.approvalWrites.push({
      csr, user: user.name, resourceVersion: undefined, time: new Date().toISOString(),
      status: error.code, accepted: false, added: [], attempted: [], reason: error.reason, message: error.message, ...(injected ? { injected: true as const } : {}),
    });
  }

  /** Discovery, OpenAPI, version and health. Returns false when the path is a resource path. */
  #nonResource(req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo): boolean {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const isResourcePath = /^\/api\/v1\/.+/.test(path) || /^\/apis\/[^/]+\/[^/]+\/.+/.test(path);
    if (isResourcePath) return false;
    if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `${req.method ?? ''} is not supported on ${path}`);
    this.#authorize(user, { verb: 'get', path });
    const accept = req.headers.accept;
    if (path === '/version') return sendJson(res, 200, versionInfo(this.options.minorVersion ?? 32)), true;
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return true;
    }
    if (path === '/api' || path === '/apis') {
      if (wantsAggregated(accept)) sendJson(res, 200, aggregatedDiscovery(path === '/api', this.#served), AGGREGATED_CONTENT_TYPE);
      else sendJson(res, 200, path === '/api' ? legacyApiVersions() : legacyGroupList(this.#served));
      return true;
    }
    const gv = /^\/api\/(v1)$|^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (gv) {
      const list = gv[1] ? legacyResourceList('', 'v1', this.#served) : legacyResourceList(gv[2] ?? '', gv[3] ?? '', this.#served);
      if (!list) throw unknownPath();
      sendJson(res, 200, list);
      return true;
    }
    if (path === '/openapi/v3') return sendJson(res, 200, openApiRoot(this.#served)), true;
    const openapi = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (openapi) {
      const doc = openapi[1] ? openApiGroupVersion('', 'v1', this.#served) : openApiGroupVersion(openapi[2] ?? '', openapi[3] ?? '', this.#served);
      if (!doc) throw unknownPath();
      sendJson(res, 200, doc);
      return true;
    }
    throw unknownPath();
  }

  async #resource(req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo): Promise<void> {
    const match = /^\/api\/(v1)\/(.+)$|^\/apis\/([^/]+)\/([^/]+)\/(.+)$/.exec(url.pathname.replace(/\/+$/, ''));
    if (!match) throw unknownPath();
    const group = match[1] ? '' : match[3] ?? '';
    const version = match[1] ?? match[4] ?? '';
    let segments = (match[2] ?? match[5] ?? '').split('/').map(decodeURIComponent);
    let namespace: string | undefined;
    if (segments[0] === 'namespaces' && segments.length >= 3) {
      namespace = segments[1];
      segments = segments.slice(2);
    }
    const [resource = '', name, sub = '', extra] = segments;
    const def: ResourceDef | undefined = findResource(group, version, resource, this.#served);
    if (!def || extra !== undefined || (def.namespaced && namespace === undefined && name !== undefined) || (!def.namespaced && namespace !== undefined)) throw unknownPath();
    if (sub !== '' && !def.subresources.includes(sub)) throw unknownPath();
    const method = req.method ?? 'GET';
    const isWatch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    const verb = name === undefined
      ? ({ GET: isWatch ? 'watch' : 'list', POST: 'create', DELETE: 'deletecollection' } as Record<string, string>)[method]
      : ({ GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method];
    if (!verb || !def.verbs.includes(verb) || (sub !== '' && !['get', 'update', 'patch'].includes(verb))) {
      throw new ApiError(405, 'MethodNotAllowed', `${verb ?? method.toLowerCase()} is not supported on resources of kind "${def.group === '' ? def.resource : `${def.resource}.${def.group}`}"`);
    }
    try {
      const nodeAllowed = def.resource === 'podcertificaterequests'
        && nodeAuthorizesPodCertificateRequest(this.store, user, verb, sub, namespace, name, url.searchParams.get('fieldSelector'));
      if (!nodeAllowed) this.#authorize(user, {
        verb, apiGroup: group, resource, ...(sub ? { subresource: sub } : {}), ...(name !== undefined ? { name } : {}), ...(namespace !== undefined ? { namespace } : {}),
      });
    } catch (e) {
      if (def.resource === 'certificatesigningrequests' && sub === 'approval' && verb === 'update' && e instanceof ApiError) this.#recordRefusedApproval(name ?? '', user, e);
      throw e;
    }
    const ctx: rest.RequestContext = { req, res, url, user, def, namespace, name, subresource: sub as Subresource, table: wantsTable(req.headers.accept) };
    const deps: rest.RestDeps = {
      store: this.store, authorizer: this.authorizer, audit: this.audit, approvalWrites: this.approvalWrites, pcrStatusWrites: this.pcrStatusWrites,
      verifyRequest: (encoded) => this.#verifier.verdict(encoded),
      namespaces: this.namespaces,
    };
    if (def.virtual) {
      sendJson(res, 201, review(def.resource, await rest.readTyped(ctx), this.authorizer, user, new Date()));
      return;
    }
    switch (verb) {
      case 'list': return rest.list(ctx, deps);
      case 'watch': return watch(ctx, deps, this.watches, {
        bookmarks: this.options.watchBookmarks ?? true, bookmarkIntervalMs: this.options.bookmarkIntervalMs ?? 60_000,
        defaultTimeoutSeconds: this.options.watchTimeoutSeconds ?? 300, timers: this.#timers,
      });
      case 'get': return rest.get(ctx, deps);
      case 'create': return rest.create(ctx, deps);
      case 'update': return rest.update(ctx, deps);
      case 'patch': return rest.patch(ctx, deps);
      case 'delete': return rest.remove(ctx, deps);
      default: return rest.removeCollection(ctx, deps);
    }
  }

  /** The admin-only control API for tests (docs/devapi.md). */
  async #control(req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo): Promise<void> {
    if (!user.groups.includes('system:masters')) throw new ApiError(403, 'Forbidden', 'the devapi control API is for the admin identity only');
    const route = `${req.method ?? ''} ${url.pathname}`;
    const body = req.method === 'POST' ? parseJson(await readBody(req)) as Record<string, unknown> : {};
    switch (route) {
      case 'POST /devapi/v1/faults':
        this.faults.add({ ...(body as unknown as FaultRule), count: Number(body.count ?? 1) });
        return sendJson(res, 200, { rules: this.faults.rules });
      case 'DELETE /devapi/v1/faults':
        this.faults.clear();
        return sendJson(res, 200, { rules: [] });
      case 'POST /devapi/v1/latency':
        this.faults.latencyMs = Number(body.ms ?? 0);
        return sendJson(res, 200, { latencyMs: this.faults.latencyMs });
      case 'POST /devapi/v1/watches/close':
        return sendJson(res, 200, { closed: this.watches.closeAll(body.mode === 'reset' ? 'reset' : 'clean') });
      case 'POST /devapi/v1/history/compact':
        this.store.compact();
        return sendJson(res, 200, { compactedThrough: this.store.oldestResumableVersion });
      case 'POST /devapi/v1/progress':
        this.store.notifyProgress();
        return sendJson(res, 200, { resourceVersion: String(this.store.resourceVersion) });
      case 'POST /devapi/v1/namespaces/finish-termination':
        return sendJson(res, 200, { finished: this.namespaces.finishAll() });
      case 'GET /devapi/v1/audit':
        return sendJson(res, 200, { certificateWrites: this.audit, approvalWrites: this.approvalWrites, pcrStatusWrites: this.pcrStatusWrites, faultsInjected: this.faults.injected, openWatches: this.watches.size });
      default:
        throw unknownPath();
    }
  }
}
