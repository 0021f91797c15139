/** Picks the Table printer for a resource (kubectl's `get` columns). */
import type { ResourceDef } from './resources.js';
import type { KubeObject } from './store.js';
import { csrTable, eventTable, genericTable, leaseTable } from './table.js';

export function toTable(def: ResourceDef, items: readonly KubeObject[], now: Date, includeColumnDefinitions: boolean): Record<string, unknown> {
  const printer = def.resource === 'certificatesigningrequests' ? csrTable : def.resource === 'leases' ? leaseTable : def.resource === 'events' ? eventTable : genericTable;
  return printer([...items], now, includeColumnDefinitions);
}
