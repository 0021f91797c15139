/** Picks the Table printer for a resource (kubectl's `get` columns). */
import type { ResourceDef } from '../api/resource-definitions.js';
import type { KubeObject } from '../storage/kube-object.js';
import { clusterTrustBundleTable, configMapTable, csrTable, eventTable, genericTable, leaseTable, namespaceTable, nodeTable, podCertificateRequestTable, type Table } from './table-printers.js';

type Printer = (items: readonly object[], now: Date, includeColumnDefinitions: boolean) => Table;
const printers: Readonly<Record<string, Printer>> = {
  certificatesigningrequests: csrTable,
  leases: leaseTable,
  events: eventTable,
  namespaces: namespaceTable,
  nodes: nodeTable,
  configmaps: configMapTable,
  clustertrustbundles: clusterTrustBundleTable,
  podcertificaterequests: podCertificateRequestTable,
};

export function toTable(def: ResourceDef, items: readonly KubeObject[], now: Date, includeColumnDefinitions: boolean): Record<string, unknown> {
  const printer = printers[def.resource] ?? genericTable;
  return printer([...items], now, includeColumnDefinitions);
}
