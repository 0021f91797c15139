/**
 * Signers from kube-controller-manager's --cluster-signing-* flags, with its
 * combination rules and messages (kubernetes/kubernetes cmd/kube-controller-manager/app/options/csrsigningcontroller.go
 * Validate and app/certificates.go), plus csr-signer's --signer-name and
 * --ca-key-passphrase-file. One difference: with no signing flag at all
 * kube-controller-manager starts no signer; csr-signer refuses to start.
 */
import { csrError } from '../errors.js';
import { isPkcs11Uri } from '../hsm/uri.js';
import { builtinSignerNames, isBuiltinSignerName, type BuiltinSignerName, type Pkcs11Settings, type SignerConfig } from '../signer/types.js';
import { durationFlag } from './flag-values.js';
import type { RunFlags } from './flags.js';
import { checkPkcs11, checkUri } from './pkcs11.js';
import { unboundedPolicyRisk, unrestrictedPolicy } from './policy.js';
import { signerNameIssue } from './signer-entry.js';

/** Each per-signer pair: its flag stem and its signer. */
export const perSignerFlags: readonly { readonly stem: string; readonly signer: BuiltinSignerName }[] = [
  { stem: 'cluster-signing-kubelet-serving', signer: 'kubernetes.io/kubelet-serving' },
  { stem: 'cluster-signing-kubelet-client', signer: 'kubernetes.io/kube-apiserver-client-kubelet' },
  { stem: 'cluster-signing-kube-apiserver-client', signer: 'kubernetes.io/kube-apiserver-client' },
  { stem: 'cluster-signing-legacy-unknown', signer: 'kubernetes.io/legacy-unknown' },
];

export const commandLine = 'command line';

/**
 * kube-controller-manager's message for a half-given pair, prefixed with the quoted
 * stem as it does (it labels the kubelet-client and kube-apiserver-client pairs with
 * the wrong stem; csr-signer names the right one), and the flag to add.
 */
function pairProblem(values: RunFlags['values'], stem: string): string | undefined {
  const cert = values[`${stem}-cert-file`];
  const key = values[`${stem}-key-file`];
  if (cert === undefined && key !== undefined) return `"${stem}": cannot specify key without cert (add --${stem}-cert-file)`;
  if (cert !== undefined && key === undefined) return `"${stem}": cannot specify cert without key (add --${stem}-key-file)`;
  return undefined;
}

const noSigner = 'no signer to run: pass --cluster-signing-cert-file and --cluster-signing-key-file '
  + '(the kubernetes.io/* signers, or with --signer-name NAME a signer of your own), '
  + 'per-signer --cluster-signing-*-{cert,key}-file pairs, or --config FILE';

/** The signers the --cluster-signing-* and --signer-name flags describe (not with --config). */
export function signersFromFlags(flags: RunFlags): SignerConfig[] {
  const { values, signerNames } = flags;
  const problems = perSignerFlags.map(({ stem }) => pairProblem(values, stem)).filter((p) => p !== undefined);
  const generic = values['cluster-signing-cert-file'] !== undefined || values['cluster-signing-key-file'] !== undefined;
  const specific = perSignerFlags.some(({ stem }) => values[`${stem}-cert-file`] !== undefined || values[`${stem}-key-file`] !== undefined);
  if (generic && specific) problems.push('cannot specify --cluster-signing-{cert,key}-file and other --cluster-signing-*-file flags at the same time');
  if (generic && !specific) {
    const problem = pairProblem(values, 'cluster-signing');
    if (problem !== undefined) problems.push(problem);
  }
  if (problems.length > 0) throw csrError('InvalidArgument', problems.join('; '));
  if (!generic && !specific) throw csrError('InvalidArgument', signerNames.length > 0 ? `--signer-name needs --cluster-signing-cert-file and --cluster-signing-key-file: the CA that signs` : noSigner);
  if (specific && signerNames.length > 0) {
    throw csrError('InvalidArgument', '--signer-name needs --cluster-signing-cert-file and --cluster-signing-key-file; the per-signer --cluster-signing-*-file pairs serve only their kubernetes.io/* signer');
  }
  const unrestricted = flags.booleans['signer-unrestricted'] ?? false;
  const firstCustom = signerNames.find((name) => !isBuiltinSignerName(name));
  if (unrestricted && firstCustom === undefined) throw csrError('InvalidArgument', '--signer-unrestricted applies to custom --signer-name signers, and none is given (the kubernetes.io/* signers keep their built-in rules)');

  const durationMs = durationFlag(values, 'cluster-signing-duration', '8760h');
  const passphrase = values['ca-key-passphrase-file'];
  const pkcs11 = pkcs11FromFlags(values);
  const signer = (name: string, certFile: string, key: string): SignerConfig => ({
    name,
    source: commandLine,
    ca: {
      certFile,
      ...(isPkcs11Uri(key) ? { keyUri: key.trim() } : { keyFile: key }),
      ...(passphrase === undefined || isPkcs11Uri(key) ? {} : { passphraseFile: passphrase }),
      ...(pkcs11 === undefined ? {} : { pkcs11 }),
    },
    defaultDurationMs: durationMs,
    maxDurationMs: durationMs,
    includeChain: false,
    ...(isBuiltinSignerName(name) ? {} : { policy: unrestrictedPolicy }),
  });

  if (specific) {
    return perSignerFlags.flatMap(({ stem, signer: name }) => {
      const cert = values[`${stem}-cert-file`];
      const key = values[`${stem}-key-file`];
      return cert === undefined || key === undefined ? [] : [signer(name, cert, key)];
    });
  }
  const cert = values['cluster-signing-cert-file'] as string;
  const key = values['cluster-signing-key-file'] as string;
  const names = signerNames.length > 0 ? signerNames : builtinSignerNames;
  names.forEach((name, i) => {
    const issue = signerNameIssue(name);
    if (issue !== undefined) throw csrError('InvalidArgument', `--signer-name: ${issue}`);
    if (names.indexOf(name) !== i) throw csrError('InvalidArgument', `--signer-name ${name} is given twice`);
  });
  if (firstCustom !== undefined && !unrestricted) {
    throw csrError('InvalidArgument', `--signer-name ${firstCustom} has no policy on the command line, so ${unboundedPolicyRisk}: `
      + 'define it in a --config file with a policy (dnsNames, ipRanges), or add --signer-unrestricted to say that is meant');
  }
  return names.map((name) => signer(name, cert, key));
}

const pkcs11Flags = ['pkcs11-module', 'pkcs11-pin-file', 'pkcs11-pin-env'] as const;

/**
 * The PKCS#11 module and PIN of the key-file flags: for those whose value is a `pkcs11:`
 * URI, and for plain key files too when the --pkcs11-* flags are given (a key file may come
 * to hold a URI in a rotation to a token key, as ca.pkcs11 beside keyFile allows); undefined
 * when no key is a URI and no --pkcs11-* flag is given. The --pkcs11-* flags are refused
 * without a key-file flag, and --ca-key-passphrase-file when every key is a URI (it would
 * unlock nothing).
 */
function pkcs11FromFlags(values: RunFlags['values']): Pkcs11Settings | undefined {
  const keyFlags = ['cluster-signing', ...perSignerFlags.map((p) => p.stem)].map((stem) => `${stem}-key-file`).filter((flag) => values[flag] !== undefined);
  const uriFlags = keyFlags.filter((flag) => isPkcs11Uri(values[flag] ?? ''));
  const given = pkcs11Flags.filter((flag) => values[flag] !== undefined);
  if (uriFlags.length === 0 && given.length === 0) return undefined;
  if (keyFlags.length === 0) {
    throw csrError('InvalidArgument', `--${given[0] ?? ''} is for a CA key on a PKCS#11 token, and no --cluster-signing-*-key-file is given: drop it, or give the key as pkcs11:token=…;object=… (or a key file that may come to hold such a URI)`);
  }
  if (values['ca-key-passphrase-file'] !== undefined && uriFlags.length > 0 && uriFlags.length === keyFlags.length) {
    throw csrError('InvalidArgument', `--ca-key-passphrase-file unlocks an encrypted key file, and --${uriFlags[0] ?? ''} is on a PKCS#11 token: drop it`);
  }
  const uris = uriFlags.map((flag) => {
    const checked = checkUri(values[flag] ?? '', 'private');
    if ('problem' in checked) throw csrError('InvalidArgument', `--${flag} ${checked.problem}`);
    return checked.value;
  });
  const module = values['pkcs11-module'];
  const pinFile = values['pkcs11-pin-file'];
  const pinEnv = values['pkcs11-pin-env'];
  const checked = checkPkcs11(
    { ...(module === undefined ? {} : { module }), ...(pinFile === undefined ? {} : { pinFile }), ...(pinEnv === undefined ? {} : { pinEnv }) },
    uris, { module: '--pkcs11-module', pinFile: '--pkcs11-pin-file', pinEnv: '--pkcs11-pin-env', uri: `--${uriFlags[0] ?? keyFlags[0] ?? ''}` }, (path) => path,
  );
  if ('problem' in checked) throw csrError('InvalidArgument', `${checked.field ?? '--pkcs11-module'} ${checked.problem}`);
  return checked.value;
}

/** The --cluster-signing-* and --signer-name flags given, which --config may not be combined with. */
export function signingFlagsGiven(flags: RunFlags): string[] {
  const given = Object.keys(flags.values).filter((name) => name.startsWith('cluster-signing-') || name === 'ca-key-passphrase-file' || name.startsWith('pkcs11-'));
  return [...given, ...(flags.signerNames.length > 0 ? ['signer-name'] : []), ...(flags.booleans['signer-unrestricted'] === undefined ? [] : ['signer-unrestricted'])].map((name) => `--${name}`);
}
