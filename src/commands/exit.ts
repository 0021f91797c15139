/** How a command's error becomes one line on stderr and an exit code. */
import { isCsrSignerError, type ErrorName } from '../errors.js';

/** Exit 2: the command line is wrong, or a file it names cannot be read (as for a missing file). */
const usageErrors: ReadonlySet<ErrorName> = new Set<ErrorName>(['InvalidArgument', 'InvalidDuration', 'InvalidConfig', 'FileTooLarge', 'FileReadTimeout']);

/** Writes a csr-signer error as one sentence with its code and returns the exit code; rethrows anything else. */
export function reportCommandError(e: unknown, err: NodeJS.WritableStream): number {
  if (!isCsrSignerError(e)) throw e;
  err.write(`csr-signer: ${e.message} [${e.code}]\n`);
  return usageErrors.has(e.kind) ? 2 : 1;
}
