/** A directory laid out like a mounted Kubernetes Secret: files are symlinks into ..data, swapped in one rename. */
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tools.js';

/** Puts a pair in place the way the kubelet updates a mounted Secret: a new directory, then one symlink swap. */
export function installPair(dir: string, cert: string | Buffer, key: string | Buffer): void {
  const version = join(dir, `..${Date.now()}_${Math.random().toString(36).slice(2)}`);
  mkdirSync(version);
  writeFileSync(join(version, 'tls.crt'), cert);
  writeFileSync(join(version, 'tls.key'), key);
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
}

/** A new Secret-like directory holding tls.crt and tls.key. */
export function secretDir(cert: string, key: string): string {
  const dir = tempDir('secret-');
  installPair(dir, cert, key);
  symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
  symlinkSync('..data/tls.key', join(dir, 'tls.key'));
  return dir;
}
