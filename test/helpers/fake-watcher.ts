/** One open watch of an in-process fake API: events go to the caller; an error thrown by its handler, an abort or the fake ends it. */
export interface FakeWatcher<E> {
  readonly onEvent: (e: E) => void;
  readonly end: (error?: Error) => void;
}

/** Opens a watcher in `watchers` (with `extra` fields), settling the watch promise through `resolve`/`reject` when it ends. */
export function openWatcher<E, X extends object>(
  watchers: Set<FakeWatcher<E> & X>, extra: X, onEvent: (e: E) => void, signal: AbortSignal, resolve: () => void, reject: (e: Error) => void,
): FakeWatcher<E> & X {
  const watcher: FakeWatcher<E> & X = {
    ...extra,
    onEvent: (e: E) => {
      try {
        onEvent(e);
      } catch (error) {
        watcher.end(error as Error);
      }
    },
    end: (error?: Error) => {
      watchers.delete(watcher);
      if (error) reject(error);
      else resolve();
    },
  };
  signal.addEventListener('abort', () => watcher.end(new Error('aborted')), { once: true });
  watchers.add(watcher);
  return watcher;
}
