/**
 * What `csr-signer run` does: sign (the signers), approve (the approver), clean (the
 * cleaner), from the --config file and the flags --signing, --approve, --approve-mode
 * and --cleanup, which override the file. Each of the three can be off; all three off
 * is refused.
 */
import { csrError, isCsrSignerError } from '../errors.js';
import { builtinSignerNames, isBuiltinSignerName, type ApproverConfig, type ApproverSignerConfig, type CleanupConfig, type SignerConfig } from '../signer/types.js';
import { approvableSigners, approverModes, policyApprovalProblem } from './approver.js';
import { defaultCleanup } from './cleanup.js';
import { Fields } from './fields.js';
import { readConfigDocument, type ConfigDocument } from './file.js';
import { choiceFlag } from './flag-values.js';
import type { RunFlags } from './flags.js';
import { signersFromFlags, signingFlagsGiven } from './kcm-flags.js';
import { signerNameIssue } from './signer-entry.js';
import type { ReadFile } from './types.js';

export interface Work {
  readonly signers: SignerConfig[];
  readonly signing: boolean;
  readonly approver?: ApproverConfig;
  readonly cleanup?: CleanupConfig;
}

function readDocument(flags: RunFlags, file: string, readFile: ReadFile): ConfigDocument {
  const clashing = signingFlagsGiven(flags);
  if (clashing.length > 0) {
    throw csrError('InvalidArgument', `--config cannot be combined with ${clashing.join(', ')}: the config file defines every signer, with its own CA files`);
  }
  let text;
  try {
    text = readFile(file, 'config');
  } catch (e) {
    if (isCsrSignerError(e)) throw e;
    throw csrError('InvalidArgument', `--config: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return readConfigDocument(file, text, flags.booleans.signing);
}

/**
 * --signing=false with no CA flag: nothing is signed; --signer-name (built-in names
 * only) narrows which kubelet signers --approve approves.
 */
function namesWithoutCa(flags: RunFlags): readonly string[] {
  flags.signerNames.forEach((name, i) => {
    const issue = signerNameIssue(name);
    if (issue !== undefined) throw csrError('InvalidArgument', `--signer-name: ${issue}`);
    if (flags.signerNames.indexOf(name) !== i) throw csrError('InvalidArgument', `--signer-name ${name} is given twice`);
    if (!isBuiltinSignerName(name)) {
      throw csrError('InvalidArgument', `--signer-name ${name}: with --signing=false and no CA flag, --signer-name picks the kubernetes.io/* signers --approve approves; a custom signer is approved by its policy, which needs --config`);
    }
  });
  return flags.signerNames.length > 0 ? flags.signerNames : builtinSignerNames;
}

/** The entries --approve turns on when nothing lists them: every signer with a profile (the rest is left out; see approvableSigners). */
function approveAll(names: readonly string[], signers: readonly SignerConfig[], file: string | undefined): ApproverSignerConfig[] {
  // A signer that serves no CSRs (certificateSigningRequests: false) has nothing to approve.
  const { entries, leftOut } = approvableSigners(names.filter((name) => signers.find((s) => s.name === name)?.certificateSigningRequests !== false));
  for (const entry of entries) {
    if (entry.profile !== 'policy') continue;
    const at = signers.findIndex((s) => s.name === entry.signerName);
    const signer = signers[at];
    if (file === undefined || signer === undefined) {
      throw csrError('InvalidArgument', `--approve cannot approve --signer-name ${entry.signerName}: a command-line signer has no policy (--signer-unrestricted), so nothing says who gets which names; define it in a --config file with a policy and an approver: entry`);
    }
    const problem = policyApprovalProblem(signer, at, undefined);
    if (problem !== undefined) throw csrError('InvalidArgument', `--approve approves every signer of ${file} (it has no approver: section), and ${problem}`);
  }
  if (entries.length === 0 && leftOut.length === 0) {
    throw csrError('InvalidArgument', `--approve has no signer to approve: ${file ?? 'the command line'} lists none; name them in an approver: section (e.g. kubernetes.io/kubelet-serving)`);
  }
  if (entries.length === 0) {
    throw csrError('InvalidArgument', `--approve has no signer to approve: ${leftOut.map((l) => l.signerName).join(' and ')} ${leftOut.length === 1 ? 'is' : 'are'} never auto-approved, as kube-controller-manager never auto-approves ${leftOut.length === 1 ? 'it' : 'them'}`);
  }
  return entries;
}

/**
 * Why a flag given with signing off is refused, or undefined: each describes what a
 * signer loads or issues, and with signing off nothing is loaded or issued, so it would
 * be silently unused. `offBy` says what turned signing off.
 */
function signingOnlyFlagProblem(flags: RunFlags, offBy: string): string | undefined {
  for (const name of Object.keys(flags.values)) {
    if (name === 'cluster-signing-duration') return `--cluster-signing-duration bounds the certificates a signer issues, and with ${offBy} nothing is issued: drop it`;
    if (name.startsWith('cluster-signing-')) return `--${name} names a CA file, and with ${offBy} no CA is loaded: drop it`;
    if (name === 'ca-key-passphrase-file') return `--ca-key-passphrase-file unlocks a CA key, and with ${offBy} no CA is loaded: drop it`;
    if (name.startsWith('pkcs11-')) return `--${name} reaches a CA key on a PKCS#11 token, and with ${offBy} no CA is loaded: drop it`;
  }
  const record = flags.values['rotation-record'];
  if (record !== undefined && record !== '') return `--rotation-record records what a signer issues, and with ${offBy} nothing is issued: drop it`;
  return undefined;
}

/** The signers, signing, approver and cleaner `flags` and the config file describe. */
export function readWork(flags: RunFlags, readFile: ReadFile): Work {
  const file = flags.values.config;
  const doc = file === undefined ? undefined : readDocument(flags, file, readFile);
  const signing = flags.booleans.signing ?? doc?.signing ?? true;
  if (!signing) {
    const problem = signingOnlyFlagProblem(flags, flags.booleans.signing === false ? '--signing=false' : 'signing: false');
    if (problem !== undefined) throw csrError('InvalidArgument', problem);
    if (doc === undefined && flags.booleans['signer-unrestricted'] !== undefined) throw csrError('InvalidArgument', '--signer-unrestricted describes what a signer signs, and --signing=false signs nothing: drop it');
  }
  const withoutCa = doc === undefined && !signing;
  const signers = doc?.signers ?? (withoutCa ? [] : signersFromFlags(flags));
  const approve = flags.booleans.approve;
  let approver = approve === false ? undefined : doc?.approver;
  if (approver === undefined && approve === true) {
    const names = withoutCa ? namesWithoutCa(flags) : signers.map((s) => s.name);
    approver = { mode: 'enforce', signers: approveAll(names, signers, file) };
  }
  const mode = flags.values['approve-mode'];
  if (mode !== undefined) {
    if (approver === undefined) throw csrError('InvalidArgument', '--approve-mode applies to the approver, which is off: add --approve (or an approver: section to the config file)');
    approver = { ...approver, mode: choiceFlag(flags.values, 'approve-mode', approverModes, 'enforce') };
  }
  // The cleaner deletes, and audit mode writes nothing, so the cleaner comes only with an enforcing approver.
  if (withoutCa && approver === undefined && flags.signerNames.length > 0) {
    throw csrError('InvalidArgument', '--signer-name picks the signers --approve approves, and with --signing=false and the approver off it picks nothing: add --approve, or drop it');
  }
  const cleaning = flags.booleans.cleanup ?? doc?.cleanup.enabled ?? approver?.mode === 'enforce';
  const ages = doc?.cleanup.written;
  if (!cleaning && ages !== undefined && flags.booleans.cleanup === undefined && doc?.cleanup.enabled === undefined && approver === undefined) {
    throw new Fields(file ?? '').fail('cleanup', `ages are given (${ages.join(', ')}) but the cleaner is off: set cleanup.enabled: true, or turn on the approver`);
  }
  if (!signing && approver === undefined && !cleaning) {
    throw csrError('InvalidArgument', `signing is off (${flags.booleans.signing === false ? '--signing=false' : 'signing: false'}) and neither the approver nor the cleaner is on, so csr-signer would do nothing: add --approve or --cleanup (or approver: or cleanup: to the config file), or leave signing on`);
  }
  return {
    signers, signing,
    ...(approver === undefined ? {} : { approver }),
    ...(cleaning ? { cleanup: doc?.cleanup.ages ?? defaultCleanup } : {}),
  };
}
