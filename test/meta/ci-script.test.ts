/**
 * .ci/run runs under `set -o pipefail` and `set -e`: a pipe into `head` ends the script at
 * random, since head exits after its first line and the command still writing gets SIGPIPE
 * (exit 141), which pipefail makes the pipeline's status. It happened: a fresh-clone CI
 * stopped silently after printing make's version line. `sed -n 1p` reads its input to the end.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

const script = readFileSync(join(import.meta.dirname, '..', '..', '.ci', 'run'), 'utf8');

void t.test('.ci/run pipes into nothing that stops reading early', (t) => {
  t.match(script, /^set -euo pipefail$/m, 'the script runs with pipefail');
  const lines = script.split('\n').map((line, i) => ({ line, at: i + 1 })).filter(({ line }) => !line.trimStart().startsWith('#'));
  const early = lines.filter(({ line }) => /\|\s*(head|grep -q|grep -m)\b/.test(line));
  t.same(early.map(({ at, line }) => `${at}: ${line.trim()}`), [], 'no | head, | grep -q or | grep -m');
  t.end();
});
