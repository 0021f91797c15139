/**
 * The core/v1 Event the signer posts about an object it acted on: a new Event each time
 * (generateName, count 1), reported as csr-signer by this process (`reportingInstance`).
 */
import { rfc3339Seconds } from '../time.js';

/** What the Event is about, as `involvedObject`: its fields are written in the order given. */
export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
}

/** The body to POST to /api/v1/namespaces/`namespace`/events. */
export function eventBody({ involvedObject, namespace, type, reason, message, now, reportingInstance }: {
  involvedObject: InvolvedObject;
  /** Where the Event is stored. */
  namespace: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  now: Date;
  reportingInstance: string;
}): object {
  const time = rfc3339Seconds(now);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${involvedObject.name}.`, namespace },
    involvedObject,
    type, reason, message,
    source: { component: 'csr-signer' },
    reportingComponent: 'csr-signer',
    reportingInstance,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}
