/** `cleanup:` of the config file: kube-controller-manager's ages by default, each age a Go duration of at least a minute, and `enabled` as written. */
import t from 'tap';
import { stringify } from 'yaml';
import { defaultCleanup } from '../../src/config/cleanup.js';
import { readConfigDocument } from '../../src/config/file.js';

const file = 'signers.yaml';
const hour = 3_600_000;
const config = (cleanup: unknown): string => stringify({
  apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration',
  signers: [{ name: 'kubernetes.io/kubelet-serving', ca: { certFile: 'a', keyFile: 'b' } }], cleanup,
});
const cleanupOf = (cleanup: unknown): unknown => readConfigDocument(file, config(cleanup)).cleanup;

void t.test('the defaults are kube-controller-manager\'s csrcleaner ages', (t) => {
  t.same(defaultCleanup, { issuedMs: hour, deniedMs: hour, failedMs: hour, pendingMs: 24 * hour, approvedUnissuedMs: 24 * hour });
  t.same(cleanupOf(undefined), { ages: defaultCleanup }, 'no cleanup: section: enabled left to the approver');
  t.same(cleanupOf({}), { ages: defaultCleanup }, 'an empty one too');
  t.end();
});

void t.test('each field is read', (t) => {
  t.same(cleanupOf({ enabled: false }), { enabled: false, ages: defaultCleanup });
  t.same(cleanupOf({ enabled: true, issued: '30m', denied: '2h', failed: '90s', pending: '48h', approvedUnissued: '1h30m' }), {
    enabled: true,
    ages: { issuedMs: 30 * 60_000, deniedMs: 2 * hour, failedMs: 90_000, pendingMs: 48 * hour, approvedUnissuedMs: 1.5 * hour },
    written: ['issued', 'denied', 'failed', 'pending', 'approvedUnissued'],
  });
  t.same(cleanupOf({ pending: '12h' }), { ages: { ...defaultCleanup, pendingMs: 12 * hour }, written: ['pending'] }, 'a field left out keeps its default');
  t.same(cleanupOf({ enabled: true, issued: '1m' }), { enabled: true, ages: { ...defaultCleanup, issuedMs: 60_000 }, written: ['issued'] }, 'one minute, the shortest age, is accepted');
  t.end();
});

void t.test('refuses each mistake naming the field', (t) => {
  const cases: [string, unknown, string][] = [
    ['not a mapping', 'on', 'cleanup: must be a mapping, not the string "on"'],
    ['an unknown field', { completed: '1h' }, 'cleanup.completed: unknown field; the fields of cleanup are enabled, issued, denied, failed, pending, approvedUnissued'],
    ['enabled not a boolean', { enabled: 'yes' }, 'cleanup.enabled: must be true or false, not the string "yes"'],
    ['a zero age', { issued: '0s' }, 'cleanup.issued: 0s is shorter than 1m0s, and a CSR deleted that soon may be gone before its requester has read the certificate (kube-controller-manager waits 1h0m0s)'],
    ['a bare zero', { denied: '0' }, 'cleanup.denied: 0s is shorter than 1m0s, and a CSR deleted that soon may be gone before its requester has read why it was denied (kube-controller-manager waits 1h0m0s)'],
    ['an issued age under a minute', { issued: '59s' }, 'cleanup.issued: 59s is shorter than 1m0s, and a CSR deleted that soon may be gone before its requester has read the certificate (kube-controller-manager waits 1h0m0s)'],
    ['a failed age under a minute', { failed: '30s' }, 'cleanup.failed: 30s is shorter than 1m0s, and a CSR deleted that soon may be gone before its requester has read why signing failed (kube-controller-manager waits 1h0m0s)'],
    ['a pending age under a minute', { pending: '59.999s' }, 'cleanup.pending: 59.999s is shorter than 1m0s, and a CSR deleted that soon may be gone before a human or the approver has decided it (kube-controller-manager waits 24h0m0s)'],
    ['an approvedUnissued age under a minute', { approvedUnissued: '10s' }, 'cleanup.approvedUnissued: 10s is shorter than 1m0s, and a CSR deleted that soon may be gone before the signer has issued it (kube-controller-manager waits 24h0m0s)'],
    ['a negative age', { failed: '-1h' }, 'cleanup.failed: invalid duration "-1h": it is negative'],
    ['a number', { pending: 24 }, 'cleanup.pending: must be a Go duration string such as "720h", not number 24'],
    ['a unit Go does not know', { approvedUnissued: '1d' }, 'cleanup.approvedUnissued: invalid duration "1d": unexpected "1d"'],
  ];
  for (const [name, cleanup, message] of cases) t.throws(() => cleanupOf(cleanup), { kind: 'InvalidConfig', message: `${file}: ${message}` }, name);
  t.end();
});
