/**
 * Server-side `meta.k8s.io/v1` Tables for `kubectl get`: the column sets and
 * cell texts of kubernetes pkg/printers/internalversion/printers.go, and apimachinery's
 * HumanDuration. Rows always carry every column (the apiserver prints "wide"); kubectl hides
 * priority-1 columns unless `-o wide`.
 */

export interface TableColumnDefinition {
  readonly name: string;
  readonly type: string;
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

export interface TableRow {
  readonly cells: readonly unknown[];
  readonly object: { readonly kind: 'PartialObjectMetadata'; readonly apiVersion: 'meta.k8s.io/v1'; readonly metadata: Record<string, unknown> };
}

export interface ListMeta {
  readonly resourceVersion?: string;
  readonly continue?: string;
}

/** A type alias, not an interface, so that it is assignable to Record<string, unknown>. */
export type Table = {
  readonly kind: 'Table';
  readonly apiVersion: 'meta.k8s.io/v1';
  readonly metadata: ListMeta;
  readonly columnDefinitions: readonly TableColumnDefinition[];
  readonly rows: readonly TableRow[];
};

/**
 * apimachinery HumanDuration: about two significant figures. Up to 1s in the future reads as `0s`
 * (clock skew); further in the future is `<invalid>`.
 */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '<invalid>';
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const withRest = (big: number, bigUnit: string, small: number, smallUnit: string): string =>
    (small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 3 * 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 8 * 24) return withRest(days, 'd', hours % 24, 'h');
  if (hours < 2 * 365 * 24) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 8 * 365 * 24) return withRest(years, 'y', days % 365, 'd');
  return `${years}y`;
}

type Item = object;

const field = (item: Item, ...path: string[]): unknown => {
  let node: unknown = item;
  for (const key of path) node = typeof node === 'object' && node !== null && Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
  return node;
};
const text = (item: Item, ...path: string[]): string => {
  const v = field(item, ...path);
  return typeof v === 'string' ? v : '';
};

/** Age of an RFC 3339 timestamp at `now`; `<unknown>` when unset, as translateTimestampSince. */
const since = (timestamp: string, now: Date): string => {
  const at = timestamp === '' ? NaN : Date.parse(timestamp);
  return Number.isNaN(at) ? '<unknown>' : humanDuration(now.getTime() - at);
};

const column = (name: string, description: string, extra: { format?: string; priority?: number } = {}): TableColumnDefinition =>
  ({ name, type: 'string', format: extra.format ?? '', description, priority: extra.priority ?? 0 });

const nameDoc = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const ageDoc = 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.';
const nameColumn = column('Name', nameDoc, { format: 'name' });
const ageColumn = column('Age', ageDoc);

/** Shared by every builder: one row per item, its metadata as PartialObjectMetadata. */
const tableOf = (columns: readonly TableColumnDefinition[], cellsOf: (item: Item, now: Date) => unknown[]) =>
  (items: readonly Item[], now: Date, includeColumnDefinitions: boolean, listMeta: ListMeta = {}): Table => ({
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...listMeta },
    columnDefinitions: includeColumnDefinitions ? columns : [],
    rows: items.map((item) => {
      const metadata = field(item, 'metadata');
      return {
        cells: cellsOf(item, now),
        object: {
          kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1',
          metadata: typeof metadata === 'object' && metadata !== null ? structuredClone(metadata as Record<string, unknown>) : {},
        },
      };
    }),
  });

/** `Denied` over `Approved` over `Pending`, then `,Failed`, then `,Issued` (extractCSRStatus). */
export function csrCondition(csr: Item): string {
  const conditions = field(csr, 'status', 'conditions');
  const types = new Set(Array.isArray(conditions) ? conditions.map((c: unknown) => (typeof c === 'object' && c !== null ? text(c, 'type') : '')) : []);
  const decision = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  return `${decision}${types.has('Failed') ? ',Failed' : ''}${text(csr, 'status', 'certificate') === '' ? '' : ',Issued'}`;
}

export const csrTable = tableOf([
  nameColumn, ageColumn,
  column('SignerName', 'signerName indicates the requested signer, and is a qualified name.'),
  column('Requestor', 'request contains an x509 certificate signing request encoded in a "CERTIFICATE REQUEST" PEM block.'),
  column('RequestedDuration', 'expirationSeconds is the requested duration of validity of the issued certificate.'),
  column('Condition', 'conditions applied to the request. Known conditions are "Approved", "Denied", and "Failed".'),
], (csr, now) => {
  const expiration = field(csr, 'spec', 'expirationSeconds');
  return [
    text(csr, 'metadata', 'name'), since(text(csr, 'metadata', 'creationTimestamp'), now),
    text(csr, 'spec', 'signerName') || '<none>', text(csr, 'spec', 'username'),
    typeof expiration === 'number' ? humanDuration(expiration * 1000) : '<none>', csrCondition(csr),
  ];
});

export const leaseTable = tableOf([
  nameColumn, column('Holder', 'holderIdentity contains the identity of the holder of a current lease.'), ageColumn,
], (lease, now) => [text(lease, 'metadata', 'name'), text(lease, 'spec', 'holderIdentity'), since(text(lease, 'metadata', 'creationTimestamp'), now)]);

export const genericTable = tableOf([nameColumn, ageColumn], (item, now) => [text(item, 'metadata', 'name'), since(text(item, 'metadata', 'creationTimestamp'), now)]);

export const eventTable = tableOf([
  column('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
  column('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
  column('Reason', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
  column('Object', 'The object that this event is about.'),
  column('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', { priority: 1 }),
  column('Source', 'The component reporting this event. Should be a short machine understandable string.', { priority: 1 }),
  column('Message', 'A human-readable description of the status of this operation.'),
  column('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', { priority: 1 }),
  column('Count', 'The number of times this event has occurred.', { priority: 1 }),
  column('Name', nameDoc, { format: 'name', priority: 1 }),
], (event, now) => {
  const firstSeen = text(event, 'firstTimestamp') !== '' ? since(text(event, 'firstTimestamp'), now) : since(text(event, 'eventTime'), now);
  const series = field(event, 'series');
  // printEvent's order, then creationTimestamp so that an event with no times still shows an age.
  const lastSeen = series !== undefined && series !== null ? since(text(event, 'series', 'lastObservedTime'), now)
    : text(event, 'lastTimestamp') !== '' ? since(text(event, 'lastTimestamp'), now)
      : firstSeen !== '<unknown>' ? firstSeen : since(text(event, 'metadata', 'creationTimestamp'), now);
  const seriesCount = field(event, 'series', 'count');
  const count = field(event, 'count');
  const kind = text(event, 'involvedObject', 'kind').toLowerCase();
  const name = text(event, 'involvedObject', 'name');
  const component = text(event, 'source', 'component') || text(event, 'reportingComponent');
  const instance = text(event, 'source', 'host') || text(event, 'reportingInstance');
  return [
    lastSeen, text(event, 'type'), text(event, 'reason'), name === '' ? kind : `${kind}/${name}`,
    text(event, 'involvedObject', 'fieldPath'), instance === '' ? component : `${component}, ${instance}`,
    text(event, 'message').trim(), firstSeen,
    series !== undefined && series !== null ? (typeof seriesCount === 'number' ? seriesCount : 0) : typeof count === 'number' && count !== 0 ? count : 1,
    text(event, 'metadata', 'name'),
  ];
});

export const namespaceTable = tableOf([nameColumn, column('Status', 'The status of the namespace'), ageColumn],
  (ns, now) => [text(ns, 'metadata', 'name'), text(ns, 'status', 'phase'), since(text(ns, 'metadata', 'creationTimestamp'), now)]);

const keyCount = (v: unknown): number => (typeof v === 'object' && v !== null ? Object.keys(v).length : 0);

/** DATA counts the keys of data and binaryData (printConfigMap). */
export const configMapTable = tableOf([
  nameColumn, column('Data', 'Data contains the configuration data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'.'), ageColumn,
], (cm, now) => [
  text(cm, 'metadata', 'name'), keyCount(field(cm, 'data')) + keyCount(field(cm, 'binaryData')), since(text(cm, 'metadata', 'creationTimestamp'), now),
]);

/** printClusterTrustBundle: NAME and SIGNERNAME only (`<none>` for an unlinked bundle), no AGE. */
export const clusterTrustBundleTable = tableOf([nameColumn, column('SignerName', 'signerName indicates the associated signer, if any.')],
  (ctb) => [text(ctb, 'metadata', 'name'), text(ctb, 'spec', 'signerName') || '<none>']);

/**
 * printNode: STATUS from the Ready condition (`Ready`, `NotReady`, `Unknown` without one, then
 * `,SchedulingDisabled`), ROLES from `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels (sorted,
 * `<none>`), VERSION the kubelet's; the wide columns INTERNAL-IP and EXTERNAL-IP (first address of the type,
 * `<none>`), OS-IMAGE, KERNEL-VERSION, CONTAINER-RUNTIME (`<unknown>` when empty).
 */
export const nodeTable = tableOf([
  nameColumn, column('Status', 'The status of the node'), column('Roles', 'The roles of the node'), ageColumn,
  column('Version', 'Kubelet Version reported by the node.'),
  column('Internal-IP', 'List of addresses reachable to the node.', { priority: 1 }),
  column('External-IP', 'List of addresses reachable to the node.', { priority: 1 }),
  column('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', { priority: 1 }),
  column('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", { priority: 1 }),
  column('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', { priority: 1 }),
], (node, now) => {
  const conditions = field(node, 'status', 'conditions');
  const ready = (Array.isArray(conditions) ? conditions as unknown[] : []).filter((c): c is object => typeof c === 'object' && c !== null && text(c, 'type') === 'Ready').pop();
  const status = [ready === undefined ? 'Unknown' : text(ready, 'status') === 'True' ? 'Ready' : 'NotReady'];
  if (field(node, 'spec', 'unschedulable') === true) status.push('SchedulingDisabled');
  const labels = field(node, 'metadata', 'labels');
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(typeof labels === 'object' && labels !== null ? labels : {})) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && typeof v === 'string' && v !== '') roles.add(v);
  }
  const addresses = field(node, 'status', 'addresses');
  const list = Array.isArray(addresses) ? (addresses as unknown[]).filter((a): a is object => typeof a === 'object' && a !== null) : [];
  const address = (type: string): string => {
    const found = list.find((a) => text(a, 'type') === type);
    return found === undefined ? '<none>' : text(found, 'address');
  };
  const info = (key: string): string => text(node, 'status', 'nodeInfo', key) || '<unknown>';
  return [
    text(node, 'metadata', 'name'), status.join(','), roles.size === 0 ? '<none>' : [...roles].sort().join(','),
    since(text(node, 'metadata', 'creationTimestamp'), now), text(node, 'status', 'nodeInfo', 'kubeletVersion'),
    address('InternalIP'), address('ExternalIP'), info('osImage'), info('kernelVersion'), info('containerRuntimeVersion'),
  ];
});

/**
 * PodCertificateRequests. Which columns kube-apiserver prints for them could not be read upstream; these are
 * devapi's: the signer, the pod, its ServiceAccount and node, the one terminal condition (`Pending` without
 * one) and the age.
 */
export const podCertificateRequestTable = tableOf([
  nameColumn,
  column('SignerName', 'signerName indicates the requested signer.'),
  column('PodName', 'podName is the name of the pod into which the certificate will be mounted.'),
  column('ServiceAccountName', 'serviceAccountName is the name of the service account the pod is running as.'),
  column('NodeName', 'nodeName is the name of the node the pod is assigned to.'),
  column('Condition', 'The one terminal condition: Issued, Denied or Failed; Pending without one.'),
  ageColumn,
], (pcr, now) => {
  const conditions = field(pcr, 'status', 'conditions');
  const terminal = (Array.isArray(conditions) ? conditions as unknown[] : [])
    .filter((c): c is object => typeof c === 'object' && c !== null).map((c) => text(c, 'type')).find((t) => ['Issued', 'Denied', 'Failed'].includes(t));
  return [
    text(pcr, 'metadata', 'name'), text(pcr, 'spec', 'signerName'), text(pcr, 'spec', 'podName'), text(pcr, 'spec', 'serviceAccountName'),
    text(pcr, 'spec', 'nodeName'), terminal ?? 'Pending', since(text(pcr, 'metadata', 'creationTimestamp'), now),
  ];
});
