#!/usr/bin/env node
/** The csr-signer command: dispatches to a subcommand. */
import { readFileSync } from 'node:fs';
import { isCsrSignerError, type ErrorName } from './errors.js';
import { readBoundedText } from './files.js';
import { runSign, signUsage } from './commands/sign.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const mainUsage = `csr-signer ${version}: a Kubernetes CertificateSigningRequest signer

Usage:
  csr-signer run [options]  the signer: watch approved CSRs and issue their certificates
                           (docs/configuration.md)
  csr-signer rotation status [run flags]
                           the phase of a CA rotation per signer, and when an old CA can go
                           (docs/ca-rotation.md)
  csr-signer dev           the demo: devapi and the signer together on 127.0.0.1 (npm start)
  csr-signer sign --ca-cert FILE --ca-key FILE --csr FILE [options]
                           issue one certificate offline, like "cfssl sign"
  csr-signer devapi --state-dir DIR [options]
                           a development Kubernetes API server on 127.0.0.1 (docs/devapi.md)
  csr-signer --help        this help; "csr-signer COMMAND --help" for a command
  csr-signer --version     the version

Documentation: README.md and docs/ in the csr-signer repository.
`;

/** Exit 2: the command line is wrong, or a file it names cannot be read (as for a missing file). */
const usageErrors: ReadonlySet<ErrorName> = new Set<ErrorName>(['InvalidArgument', 'InvalidDuration', 'InvalidConfig', 'FileTooLarge', 'FileReadTimeout']);

/** Runs the command line; returns the exit code. Streams are parameters so tests can drive it. */
export async function main(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        out.write(mainUsage);
        return command === undefined ? 2 : 0;
      case '--version':
        out.write(`${version}\n`);
        return 0;
      case 'sign':
        if (rest.includes('--help') || rest.includes('-h')) {
          out.write(signUsage);
          return 0;
        }
        return await runSign(rest, out);
      case 'run': {
        const [{ runUsage }, { runRun }] = await Promise.all([import('./config/index.js'), import('./commands/run.js')]);
        if (rest.includes('--help') || rest.includes('-h')) {
          out.write(runUsage);
          return 0;
        }
        return await runRun(rest, readBoundedText);
      }
      case 'rotation': {
        const { rotationUsage, runRotation } = await import('./commands/rotation.js');
        if (rest.includes('--help') || rest.includes('-h')) {
          out.write(rotationUsage);
          return 0;
        }
        return await runRotation(rest, readBoundedText, out, err);
      }
      case 'dev': {
        const { devUsage, runDev } = await import('./commands/dev.js');
        if (rest.includes('--help') || rest.includes('-h')) {
          out.write(devUsage);
          return 0;
        }
        return await runDev(rest, out);
      }
      case 'devapi': {
        // Loaded on demand: the signing commands never load the development server.
        const { devapiUsage, runDevapi } = await import('./commands/devapi.js');
        if (rest.includes('--help') || rest.includes('-h')) {
          out.write(devapiUsage);
          return 0;
        }
        return await runDevapi(rest, out, err);
      }
      default:
        err.write(`csr-signer: unknown command "${command}"\n\n${mainUsage}`);
        return 2;
    }
  } catch (e) {
    if (isCsrSignerError(e)) {
      err.write(`csr-signer: ${e.message} [${e.code}]\n`);
      return usageErrors.has(e.kind) ? 2 : 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr);
