/**
 * One loaded PKCS#11 module per file in the process. C_Initialize may be called once per
 * process for a module (PKCS#11 v2.40 section 5.4), so every provider on the same module
 * shares this object: the first one loads and initialises it, the last one to close
 * finalises and unloads it.
 *
 * Re-initialising is how a module finds a token that came back: SoftHSM2, for one, keeps
 * the old slot's handles invalid after its token directory returns, and only a C_Finalize
 * plus C_Initialize makes it read the token again. Every provider on the module then finds
 * its handles invalid and reconnects, as after any outage; `generation` tells a provider
 * whether someone else has re-initialised since it last looked.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { csrError, csrErrorWithCause } from '../errors.js';
import { CK, ckr, describeFailure, loadBinding, type Pkcs11Library } from './binding.js';

/** Keyed by the file's real path: two spellings of one library (a symlink) load it once, so one C_Finalize cannot end the other's. */
const modules = new Map<string, Pkcs11Module>();

function moduleKey(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // missing: acquire says so below
  }
}

export class Pkcs11Module {
  /** Bumped at each re-initialisation: handles from an older generation are invalid. */
  generation = 0;
  #users = 0;
  #inFlight = 0;
  #drained: (() => void)[] = [];
  #reinitializing: Promise<void> | undefined;

  private constructor(readonly path: string, readonly library: Pkcs11Library, readonly key: string) {}

  /** The module at `path`, loaded and initialised on first use; each acquire needs one release. */
  static acquire(path: string, loadName?: string): Pkcs11Module {
    const key = isAbsolute(path) ? moduleKey(path) : path;
    let module = modules.get(key);
    if (module === undefined) {
      if (!isAbsolute(path)) throw csrError('Pkcs11ModuleInvalid', path, 'the path is not absolute');
      if (!existsSync(path)) throw csrError('Pkcs11ModuleInvalid', path, 'no such file');
      if (!statSync(path).isFile()) throw csrError('Pkcs11ModuleInvalid', path, 'not a file');
      const binding = loadBinding(loadName);
      const library = new binding.PKCS11();
      try {
        library.load(path);
      } catch (error) {
        throw csrErrorWithCause(error, 'Pkcs11ModuleInvalid', path, `it is not a PKCS#11 module (${describeFailure(error)})`);
      }
      try {
        initialize(library);
      } catch (error) {
        try {
          library.close();
        } catch {
          // Nothing more to release.
        }
        throw csrErrorWithCause(error, 'Pkcs11ModuleInvalid', path, `C_Initialize failed with ${describeFailure(error)}`);
      }
      module = new Pkcs11Module(path, library, key);
      modules.set(key, module);
    }
    module.#users++;
    return module;
  }

  /**
   * Runs a token operation with handles of `generation`, counted so that a re-initialisation
   * waits for it. A re-initialisation in progress goes first (else a busy module would never
   * drain); after one, the caller's handles are of an old generation and must not be used: the
   * module hands out the same numbers again (SoftHSM2 restarts at 1), so an old key handle may
   * name another provider's key. The operation is then refused with CKR_CRYPTOKI_NOT_INITIALIZED
   * (a code meaning "gone": the provider reconnects).
   */
  async track<T>(generation: number, operation: () => Promise<T>): Promise<T> {
    if (this.#reinitializing !== undefined) await this.#reinitializing.catch(() => undefined);
    if (generation !== this.generation) throw new Error('CKR_CRYPTOKI_NOT_INITIALIZED: the module was re-initialised');
    this.#inFlight++;
    try {
      return await operation();
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const resolve of this.#drained.splice(0)) resolve();
    }
  }

  /**
   * C_Finalize and C_Initialize, once for everyone who saw `generation` fail: a caller
   * whose generation is already old finds the module re-initialised and does nothing.
   * Waits for operations in flight (they are failing anyway) so that none runs across it.
   */
  async reinitialize(seen: number): Promise<void> {
    if (seen !== this.generation) return;
    if (this.#reinitializing !== undefined) return this.#reinitializing;
    this.#reinitializing = (async () => {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
      try {
        this.library.C_Finalize();
      } catch {
        // Not initialised any more, or the device is gone: initialising again is what matters.
      }
      this.generation++;
      initialize(this.library);
    })();
    try {
      await this.#reinitializing;
    } finally {
      this.#reinitializing = undefined;
    }
  }

  /** One user fewer; the last one finalises and unloads the module. */
  release(): void {
    if (--this.#users > 0) return;
    modules.delete(this.key);
    try {
      this.library.C_Finalize();
    } catch {
      // Already finalised (a failed re-initialisation).
    }
    try {
      this.library.close();
    } catch {
      // Nothing more to release.
    }
  }
}

function initialize(library: Pkcs11Library): void {
  try {
    library.C_Initialize({ flags: CK.CKF_OS_LOCKING_OK });
  } catch (error) {
    // Another library in this process (a second copy of the binding) initialised it first.
    if (ckr(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw error;
  }
}
