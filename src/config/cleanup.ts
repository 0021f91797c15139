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

const ageKeys = [
  ['issued', 'issuedMs'], ['denied', 'deniedMs'], ['failed', 'failedMs'], ['pending', 'pendingMs'], ['approvedUnissued', 'approvedUnissuedMs'],
] as const;

/** `cleanup:` as written: `enabled` if given (the default depends on the approver), and the ages. */
export interface CleanupSection {
  readonly enabled?: boolean;
  readonly ages: CleanupConfig;
}

/** Reads `cleanup:`; absent, the defaults. */
export function readCleanup(fields: Fields, value: unknown): CleanupSection {
  if (value === undefined) return { ages: defaultCleanup };
  const m = fields.mapping(value, 'cleanup', cleanupKeys);
  const enabled = m.enabled === undefined ? undefined : fields.boolean(m.enabled, 'cleanup.enabled', false);
  const ages: Record<string, number> = { ...defaultCleanup };
  for (const [key, field] of ageKeys) {
    const ms = fields.duration(m[key], `cleanup.${key}`);
    if (ms === undefined) continue;
    if (ms <= 0) throw fields.fail(`cleanup.${key}`, `must be longer than 0s, not ${formatDuration(ms)}`);
    ages[field] = ms;
  }
  return { ...(enabled === undefined ? {} : { enabled }), ages: ages as unknown as CleanupConfig };
}
