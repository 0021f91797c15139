// `npm run bench`: `npm run build`, then every part of the bench, one after the other, then one
// summary of the performance targets each part checked, with the figure and PASS/FAIL, the time
// each part took and the total wall time.
//
// BENCH_NODE=/path/to/node runs every part, and the processes each part starts (devapi, the
// signer, Go's check of the certificates), on that Node instead of the one running this script
// (`npm run bench` runs the pinned one, the image's release). See README.md.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { scratch } from './launch.js';
import { machineBusySeconds, processCpuSeconds } from './measure.js';

const parts = ['run.js', 'devapi.js', 'signer.js', 'scale.js', 'hsm.js'];
const node = process.env.BENCH_NODE || process.execPath;
const out = (line = '') => process.stdout.write(`${line}\n`);
const { dir } = scratch('csr-signer-bench-all-');
const summaryFile = join(dir, 'targets.jsonl');

/** Runs a command with its output passed through; resolves to { code, seconds }. */
function timed(cmd, args, env = process.env) {
  const t0 = Date.now();
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code: code ?? signal, seconds: (Date.now() - t0) / 1000 })));
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const version = await new Promise((resolve) => {
  const child = spawn(node, ['-p', 'process.version + " (OpenSSL " + process.versions.openssl + ")"'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d) => { text += d; });
  child.once('exit', () => resolve(text.trim()));
});
const started = Date.now();
// The machine's busy time minus this process and everything it started and waited for (the parts, and
// through them devapi, the signers, Go, openssl, cfssl): what other processes took while the bench ran.
const busy0 = machineBusySeconds() - processCpuSeconds();
out(`# npm run bench: ${parts.join(', ')} on node ${version} (${node}); load average at start ${load()}`);
out();
const build = await timed('npm', ['run', 'build']);
if (build.code !== 0) {
  out(`npm run build failed (exit ${build.code})`);
  process.exit(1);
}
const times = [{ part: 'build', ...build }];
for (const part of parts) {
  const r = await timed(node, [join(import.meta.dirname, part)], { ...process.env, BENCH_SUMMARY_FILE: summaryFile });
  times.push({ part, ...r });
  out();
  out(`(bench/${part}: ${r.seconds.toFixed(0)} s${r.code === 0 ? '' : `, exit ${r.code}`})`);
  out();
}

let targets = [];
try {
  targets = readFileSync(summaryFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
} catch { /* no part reported a target */ }
const verdict = (pass) => (pass === true ? 'PASS' : pass === false ? 'FAIL' : 'NOT MEASURED');
out(`# Summary: node ${version}`);
out();
out('| Part | Target | Measured | |');
out('|---|---|---|---|');
for (const t of targets) out(`| ${t.bench} | ${t.target} | ${t.figure} | ${verdict(t.pass)} |`);
out();
out(`Targets: ${targets.filter((t) => t.pass === true).length} PASS, ${targets.filter((t) => t.pass === false).length} FAIL, ` +
  `${targets.filter((t) => t.pass !== true && t.pass !== false).length} not measured.`);
out(`Time per part: ${times.map((t) => `${t.part} ${t.seconds.toFixed(0)} s${t.code === 0 ? '' : ` (exit ${t.code})`}`).join(', ')}.`);
const wall = (Date.now() - started) / 1000;
out(`Other processes kept ${((machineBusySeconds() - processCpuSeconds() - busy0) / wall).toFixed(2)} cores busy on average during the bench ` +
  '(the machine\'s busy time minus the bench\'s own processes); the figures above are comparable only when that is near 0.');
out(`load average at end: ${load()}; total wall time ${((Date.now() - started) / 1000).toFixed(0)} s ` +
  `(${((Date.now() - started) / 60_000).toFixed(1)} min, the build included)`);
if (times.some((t) => t.code !== 0)) process.exitCode = 1;
