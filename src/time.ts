/** Time as Kubernetes writes it. */

/** RFC 3339 in whole seconds, UTC, as Kubernetes writes metav1.Time: `2026-01-02T03:04:05Z`. */
export const rfc3339Seconds = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');
