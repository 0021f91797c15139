/** A directory laid out like a mounted Kubernetes Secret: files are symlinks into ..data, swapped in one rename. */
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tools.js';

/** Puts a pair in place the way the kubelet updates a mounted Secret: a new directory, then one symlink swap. */
export function installPair(dir: string, cert: string | Buffer, key: string | Buffer): void {
  installFiles(dir, { 'tls.crt': cert, 'tls.key': key });
}

/** A new Secret-like directory holding tls.crt and tls.key. */
export function secretDir(cert: string, key: string): string {
  return secretDirWith({ 'tls.crt': cert, 'tls.key': key });
}

/** Puts any set of files in place in one symlink swap, as the kubelet does for a Secret with more keys. */
export function installFiles(dir: string, files: Readonly<Record<string, string | Buffer>>): void {
  const version = join(dir, `..${Date.now()}_${Math.random().toString(36).slice(2)}`);
  mkdirSync(version);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(version, name), content);
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
}

/** A new Secret-like directory holding these files (each a symlink into ..data). */
export function secretDirWith(files: Readonly<Record<string, string | Buffer>>): string {
  const dir = tempDir('secret-');
  installFiles(dir, files);
  for (const name of Object.keys(files)) symlinkSync(`..data/${name}`, join(dir, name));
  return dir;
}
