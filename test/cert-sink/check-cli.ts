/**
 * `check-cli.ts <sink dir> <minimum from tests> <minimum from started processes>`:
 * runs the sink's check (check.ts) and prints its report; exits 1 when it fails.
 * test/cert-sink/run.js runs it, with tap's TypeScript loader, after the tests.
 */
import { checkSink, formatReport, passed } from './check.js';

const [dir, minTests, minChildren] = process.argv.slice(2);
const count = (s: string | undefined): number => (s !== undefined && /^\d+$/.test(s) ? Number(s) : Number.NaN);
if (dir === undefined || Number.isNaN(count(minTests)) || Number.isNaN(count(minChildren))) {
  process.stderr.write('usage: check-cli.ts <sink dir> <minimum from tests> <minimum from started processes>\n');
  process.exit(2);
}
const started = performance.now();
try {
  const report = await checkSink(dir, { fromTests: count(minTests), fromChildren: count(minChildren) });
  process.stdout.write(`${formatReport(report)}\ncert-sink: checked in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.exitCode = passed(report) ? 0 : 1;
} catch (e) {
  // No go, an oracle that timed out, an unreadable directory: one line, and the run fails.
  process.stdout.write(`cert-sink: the check could not run: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
