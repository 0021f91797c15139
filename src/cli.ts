#!/usr/bin/env node
/** The csr-signer command: dispatches to a subcommand. */
import { readFileSync } from 'node:fs';
import { readBoundedText } from './files.js';
import { reportCommandError } from './commands/exit.js';
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

From a clone: ./csr-signer COMMAND (runs dist/cli.js, which "npm ci" builds; offline).
In the image: csr-signer is the entrypoint and on the PATH.
Documentation: README.md and docs/ in the csr-signer repository.
`;

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
      case 'dev':
      case 'devapi': {
        // A development tool, not part of the image: loaded on demand from dist-dev/.
        const { runDevelopmentCommand } = await import('./commands/development.js');
        return await runDevelopmentCommand(command, rest, out, err);
      }
      default:
        err.write(`csr-signer: unknown command "${command}"\n\n${mainUsage}`);
        return 2;
    }
  } catch (e) {
    return reportCommandError(e, err);
  }
}

process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr);
