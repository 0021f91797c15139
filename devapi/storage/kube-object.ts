/**
 * The shape of a stored object and of a change to it: what the store keeps, its state log
 * writes and its JSON cache reads. Types (and the time format) only, so that those three can
 * share them without importing one another.
 */

export type KubeObject = Record<string, unknown> & { metadata: Metadata };
export interface Metadata {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  [key: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  readonly type: EventType;
  readonly resource: string;
  readonly object: KubeObject;
  readonly rv: number;
  /** The object this change replaced (MODIFIED, DELETED): what lets the store read an earlier revision. */
  readonly before?: KubeObject;
}

/** Kubernetes' metav1.Time: RFC 3339, seconds, UTC. */
export const kubeTime = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;
