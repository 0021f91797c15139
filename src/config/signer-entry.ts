/**
 * One entry of `signers:` in the config file → a SignerConfig. Errors name the
 * file, the signer (its name, or its index while the name is unknown) and the field.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { formatDuration } from '../duration.js';
import { knownUsages } from '../pki/index.js';
import type { Pkcs11Uri } from '../hsm/uri.js';
import { isBuiltinSignerName, keyTypeNames, type KeyTypeName, type Pkcs11Settings, type SignerConfig } from '../signer/types.js';
import { Fields } from './fields.js';
import { signerNameProblem } from './names.js';
import { checkPkcs11, checkUri, maxPkcs11Sessions, pkcs11Keys } from './pkcs11.js';
import { readPodCertificates } from './pod-certificates.js';
import { readPolicy } from './policy.js';
import { readTrust } from './trust.js';

export const signerKeys = ['name', 'ca', 'duration', 'usages', 'keyTypes', 'includeChain', 'policy', 'trust', 'certificateSigningRequests', 'podCertificates'] as const;
/** The fields that only CertificateSigningRequests use: refused when the signer serves none. */
export const csrOnlyKeys = ['duration', 'usages', 'keyTypes', 'includeChain', 'policy'] as const;
export const caKeys = ['certFile', 'keyFile', 'passphraseFile', 'trustFile', 'cert', 'key', 'pkcs11'] as const;
export const durationKeys = ['default', 'max', 'min'] as const;
export const usageKeys = ['allowed', 'required'] as const;

/** As --cluster-signing-duration: 365 days. */
export const defaultMaxDurationMs = 8760 * 3_600_000;
/** The shortest certificate Kubernetes lets a request ask for (spec.expirationSeconds >= 600). */
export const shortestMinDurationMs = 600_000;

const reservedDomain = 'kubernetes.io/';
const builtinOnly = 'kubernetes.io/* signers follow the in-tree rules of kube-controller-manager; remove this field';

/** A signerName as Kubernetes accepts it, not in kubernetes.io/ unless built in; undefined when fine. */
export function signerNameIssue(name: string): string | undefined {
  const problem = signerNameProblem(name);
  if (problem !== undefined) return `${JSON.stringify(name)} is not a valid signerName: ${problem}`;
  if (name.startsWith(reservedDomain) && !isBuiltinSignerName(name)) {
    return `${JSON.stringify(name)} is in the kubernetes.io domain, which Kubernetes reserves; csr-signer serves only the built-in kubernetes.io/kube-apiserver-client, kubernetes.io/kube-apiserver-client-kubelet, kubernetes.io/kubelet-serving and kubernetes.io/legacy-unknown there`;
  }
  return undefined;
}

const resolveFrom = (file: string, path: string): string => (isAbsolute(path) ? path : join(dirname(file), path));

/**
 * The CA: certificate and key from files, or on a PKCS#11 token (`key`, `cert`: URIs,
 * with `pkcs11` saying which module and PIN); optional when signing is off (`signing:
 * false`, --signing=false): it is then not loaded.
 */
function readCa(fields: Fields, file: string, value: unknown, path: string, signing: boolean): SignerConfig['ca'] {
  if (value === undefined && !signing) return undefined;
  if (value === undefined) throw fields.fail(path, 'is required: the CA that signs, as {certFile, keyFile} (only with signing: false may it be left out)');
  const m = fields.mapping(value, path, caKeys);
  for (const [uriKey, fileKey] of [['cert', 'certFile'], ['key', 'keyFile']] as const) {
    if (m[uriKey] !== undefined && m[fileKey] !== undefined) {
      throw fields.fail(`${path}.${uriKey}`, `and ${fileKey} are both given; give one: ${uriKey} a PKCS#11 URI, ${fileKey} a file`);
    }
    if (m[uriKey] === undefined && m[fileKey] === undefined) throw fields.fail(`${path}.${fileKey}`, 'is required');
  }
  const uriOf = (key: 'cert' | 'key'): { text: string; uri: Pkcs11Uri } | undefined => {
    if (m[key] === undefined) return undefined;
    const text = fields.string(m[key], `${path}.${key}`);
    const checked = checkUri(text, key === 'key' ? 'private' : 'cert');
    if ('problem' in checked) throw fields.fail(`${path}.${key}`, checked.problem);
    return { text, uri: checked.value };
  };
  const certUri = uriOf('cert');
  const keyUri = uriOf('key');
  const certFile = m.certFile === undefined ? undefined : resolveFrom(file, fields.string(m.certFile, `${path}.certFile`));
  const keyFile = m.keyFile === undefined ? undefined : resolveFrom(file, fields.string(m.keyFile, `${path}.keyFile`));
  const passphraseFile = fields.optionalString(m.passphraseFile, `${path}.passphraseFile`);
  if (passphraseFile !== undefined && keyUri !== undefined) {
    throw fields.fail(`${path}.passphraseFile`, 'is for an encrypted key file, and the key is on a PKCS#11 token (key): remove passphraseFile');
  }
  const trustFile = fields.optionalString(m.trustFile, `${path}.trustFile`);
  const uris = [keyUri, certUri].flatMap((u) => (u === undefined ? [] : [u.uri]));
  const pkcs11 = readPkcs11(fields, file, m.pkcs11, path, uris, keyUri === undefined ? 'cert' : 'key');
  return {
    ...(certFile === undefined ? {} : { certFile }),
    ...(certUri === undefined ? {} : { certUri: certUri.text }),
    ...(keyFile === undefined ? {} : { keyFile }),
    ...(keyUri === undefined ? {} : { keyUri: keyUri.text }),
    ...(passphraseFile === undefined ? {} : { passphraseFile: resolveFrom(file, passphraseFile) }),
    ...(trustFile === undefined ? {} : { trustFile: resolveFrom(file, trustFile) }),
    ...(pkcs11 === undefined ? {} : { pkcs11 }),
  };
}

/**
 * `ca.pkcs11`: required when `key` or `cert` is a URI; allowed beside a plain keyFile,
 * which may come to hold a URI (a rotation from a file key to a token key).
 */
function readPkcs11(
  fields: Fields, file: string, value: unknown, ca: string, uris: readonly Pkcs11Uri[], uriField: 'key' | 'cert',
): Pkcs11Settings | undefined {
  const path = `${ca}.pkcs11`;
  if (value === undefined) {
    if (uris.length === 0) return undefined;
    throw fields.fail(path, `is required: ${ca}.${uriField} is a PKCS#11 URI, so the module and the PIN must be given as pkcs11: {module, pinFile or pinEnv}`);
  }
  const m = fields.mapping(value, path, pkcs11Keys);
  const module = fields.optionalString(m.module, `${path}.module`);
  const pinFile = fields.optionalString(m.pinFile, `${path}.pinFile`);
  const pinEnv = fields.optionalString(m.pinEnv, `${path}.pinEnv`);
  const sessions = fields.positiveInteger(m.sessions, `${path}.sessions`);
  if (sessions !== undefined && sessions > maxPkcs11Sessions) throw fields.fail(`${path}.sessions`, `${sessions} is more than ${maxPkcs11Sessions}`);
  const names = { module: `${path}.module`, pinFile: `${path}.pinFile`, pinEnv: `${path}.pinEnv`, uri: `${ca}.${uriField}` };
  const checked = checkPkcs11(
    { ...(module === undefined ? {} : { module }), ...(pinFile === undefined ? {} : { pinFile }), ...(pinEnv === undefined ? {} : { pinEnv }), ...(sessions === undefined ? {} : { sessions }) },
    uris, names, (p) => resolveFrom(file, p),
  );
  if ('problem' in checked) throw fields.fail(checked.field ?? path, checked.problem);
  return checked.value;
}

type Durations = Pick<SignerConfig, 'defaultDurationMs' | 'maxDurationMs' | 'minDurationMs'>;

function readDurations(fields: Fields, value: unknown, path: string, builtin: boolean): Durations {
  const m = value === undefined ? {} : fields.mapping(value, path, durationKeys);
  if (builtin && m.min !== undefined) throw fields.fail(`${path}.min`, builtinOnly);
  const max = fields.duration(m.max, `${path}.max`) ?? defaultMaxDurationMs;
  const dflt = fields.duration(m.default, `${path}.default`) ?? max;
  const min = fields.duration(m.min, `${path}.min`);
  if (max <= 0) throw fields.fail(`${path}.max`, 'must be longer than 0s');
  if (dflt <= 0) throw fields.fail(`${path}.default`, 'must be longer than 0s');
  if (dflt > max) throw fields.fail(`${path}.default`, `${formatDuration(dflt)} is longer than max (${formatDuration(max)})`);
  if (min !== undefined) {
    if (min < shortestMinDurationMs) throw fields.fail(`${path}.min`, `${formatDuration(min)} is shorter than 10m0s, the shortest certificate Kubernetes lets a request ask for`);
    if (min > dflt) throw fields.fail(`${path}.min`, `${formatDuration(min)} is longer than default (${formatDuration(dflt)})`);
  }
  return { defaultDurationMs: dflt, maxDurationMs: max, ...(min === undefined ? {} : { minDurationMs: min }) };
}

const usageProblem = (usage: string): string | undefined =>
  knownUsages.includes(usage) ? undefined : `${JSON.stringify(usage)} is not a Kubernetes usage; the usages are ${knownUsages.join(', ')}`;

function readUsages(fields: Fields, value: unknown, path: string): Pick<SignerConfig, 'allowedUsages' | 'requiredUsages'> {
  if (value === undefined) return {};
  const m = fields.mapping(value, path, usageKeys);
  const allowed = fields.strings(m.allowed, `${path}.allowed`, { allowEmpty: false, check: usageProblem });
  const required = fields.strings(m.required, `${path}.required`, { allowEmpty: true, check: usageProblem });
  required?.forEach((usage, i) => {
    if (allowed !== undefined && !allowed.includes(usage)) throw fields.fail(`${path}.required[${i}]`, `${JSON.stringify(usage)} is required but not in allowed`);
  });
  return { ...(allowed === undefined ? {} : { allowedUsages: allowed }), ...(required === undefined ? {} : { requiredUsages: required }) };
}

const keyTypeProblem = (key: string): string | undefined =>
  (keyTypeNames as readonly string[]).includes(key) ? undefined : `${JSON.stringify(key)} is not one of ${keyTypeNames.join(', ')}`;

/**
 * Reads `signers[index]`; `names` holds the names of the entries before it (to refuse
 * duplicates); `signing` false makes `ca` optional and refuses `ca` and `trust`, which
 * would then never be loaded or published (`offBy` says what turned signing off) — unless
 * the file is `sharedWithSigners` (read with --signing=false, the signing processes read it
 * too): then they are checked as theirs, and the caller leaves them out.
 */
export function readSignerEntry(
  file: string, index: number, value: unknown, names: readonly string[], signing = true, offBy = 'signing: false', sharedWithSigners = false,
): SignerConfig {
  const path = `signers[${index}]`;
  const unnamed = new Fields(`${file}: ${path} (no name yet)`);
  const entry = unnamed.mapping(value, path);
  if (entry.name === undefined) throw unnamed.fail(`${path}.name`, 'is required: a signerName such as example.com/serving');
  const name = unnamed.string(entry.name, `${path}.name`);
  const issue = signerNameIssue(name);
  if (issue !== undefined) throw unnamed.fail(`${path}.name`, issue);
  const fields = new Fields(`${file}: signer ${JSON.stringify(name)}`);
  fields.mapping(entry, path, signerKeys);
  const earlier = names.indexOf(name);
  if (earlier >= 0) throw fields.fail(`${path}.name`, `signers[${earlier}] has the same name; each signer may appear once`);
  const builtin = isBuiltinSignerName(name);
  for (const key of ['usages', 'keyTypes', 'policy'] as const) {
    if (builtin && entry[key] !== undefined) throw fields.fail(`${path}.${key}`, builtinOnly);
  }
  if (builtin && entry.podCertificates !== undefined) {
    throw fields.fail(`${path}.podCertificates`, 'a PodCertificateRequest naming a kubernetes.io signer is for a signer of the platform itself, not csr-signer: serve pod certificates under a signerName of your own domain, such as example.com/pods');
  }
  const servesCsrs = fields.boolean(entry.certificateSigningRequests, `${path}.certificateSigningRequests`, true);
  if (!servesCsrs && entry.podCertificates === undefined) {
    throw fields.fail(`${path}.certificateSigningRequests`, 'is false and the signer has no podCertificates, so it would sign nothing: add podCertificates, or remove the signer');
  }
  for (const key of servesCsrs ? [] : csrOnlyKeys) {
    if (entry[key] !== undefined) throw fields.fail(`${path}.${key}`, 'is for CertificateSigningRequests, which this signer does not serve (certificateSigningRequests: false): remove it');
  }
  const keyTypes = fields.strings(entry.keyTypes, `${path}.keyTypes`, { allowEmpty: false, check: keyTypeProblem }) as KeyTypeName[] | undefined;
  if (!signing && !sharedWithSigners && entry.trust !== undefined) {
    throw fields.fail(`${path}.trust`, `signing is off (${offBy}), so no trust bundle would be published: remove trust, or turn signing on`);
  }
  if (!signing && !sharedWithSigners && entry.ca !== undefined) {
    throw fields.fail(`${path}.ca`, `signing is off (${offBy}), so this CA would never be loaded: remove ca (approving needs only the signer's policy), or turn signing on`);
  }
  if (!signing && !sharedWithSigners && entry.podCertificates !== undefined) {
    throw fields.fail(`${path}.podCertificates`, `signing is off (${offBy}), so no PodCertificateRequest would be signed: remove podCertificates, or turn signing on`);
  }
  const trust = readTrust(fields, entry.trust, `${path}.trust`, name);
  const ca = readCa(fields, file, entry.ca, `${path}.ca`, signing);
  const podCertificates = readPodCertificates(fields, entry.podCertificates, `${path}.podCertificates`);
  return {
    name,
    source: file,
    ...(ca === undefined ? {} : { ca }),
    ...readDurations(fields, entry.duration, `${path}.duration`, builtin),
    ...readUsages(fields, entry.usages, `${path}.usages`),
    ...(keyTypes === undefined ? {} : { allowedKeyTypes: keyTypes }),
    includeChain: fields.boolean(entry.includeChain, `${path}.includeChain`, false),
    ...(builtin || !servesCsrs ? {} : { policy: readPolicy(fields, entry.policy, `${path}.policy`) }),
    ...(trust === undefined ? {} : { trust }),
    ...(servesCsrs ? {} : { certificateSigningRequests: false }),
    ...(podCertificates === undefined ? {} : { podCertificates }),
  };
}
