/**
 * A reused state directory is made the owner's only: mkdir's and open's modes apply only
 * to what they create, so a directory left 0755 and files left 0644 by an earlier run (or
 * made by hand) would keep every object, the tokens and the serving key readable by others.
 */
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { StateLog } from '../../../devapi/storage/state-log.js';

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** A new 0755 directory holding `files`, each 0644. */
function loose(files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'devapi-modes-')), 'state');
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o644);
  }
  return dir;
}

void t.test('devapi on a reused 0755 state directory with 0644 files leaves it 0700 and every file it keeps 0600', async (t) => {
  const dir = loose({ 'state.log': '', 'tokens.json': '{}', 'admin.kubeconfig': 'old' });
  const api = new DevApi({ stateDir: dir, readText: readBoundedText });
  t.equal(mode(dir), '700', 'the directory, as soon as devapi opens it');
  await api.start();
  await api.stop();
  for (const file of ['state.log', 'state.json', 'tokens.json', 'admin.kubeconfig', 'signer.kubeconfig', 'server-key.pem']) t.equal(mode(join(dir, file)), '600', file);
});

void t.test('devapi on a reused state directory whose tokens and key already exist narrows them too', async (t) => {
  const first = loose({});
  const api = new DevApi({ stateDir: first, readText: readBoundedText });
  await api.start();
  await api.stop();
  for (const file of ['tokens.json', 'server-key.pem']) chmodSync(join(first, file), 0o644);
  chmodSync(first, 0o755);
  const again = new DevApi({ stateDir: first, readText: readBoundedText });
  await again.start();
  await again.stop();
  t.equal(mode(first), '700', 'the directory');
  for (const file of ['tokens.json', 'server-key.pem']) t.equal(mode(join(first, file)), '600', `${file}, read and not rewritten`);
});

void t.test('the state log appended to between snapshots is narrowed when opened', (t) => {
  const dir = loose({ 'state.log': '' });
  const log = new StateLog(join(dir, 'state.json'), readBoundedText);
  log.append(1, 'ADDED', 'configmaps', '{"metadata":{"name":"a"}}');
  log.write();
  log.close();
  t.equal(mode(join(dir, 'state.log')), '600', 'state.log');
  t.end();
});
