/**
 * Duration flags are kube-controller-manager's: what Go's time.ParseDuration takes
 * (8760h, 1.5h, .5s, 1.h, +5s, 2562047h), csr-signer takes with the same value, and
 * what Go refuses (1e3s, 0x10s, " 5s", 2562048h, a missing unit) csr-signer refuses.
 * The one difference: a negative duration, which Go parses, means nothing for any
 * csr-signer flag or field and is refused. Go itself is the oracle, run on a fixed
 * table and on a seeded set of random strings.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseDuration } from '../src/duration.js';
import { needTool, tempDir } from './helpers/tools.js';

const table = [
  '8760h', '1h30m', '1.5h', '.5h', '1.h', '+5s', '+0', '-0', '-0s', '-0.0h', '-0m0s', '0', '00', '', '1', '1e3s', '0x10s', ' 5s', '5s ', '١s', '5S', '1d',
  '2562047h', '2562048h', '9007199254740993h', '1h-5m', '1hh', '.s', '5µs', '5μs', '300ms', '1h30m0.5s', '-1h', '+', '-', '1.5.5s',
  '0.0001ms', '1500000ns', '1us', '10m', '720h', '90s', '2h45m0.5s', '0s', '01h', '1_000s',
];

/** A seeded generator of strings from the characters durations are made of. */
function randomStrings(count: number, seed: number): string[] {
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % n;
  };
  const alphabet = ['0', '1', '5', '9', '.', '+', '-', 'h', 'm', 's', 'ms', 'us', 'ns', 'µs', 'e', ' ', 'x'];
  return Array.from({ length: count }, () => Array.from({ length: 1 + next(7) }, () => alphabet[next(alphabet.length)]).join(''));
}

const goSource = `package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var s string
		if err := json.Unmarshal(in.Bytes(), &s); err != nil {
			panic(err)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			fmt.Println("error")
		} else {
			fmt.Println(int64(d))
		}
	}
}
`;

void t.test('durations are read as Go reads them', (t) => {
  if (!needTool(t, 'go')) return t.end();
  const dir = tempDir('duration-go-');
  mkdirSync(join(dir, 'gocache'));
  writeFileSync(join(dir, 'main.go'), goSource);
  const inputs = [...table, ...randomStrings(400, 13)];
  const go = spawnSync('go', ['run', join(dir, 'main.go')], {
    input: `${inputs.map((s) => JSON.stringify(s)).join('\n')}\n`, encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GO111MODULE: 'off',
      // Go's own cache when there is a home for it; a throwaway one otherwise.
      ...(process.env.GOCACHE ?? process.env.XDG_CACHE_HOME ?? process.env.HOME ? {} : { GOCACHE: join(dir, 'gocache') }) },
  });
  t.equal(go.status, 0, go.stderr);
  const answers = go.stdout.trim().split('\n');
  t.equal(answers.length, inputs.length, 'Go answered each input');
  let agreed = 0;
  inputs.forEach((text, i) => {
    const answer = answers[i] ?? 'error';
    let ours: number | 'error';
    try {
      ours = parseDuration(text);
    } catch {
      ours = 'error';
    }
    const goNs = answer === 'error' ? undefined : BigInt(answer);
    if (goNs === undefined) {
      if (ours === 'error') agreed++;
      else t.fail(`${JSON.stringify(text)}: Go refuses it, csr-signer reads ${ours} ms`);
    } else if (goNs < 0n) {
      if (ours === 'error') agreed++;
      else t.fail(`${JSON.stringify(text)}: negative in Go, must be refused`);
    } else {
      // Go counts in integer nanoseconds, csr-signer in milliseconds (rounded down).
      const goMs = Number(goNs / 1_000_000n);
      if (ours !== 'error' && Math.abs(ours - goMs) <= (i < table.length ? 0 : 1)) agreed++;
      else t.fail(`${JSON.stringify(text)}: Go reads ${goMs} ms, csr-signer ${ours === 'error' ? 'refuses it' : `${ours} ms`}`);
    }
  });
  t.equal(agreed, inputs.length, `csr-signer and Go agree on all ${inputs.length} inputs`);
  t.end();
});
