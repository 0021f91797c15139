/**
 * The --config file: YAML, `kind: SignerConfiguration`, a list of signers.
 * docs/configuration.md documents every field; test/config/docs.test.ts keeps
 * the two in step.
 */
import { parseDocument } from 'yaml';
import type { ApproverConfig, SignerConfig } from '../signer/types.js';
import { readApprover } from './approver.js';
import { readCleanup, type CleanupSection } from './cleanup.js';
import { Fields, markUnplainNumbers, shown } from './fields.js';
import { readSignerEntry } from './signer-entry.js';

/** A signer as a process that does not sign sees it: its policy and rules, not its CA, where its trust bundle goes, nor its pod certificates. */
function withoutSigningParts(signer: SignerConfig): SignerConfig {
  const copy: { -readonly [K in keyof SignerConfig]: SignerConfig[K] } = { ...signer };
  delete copy.ca;
  delete copy.trust;
  delete copy.podCertificates;
  return copy;
}

export const configApiVersion = 'csr-signer.io/v1alpha1';
export const configKind = 'SignerConfiguration';
export const topLevelKeys = ['apiVersion', 'kind', 'signers', 'signing', 'approver', 'cleanup'] as const;

/** The config file, validated. */
export interface ConfigDocument {
  readonly signers: SignerConfig[];
  /** `signing:` as written. */
  readonly signing?: boolean;
  readonly approver?: ApproverConfig;
  readonly cleanup: CleanupSection;
}

/** Parses and validates the config file `file` (its text); every signer, or the first error. */
export function readConfigFile(file: string, text: string): SignerConfig[] {
  return readConfigDocument(file, text).signers;
}

/**
 * Parses and validates the whole config file, or throws its first error.
 * `signingFlag`: --signing, which overrides `signing:` (without a CA, a signer cannot sign).
 */
export function readConfigDocument(file: string, text: string, signingFlag?: boolean): ConfigDocument {
  const fields = new Fields(file);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    // The first line: the problem and its line and column (the rest is an excerpt of the file).
    const first = (yamlError.message.split('\n')[0] ?? '').replace(/:$/, '');
    throw fields.fail('(YAML)', first.replace(/^Source contains multiple documents; please use YAML.parseAllDocuments\(\)/, 'holds more than one YAML document; the config is one document'));
  }
  markUnplainNumbers(doc);
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw fields.fail('(YAML)', (e as Error).message);
  }
  if (root === null || root === undefined) throw fields.fail('(document)', `is empty; expected apiVersion: ${configApiVersion}, kind: ${configKind} and signers`);
  const top = fields.mapping(root, '', topLevelKeys);
  if (top.apiVersion !== configApiVersion) {
    throw fields.fail('apiVersion', `must be ${configApiVersion}, not ${shown(top.apiVersion ?? null)}`);
  }
  if (top.kind !== configKind) throw fields.fail('kind', `must be ${configKind}, not ${shown(top.kind ?? null)}`);
  const written = top.signing === undefined ? undefined : fields.boolean(top.signing, 'signing', true);
  const signing = signingFlag ?? written ?? true;
  const signingOff = 'signing is on' + (signingFlag === true && written === false ? ' (--signing=true)' : '');
  if (top.signers === undefined && signing) throw fields.fail('signers', `is required: a list of at least one signer (${signingOff}; with signing: false it may be left out)`);
  const entries = top.signers === undefined ? [] : fields.list(top.signers, 'signers');
  if (entries.length === 0 && signing) throw fields.fail('signers', `must list at least one signer (${signingOff}; with signing: false it may be empty)`);
  // --signing=false over a file that does not say signing: false: the file is shared with the
  // processes that sign (one ConfigMap for a signer and an approver Deployment), so its CAs and
  // trust targets are theirs: checked as they would be, then left out here, where nothing loads
  // or publishes them. A file that says signing: false and still names them is refused instead.
  const sharedWithSigners = signingFlag === false && written !== false;
  const signers: SignerConfig[] = [];
  for (const [index, entry] of entries.entries()) {
    const read = readSignerEntry(file, index, entry, signers.map((s) => s.name), signing, signingFlag === false ? '--signing=false' : 'signing: false', sharedWithSigners);
    const configMap = read.trust?.configMap?.name;
    const earlier = configMap === undefined ? -1 : signers.findIndex((s) => s.trust?.configMap?.name === configMap);
    if (earlier >= 0) {
      throw new Fields(`${file}: signer ${JSON.stringify(read.name)}`).fail(`signers[${index}].trust.configMap.name`, `signers[${earlier}] publishes to the ConfigMap ${JSON.stringify(configMap)} too; each signer needs its own`);
    }
    signers.push(sharedWithSigners ? withoutSigningParts(read) : read);
  }
  const approver = top.approver === undefined ? undefined : readApprover(file, top.approver, signers);
  return {
    signers,
    ...(written === undefined ? {} : { signing: written }),
    ...(approver === undefined ? {} : { approver }),
    cleanup: readCleanup(fields, top.cleanup),
  };
}
