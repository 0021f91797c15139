/** How a command's error becomes one line on stderr and an exit code. */
import { csrError, isCsrSignerError, type CsrSignerError, type ErrorName } from '../errors.js';

/** Exit 2: the command line is wrong, or a file it names cannot be read (as for a missing file). */
const usageErrors: ReadonlySet<ErrorName> = new Set<ErrorName>(['InvalidArgument', 'InvalidDuration', 'InvalidConfig', 'FileTooLarge', 'FileReadTimeout']);

/** Writes a csr-signer error as one sentence with its code and returns the exit code; rethrows anything else. */
export function reportCommandError(e: unknown, err: NodeJS.WritableStream): number {
  if (!isCsrSignerError(e)) throw e;
  err.write(`csr-signer: ${e.message} [${e.code}]\n`);
  return usageErrors.has(e.kind) ? 2 : 1;
}

/**
 * A `node:util` parseArgs error of `csr-signer <command>` as one sentence that says
 * what is wrong and where the flags are listed, as `csr-signer run` says it.
 */
export function flagError(command: string, e: unknown): CsrSignerError {
  const message = (e as Error).message;
  const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
  if (unknown !== undefined) return csrError('InvalidArgument', `unknown flag ${unknown} (csr-signer ${command} --help lists the flags)`);
  const stray = /^Unexpected argument '([^']*)'/.exec(message)?.[1];
  if (stray !== undefined) return csrError('InvalidArgument', `unexpected argument ${JSON.stringify(stray)}: csr-signer ${command} takes only flags (csr-signer ${command} --help)`);
  const valueless = /^Option '(-[^ ']+)(?: <value>)?' argument missing/.exec(message)?.[1];
  if (valueless !== undefined) return csrError('InvalidArgument', `${valueless} needs a value (csr-signer ${command} --help)`);
  return csrError('InvalidArgument', `${message} (csr-signer ${command} --help)`);
}

/** Why a listen failed, in words, for the common causes. */
const listenCauses: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use (EADDRINUSE); stop what listens there or choose another port (0 picks a free one)',
  EACCES: 'permission denied (EACCES): a port below 1024 needs privileges',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s (EADDRNOTAVAIL)',
};

/** A server that could not listen on `address` (given by `flag`) as one sentence. */
export function listenError(flag: string, address: string, e: unknown): CsrSignerError {
  const code = (e as NodeJS.ErrnoException).code;
  return csrError('InvalidArgument', `cannot listen on ${address} (${flag}): ${(code === undefined ? undefined : listenCauses[code]) ?? code ?? (e as Error).message}`);
}
