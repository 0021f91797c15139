/**
 * The --config file: YAML, `kind: SignerConfiguration`, a list of signers.
 * docs/configuration.md documents every field; test/config/docs.test.ts keeps
 * the two in step.
 */
import { parseDocument } from 'yaml';
import type { SignerConfig } from '../signer/types.js';
import { Fields, markUnplainNumbers, shown } from './fields.js';
import { readSignerEntry } from './signer-entry.js';

export const configApiVersion = 'csr-signer.io/v1alpha1';
export const configKind = 'SignerConfiguration';
export const topLevelKeys = ['apiVersion', 'kind', 'signers'] as const;

/** Parses and validates the config file `file` (its text); every signer, or the first error. */
export function readConfigFile(file: string, text: string): SignerConfig[] {
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
  if (top.signers === undefined) throw fields.fail('signers', 'is required: a list of at least one signer');
  const entries = fields.list(top.signers, 'signers');
  if (entries.length === 0) throw fields.fail('signers', 'must list at least one signer');
  const signers: SignerConfig[] = [];
  for (const [index, entry] of entries.entries()) {
    const signer = readSignerEntry(file, index, entry, signers.map((s) => s.name));
    const configMap = signer.trust?.configMap?.name;
    const earlier = configMap === undefined ? -1 : signers.findIndex((s) => s.trust?.configMap?.name === configMap);
    if (earlier >= 0) {
      throw new Fields(`${file}: signer ${JSON.stringify(signer.name)}`).fail(`signers[${index}].trust.configMap.name`, `signers[${earlier}] publishes to the ConfigMap ${JSON.stringify(configMap)} too; each signer needs its own`);
    }
    signers.push(signer);
  }
  return signers;
}
