/**
 * The health and metrics sidecar: /healthz, /livez, /readyz and /metrics. Built, not
 * started (fastify's Testing guide): tests drive it with `inject`, the composition
 * root passes it to `listen`. It reads only the Snapshot and the Registry, so no
 * route can return key material or CSR contents.
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { contentTypes, negotiateFormat, renderMetrics } from './exposition.js';
import { livenessChecks, readinessChecks, report, type Check, type ReportQuery } from './health.js';
import type { Snapshot } from '../telemetry/snapshot.js';

/**
 * node:http by require, not by an ES import: Node builds an ES namespace from every export,
 * which reads node:http's lazy WebSocket, CloseEvent and MessageEvent and so loads its
 * bundled undici (about 2 MB of the idle signer's heap) that nothing here uses.
 */
const { STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof Http;

export interface AppDeps {
  /** The Registry createMetrics recorded into. */
  readonly registry: Registry;
  /** The running parts' state, assembled at each request. */
  readonly snapshot: () => Snapshot;
  /** Logs errors and non-probe requests; silent when absent. */
  readonly logger?: FastifyBaseLogger | Logger;
  /** The event loop's recent delay in milliseconds; /livez fails above `maxEventLoopLagMs`. */
  readonly eventLoopLagMs?: () => number;
  readonly maxEventLoopLagMs?: number;
}

interface ProbeQuery {
  readonly verbose?: string | string[];
  readonly exclude?: string | string[];
}

const toReportQuery = (query: ProbeQuery): ReportQuery => ({
  verbose: query.verbose !== undefined,
  exclude: query.exclude === undefined ? [] : ([] as string[]).concat(query.exclude),
});

const plain = 'text/plain; charset=utf-8';

/** Headers on every answer: nothing here may be cached, and nothing is to be sniffed as HTML. */
const common = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');

const errorBody = (statusCode: number): { error: string; statusCode: number } => ({ error: STATUS_CODES[statusCode] ?? 'Error', statusCode });

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify(deps.logger ? { loggerInstance: deps.logger } : { logger: false });

  const probe = (kind: 'healthz' | 'livez' | 'readyz', checks: (s: Snapshot) => Check[]) => (query: ProbeQuery, reply: FastifyReply): FastifyReply => {
    const result = report(kind, checks(deps.snapshot()), toReportQuery(query));
    return common(reply).code(result.ok ? 200 : 500).type(plain).send(result.body);
  };
  const live = (s: Snapshot): Check[] => livenessChecks(s, {
    ...(deps.eventLoopLagMs ? { eventLoopLagMs: deps.eventLoopLagMs() } : {}),
    ...(deps.maxEventLoopLagMs === undefined ? {} : { maxEventLoopLagMs: deps.maxEventLoopLagMs }),
  });
  const livez = probe('livez', live);
  const readyz = probe('readyz', readinessChecks);
  // kube-controller-manager's /healthz holds its liveness checks (ping, log, the leader
  // election watchdog), and its manifests probe it for liveness: so does ours. A check
  // a restart cannot cure (a refused Lease, an expired CA) must not be one.
  const healthz = probe('healthz', live);

  // Probes run every few seconds on every replica: they log nothing per request.
  app.get<{ Querystring: ProbeQuery }>('/livez', { logLevel: 'silent' }, (request, reply) => livez(request.query, reply));
  app.get<{ Querystring: ProbeQuery }>('/readyz', { logLevel: 'silent' }, (request, reply) => readyz(request.query, reply));
  app.get<{ Querystring: ProbeQuery }>('/healthz', { logLevel: 'silent' }, (request, reply) => healthz(request.query, reply));

  // A scrape every 15 s is no news either; its failures still are.
  app.get('/metrics', { logLevel: 'warn' }, async (request, reply) => {
    const format = negotiateFormat(request.headers.accept);
    const body = await renderMetrics(deps.registry, format);
    return common(reply).header('vary', 'Accept').type(contentTypes[format]).send(body);
  });

  // Neither answer repeats the request: no URL, header or parser message comes back.
  app.setNotFoundHandler((_request, reply) => common(reply).code(404).send(errorBody(404)));
  app.setErrorHandler((error: { statusCode?: number }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    // Through app.log, not request.log: a probe's request logger is silent, and a broken snapshot must still be seen.
    if (status >= 500) app.log.error({ err: error, route: request.routeOptions.url }, 'http request failed');
    return common(reply).code(status).send(errorBody(status));
  });

  return app;
}
