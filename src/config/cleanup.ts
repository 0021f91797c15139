/**
 * The CSR cleaner's configuration: `cleanup:` of the config file and --cleanup. Its
 * ages default to kube-controller-manager's csrcleaner
 * (pkg/controller/certificates/cleaner/cleaner.go: an issued CSR after approvedExpiration,
 * 1 h; a denied or failed one after deniedExpiration, 1 h; one with no condition after
 * pendingExpiration, 24 h; an approved one never issued, isApprovedUnissuedPastDeadline,
 * after pendingExpiration too).
 */
import { formatDuration } from '../duration.js';
import { upstreamCleanupAges } from '../signer/cleanup.js';
import type { CleanupConfig } from '../signer/types.js';
import type { Fields } from './fields.js';

export const cleanupKeys = ['enabled', 'issued', 'denied', 'failed', 'pending', 'approvedUnissued'] as const;

/** kube-controller-manager's ages (the cleanup decision's own table). */
export const defaultCleanup: CleanupConfig = upstreamCleanupAges;

/**
 * The shortest age accepted for each kind: one minute. A CSR deleted sooner may be gone
 * before anyone acts on it (the `why` of each age); kube-controller-manager's ages
 * (defaultCleanup) are the recommendation.
 */
export const shortestCleanupAgeMs = 60_000;

const ageKeys = [
  ['issued', 'issuedMs', 'before its requester has read the certificate'],
  ['denied', 'deniedMs', 'before its requester has read why it was denied'],
  ['failed', 'failedMs', 'before its requester has read why signing failed'],
  ['pending', 'pendingMs', 'before a human or the approver has decided it'],
  ['approvedUnissued', 'approvedUnissuedMs', 'before the signer has issued it'],
] as const;

/** `cleanup:` as written: `enabled` if given (the default depends on the approver), the ages, and which ages were written. */
export interface CleanupSection {
  readonly enabled?: boolean;
  readonly ages: CleanupConfig;
  /** The age fields written (issued, pending, …), in the order of cleanupKeys; absent: none. */
  readonly written?: readonly string[];
}

/** Reads `cleanup:`; absent, the defaults. */
export function readCleanup(fields: Fields, value: unknown): CleanupSection {
  if (value === undefined) return { ages: defaultCleanup };
  const m = fields.mapping(value, 'cleanup', cleanupKeys);
  const enabled = m.enabled === undefined ? undefined : fields.boolean(m.enabled, 'cleanup.enabled', false);
  const ages: Record<string, number> = { ...defaultCleanup };
  const written: string[] = [];
  for (const [key, field, why] of ageKeys) {
    const ms = fields.duration(m[key], `cleanup.${key}`);
    if (ms === undefined) continue;
    if (ms < shortestCleanupAgeMs) {
      throw fields.fail(`cleanup.${key}`, `${formatDuration(ms)} is shorter than ${formatDuration(shortestCleanupAgeMs)}, and a CSR deleted that soon may be gone ${why} `
        + `(kube-controller-manager waits ${formatDuration(defaultCleanup[field])})`);
    }
    ages[field] = ms;
    written.push(key);
  }
  return { ...(enabled === undefined ? {} : { enabled }), ages: ages as unknown as CleanupConfig, ...(written.length === 0 ? {} : { written }) };
}
