/** `csr-signer run`: the composition root of the signer. Parse config, build the parts, start, stop on SIGTERM. */
import { loadRunConfig, type ReadFile } from '../config/index.js';
import { createLogger } from '../telemetry/logger.js';
import { SignerRuntime } from '../runtime.js';

/**
 * Resolves on the first SIGINT or SIGTERM; a second one exits at once. Holds the
 * event loop open meanwhile: the loop's own timers are unref'd and an idle
 * keep-alive socket holds nothing, so between a dropped watch and its retry the
 * process would otherwise just end.
 */
export const untilSignal = (onSecond: (signal: string) => void = () => process.exit(1)): Promise<string> => new Promise((resolve) => {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const first = (signal: string): void => {
    clearInterval(keepAlive);
    process.off('SIGINT', first);
    process.off('SIGTERM', first);
    process.once('SIGINT', onSecond);
    process.once('SIGTERM', onSecond);
    resolve(signal);
  };
  process.on('SIGINT', first);
  process.on('SIGTERM', first);
});

export async function runRun(argv: readonly string[], readFile: ReadFile): Promise<number> {
  const config = loadRunConfig(argv, process.env, readFile);
  const logger = createLogger(config.logLevel, process.stdout, config.logFormat);
  const runtime = new SignerRuntime(config, logger, process.env);
  // start() may wait long for an unreachable API server: a signal meanwhile ends the wait and stops.
  let early: string | undefined;
  const interrupt = (s: string): void => {
    early = s;
    runtime.interruptStart();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await runtime.start();
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  const signal = early ?? await untilSignal((second) => {
    logger.warn({ signal: second }, 'second signal; exiting at once');
    process.exit(1);
  });
  logger.info({ signal, timeoutSeconds: config.shutdownTimeoutMs / 1000 }, 'stopping');
  await runtime.stop(config.shutdownTimeoutMs);
  logger.info('stopped');
  return 0;
}
