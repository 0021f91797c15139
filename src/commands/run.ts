/** `csr-signer run`: the composition root of the signer. Parse config, build the parts, start, stop on SIGTERM. */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { loadRunConfig } from '../config/index.js';
import type { RunConfig } from '../config/types.js';
import { CaStore } from '../controller/ca-store.js';
import { Controller } from '../controller/controller.js';
import { csrApi } from '../controller/csr-api.js';
import { loadKubeConfig } from '../controller/kube-config.js';
import { kubeHttp } from '../controller/kube-http.js';
import { createLogger } from '../logger.js';
import { formatGoTime } from '../pki/index.js';

export interface RunningSigner {
  readonly controller: Controller;
  readonly logger: Logger;
  stop(): Promise<void>;
}

/** Starts the signer for a validated config: CAs first (all or nothing), then the API client and the loop. */
export async function startSigner(config: RunConfig, logger: Logger): Promise<RunningSigner> {
  const cas = await CaStore.load(config.signers, new Date());
  for (const signer of config.signers) {
    const ca = cas.lookup(signer.name);
    logger.info({
      signer: signer.name, caSubject: ca.certificate.subject, caNotAfter: formatGoTime(ca.certificate.notAfter), caKey: ca.keyProvider.description,
    }, 'signer ready');
  }
  const kube = await loadKubeConfig(config.kubeconfig);
  const http = kubeHttp(kube.endpoint);
  const controller = new Controller({
    signers: config.signers,
    ca: cas.lookup,
    api: csrApi(http, hostname()),
    logger,
    workers: config.workers,
    retry: { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs, qps: config.retryQps, burst: config.retryBurst },
    watchQuietTimeoutMs: config.watchQuietTimeoutMs,
    limits: config.requestLimits,
    events: config.events,
  });
  controller.start();
  logger.info({ server: kube.endpoint.server, user: kube.user, signers: config.signers.map((s) => s.name), workers: config.workers }, 'watching');
  return {
    controller,
    logger,
    async stop() {
      await controller.stop();
      http.close();
    },
  };
}

/**
 * Resolves on the first SIGINT or SIGTERM. Holds the event loop open meanwhile:
 * the loop's own timers are unref'd and an idle keep-alive socket holds nothing,
 * so between a dropped watch and its retry the process would otherwise just end.
 */
export const untilSignal = (): Promise<string> => new Promise((resolve) => {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const on = (signal: string): void => {
    clearInterval(keepAlive);
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
    resolve(signal);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
});

export async function runRun(argv: readonly string[], readFile: (path: string) => string): Promise<number> {
  const config = loadRunConfig(argv, process.env, readFile);
  const logger = createLogger(config.logLevel);
  const signer = await startSigner(config, logger);
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping');
  await signer.stop();
  logger.info('stopped');
  return 0;
}
