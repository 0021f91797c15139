/**
 * The `trust:` of a signer in the config file: where its trust bundle (every CA
 * its relying parties should trust) is published. Names, keys and labels are
 * checked as the API server would check them, so a typo fails at start, not at
 * the first write.
 */
import type { LabelSelector, TrustTargetsConfig } from '../signer/types.js';
import { shown, type Fields, type Mapping } from './fields.js';

export const trustKeys = ['configMap', 'clusterTrustBundle'] as const;
export const configMapKeys = ['name', 'key', 'namespaceSelector'] as const;
export const clusterTrustBundleKeys = ['name', 'labels'] as const;
export const selectorKeys = ['matchLabels', 'matchExpressions'] as const;
export const expressionKeys = ['key', 'operator', 'values'] as const;
const operators = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** The key a bundle goes under when `configMap.key` is left out: what kube-root-ca.crt uses. */
export const defaultBundleKey = 'ca.crt';
/** The suffix of a ClusterTrustBundle's name when `clusterTrustBundle.name` is left out. */
export const defaultBundleSuffix = 'csr-signer';

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const configMapKey = /^[-._a-zA-Z0-9]+$/;

/** The prefix Kubernetes requires of a signer-linked ClusterTrustBundle's name. */
export const clusterTrustBundlePrefix = (signerName: string): string => `${signerName.replaceAll('/', ':')}:`;

function subdomainProblem(name: string): string | undefined {
  if (name.length > 253 || !dns1123Subdomain.test(name)) return `${JSON.stringify(name)} is not a valid object name: at most 253 lower case letters, digits, '-' and '.', starting and ending with a letter or digit`;
  return undefined;
}

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !dns1123Subdomain.test(prefix))) return `${JSON.stringify(key)} is not a valid label key: its prefix must be a DNS subdomain`;
  if (name.length > 63 || !labelName.test(name)) return `${JSON.stringify(key)} is not a valid label key: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, after an optional prefix/`;
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63 || !labelValue.test(value)) return `${JSON.stringify(value)} is not a valid label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit`;
  return undefined;
}

function readLabels(fields: Fields, value: unknown, path: string): Record<string, string> {
  if (value === undefined) return {};
  const m = fields.mapping(value, path);
  const labels: Record<string, string> = {};
  for (const [key, v] of Object.entries(m)) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined) throw fields.fail(`${path}.${key}`, keyProblem);
    if (typeof v !== 'string') throw fields.fail(`${path}.${key}`, `must be a string (quote numbers and booleans), not ${shown(v)}`);
    const valueProblem = labelValueProblem(v);
    if (valueProblem !== undefined) throw fields.fail(`${path}.${key}`, valueProblem);
    labels[key] = v;
  }
  return labels;
}

/** Label values of a selector expression: strings, each once; "" is a label value too. */
function readValues(fields: Fields, value: unknown, path: string): string[] | undefined {
  if (value === undefined) return undefined;
  const seen = new Set<string>();
  return fields.list(value, path).map((item, i) => {
    if (typeof item !== 'string') throw fields.fail(`${path}[${i}]`, `must be a string (quote numbers and booleans), not ${shown(item)}`);
    if (seen.has(item)) throw fields.fail(`${path}[${i}]`, `${JSON.stringify(item)} is listed twice`);
    seen.add(item);
    const problem = labelValueProblem(item);
    if (problem !== undefined) throw fields.fail(`${path}[${i}]`, problem);
    return item;
  });
}

export function readSelector(fields: Fields, value: unknown, path: string): LabelSelector | undefined {
  if (value === undefined) return undefined;
  const m = fields.mapping(value, path, selectorKeys);
  const matchLabels = m.matchLabels === undefined ? undefined : readLabels(fields, m.matchLabels, `${path}.matchLabels`);
  const matchExpressions = m.matchExpressions === undefined ? undefined : fields.list(m.matchExpressions, `${path}.matchExpressions`).map((item, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const e: Mapping = fields.mapping(item, at, expressionKeys);
    if (e.key === undefined) throw fields.fail(`${at}.key`, 'is required');
    const key = fields.string(e.key, `${at}.key`);
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined) throw fields.fail(`${at}.key`, keyProblem);
    if (e.operator === undefined) throw fields.fail(`${at}.operator`, `is required: one of ${operators.join(', ')}`);
    const operator = fields.oneOf(e.operator, `${at}.operator`, operators, 'In');
    const values = readValues(fields, e.values, `${at}.values`);
    const needsValues = operator === 'In' || operator === 'NotIn';
    if (needsValues && (values === undefined || values.length === 0)) throw fields.fail(`${at}.values`, `must list at least one value for ${operator}`);
    if (!needsValues && values !== undefined && values.length > 0) throw fields.fail(`${at}.values`, `must be empty for ${operator}`);
    return { key, operator, ...(needsValues ? { values: values ?? [] } : {}) };
  });
  return { ...(matchLabels === undefined ? {} : { matchLabels }), ...(matchExpressions === undefined ? {} : { matchExpressions }) };
}

/** Reads `trust:` of signer `signerName`; absent: no publishing. */
export function readTrust(fields: Fields, value: unknown, path: string, signerName: string): TrustTargetsConfig | undefined {
  if (value === undefined) return undefined;
  const m = fields.mapping(value, path, trustKeys);
  if (m.configMap === undefined && m.clusterTrustBundle === undefined) throw fields.fail(path, 'give configMap, clusterTrustBundle or both (leave trust out to publish nowhere)');
  let configMap: TrustTargetsConfig['configMap'];
  if (m.configMap !== undefined) {
    const at = `${path}.configMap`;
    const c = fields.mapping(m.configMap, at, configMapKeys);
    if (c.name === undefined) throw fields.fail(`${at}.name`, 'is required: the ConfigMap to publish the bundle to in each namespace');
    const name = fields.string(c.name, `${at}.name`);
    const nameProblem = subdomainProblem(name);
    if (nameProblem !== undefined) throw fields.fail(`${at}.name`, nameProblem);
    const key = fields.optionalString(c.key, `${at}.key`) ?? defaultBundleKey;
    if (key.length > 253 || !configMapKey.test(key) || key === '.' || key.startsWith('..')) throw fields.fail(`${at}.key`, `${JSON.stringify(key)} is not a valid ConfigMap key: letters, digits, '-', '_' and '.', not "." and not starting with ".." (the kubelet's own names in a mounted volume)`);
    const namespaceSelector = readSelector(fields, c.namespaceSelector, `${at}.namespaceSelector`);
    configMap = { name, key, ...(namespaceSelector === undefined ? {} : { namespaceSelector }) };
  }
  let clusterTrustBundle: TrustTargetsConfig['clusterTrustBundle'];
  if (m.clusterTrustBundle !== undefined) {
    const at = `${path}.clusterTrustBundle`;
    const c = fields.mapping(m.clusterTrustBundle ?? {}, at, clusterTrustBundleKeys);
    const prefix = clusterTrustBundlePrefix(signerName);
    const name = fields.optionalString(c.name, `${at}.name`) ?? `${prefix}${defaultBundleSuffix}`;
    if (!name.startsWith(prefix) || name.length === prefix.length) {
      throw fields.fail(`${at}.name`, `${JSON.stringify(name)} must start with ${JSON.stringify(prefix)} and a suffix: Kubernetes names a signer-linked ClusterTrustBundle after its signer`);
    }
    const suffix = name.slice(prefix.length);
    if (suffix.includes('/') || suffix.includes('%') || suffix === '.' || suffix === '..' || name.length > 253) {
      throw fields.fail(`${at}.name`, `${JSON.stringify(name)} is not a valid ClusterTrustBundle name: the suffix may not contain '/' or '%' and the name is at most 253 characters`);
    }
    clusterTrustBundle = { name, labels: readLabels(fields, c.labels, `${at}.labels`) };
  }
  return { ...(configMap === undefined ? {} : { configMap }), ...(clusterTrustBundle === undefined ? {} : { clusterTrustBundle }) };
}
