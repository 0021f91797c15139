/**
 * List, then watch, the CSRs of one signerName (field selector spec.signerName),
 * keeping the cache current and telling the controller which names changed; the
 * resume, relist, watchdog and backoff rules are ListWatch's.
 */
import type { Logger } from 'pino';
import type { Csr } from '../signer/types.js';
import type { CsrApi } from '../kube/csr-api.js';
import type { CsrCache } from './csr-cache.js';
import { ListWatch } from '../kube/list-watch.js';
import type { Clock } from './queue.js';

export interface SourceOptions {
  readonly signerName: string;
  readonly api: CsrApi;
  readonly cache: CsrCache;
  readonly logger: Logger;
  /** A name was added, changed or relisted. */
  readonly onChange: (name: string) => void;
  /** No event or bookmark for this long restarts the watch. */
  readonly quietTimeoutMs: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly listPageSize?: number;
  readonly onRestart?: (reason: 'error' | 'gone' | 'quiet') => void;
}

export class CsrSource extends ListWatch<Csr> {
  constructor(options: SourceOptions) {
    const { signerName, api, ...rest } = options;
    super({
      ...rest,
      feed: {
        list: (page) => api.list(signerName, page),
        watch: (resourceVersion, timeoutSeconds, onEvent, signal) => api.watch(signerName, resourceVersion, timeoutSeconds, onEvent, signal),
      },
      logFields: { signer: signerName },
    });
  }
}
