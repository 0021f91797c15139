/**
 * devapi's persistence: a snapshot (`state.json`) plus an append-only log of the changes
 * since (`state.log`, one JSON line per change). A change costs one line, written with the
 * others of the last interval, instead of a rewrite of every object; the log is folded into
 * a new snapshot on start, on stop, and when it grows past a bound. A process killed
 * without stopping loses only the lines not yet written (at most one interval's worth).
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventType, KubeObject } from './kube-object.js';

/** The snapshot's shape (unchanged from the state file of earlier versions). */
interface Snapshot {
  readonly rv: number;
  readonly objects: [string, string, KubeObject][];
}

interface LogLine {
  readonly rv: number;
  readonly type: EventType;
  readonly resource: string;
  readonly object: KubeObject;
}

export interface StoredEntry {
  readonly resource: string;
  readonly object: KubeObject;
}

export interface LoadedState {
  readonly rv: number;
  readonly entries: StoredEntry[];
}

/**
 * Reads the state files as text. The commands pass the product's bounded reader
 * (src/files.ts), so a state file past its size limit fails at once, with the message every
 * file csr-signer reads fails with.
 */
export type ReadStateText = (file: string, kind: 'devapiState') => string;

const readIfPresent = (readText: ReadStateText, file: string): string | undefined => {
  try {
    return readText(file, 'devapiState');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
};

export class StateLog {
  readonly #snapshotFile: string;
  readonly #logFile: string;
  #fd: number | undefined;
  #pending: string[] = [];
  /** Lines in the log file since the last snapshot. */
  #lines = 0;

  constructor(snapshotFile: string, private readonly readText: ReadStateText) {
    this.#snapshotFile = snapshotFile;
    this.#logFile = snapshotFile.replace(/\.json$/, '') + '.log';
  }

  /** The snapshot with the log replayed over it (lines at or below the snapshot's version were already in it). */
  load(keyOf: (resource: string, object: KubeObject) => string): LoadedState {
    const objects = new Map<string, StoredEntry>();
    let rv = 0;
    const snapshotText = readIfPresent(this.readText, this.#snapshotFile);
    if (snapshotText !== undefined) {
      const snapshot = JSON.parse(snapshotText) as Snapshot;
      rv = snapshot.rv;
      for (const [resource, , object] of snapshot.objects) objects.set(keyOf(resource, object), { resource, object });
    }
    const lines = (readIfPresent(this.readText, this.#logFile) ?? '').split('\n');
    for (const [i, text] of lines.entries()) {
      if (text === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch (e) {
        // Only the last line can be torn (a kill in the middle of a write); anything else is damage to report.
        if (lines.slice(i + 1).every((l) => l === '')) break;
        throw new Error(`${this.#logFile} line ${i + 1} is not JSON: ${(e as Error).message}`, { cause: e });
      }
      if (line.rv <= rv) continue;
      rv = line.rv;
      const key = keyOf(line.resource, line.object);
      if (line.type === 'DELETED') objects.delete(key);
      else objects.set(key, { resource: line.resource, object: line.object });
    }
    return { rv, entries: [...objects.values()] };
  }

  /** Queues one change; `objectJson` is the stored object already serialized (shared with watchers and responses). */
  append(rv: number, type: EventType, resource: string, objectJson: string): void {
    this.#pending.push(`{"rv":${rv},"type":"${type}","resource":${JSON.stringify(resource)},"object":${objectJson}}\n`);
  }

  /** Lines written since the last snapshot, counting the queued ones. */
  get size(): number {
    return this.#lines + this.#pending.length;
  }

  /** Appends the queued lines to the log in one write. */
  write(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#lines += this.#pending.length;
    this.#pending = [];
    if (this.#fd === undefined) {
      mkdirSync(dirname(this.#logFile), { recursive: true, mode: 0o700 });
      this.#fd = openSync(this.#logFile, 'a', 0o600);
      // open's mode applies only to a new file: a log left 0644 by an earlier run is narrowed too.
      fchmodSync(this.#fd, 0o600);
    }
    writeSync(this.#fd, text);
  }

  /**
   * Replaces the snapshot with `state` (atomically: write, then rename) and empties the log.
   * A kill between the two leaves log lines the new snapshot already holds: load skips them.
   */
  snapshot(state: LoadedState): void {
    this.#pending = [];
    const snapshot: Snapshot = { rv: state.rv, objects: state.entries.map((e) => [e.resource, e.object.metadata.name, e.object]) };
    mkdirSync(dirname(this.#snapshotFile), { recursive: true, mode: 0o700 });
    // The objects are the cluster's (ConfigMaps among them): the owner's only, as the tokens are.
    writeFileSync(`${this.#snapshotFile}.tmp`, JSON.stringify(snapshot), { mode: 0o600 });
    chmodSync(`${this.#snapshotFile}.tmp`, 0o600);
    renameSync(`${this.#snapshotFile}.tmp`, this.#snapshotFile);
    this.close();
    writeFileSync(this.#logFile, '', { mode: 0o600 });
    chmodSync(this.#logFile, 0o600);
    this.#lines = 0;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
