/**
 * events.k8s.io/v1 Events are stored as core/v1 Events (one store), so events
 * written through either API show in `kubectl get events`. Field mapping as in
 * Kubernetes' pkg/apis/events/v1 conversion.
 */
type Obj = Record<string, unknown>;

const renames: readonly [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

/** events.k8s.io/v1 → core/v1 (storage). */
export function eventsV1ToCore(o: Obj): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(o)) {
    const rename = renames.find(([v1]) => v1 === key);
    if (key === 'apiVersion' || key === 'kind') continue;
    out[rename ? rename[1] : key] = value;
  }
  return out;
}

/** core/v1 (storage) → events.k8s.io/v1. */
export function coreToEventsV1(o: Obj): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(o)) {
    const rename = renames.find(([, core]) => core === key);
    if (key === 'apiVersion' || key === 'kind') continue;
    out[rename ? rename[0] : key] = value;
  }
  return out;
}
