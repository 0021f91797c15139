/**
 * core/v1 Nodes: what a kubelet writes and the approver reads (`status.addresses`).
 *
 * Strategy (kubernetes pkg/registry/core/node/strategy.go): `nodeStrategy.PrepareForCreate` keeps every
 * field, status included ("Nodes allow *all* fields, including status, to be set on create");
 * `nodeStrategy.PrepareForUpdate` keeps the stored status (a PUT or PATCH of the Node cannot change it);
 * `nodeStatusStrategy.PrepareForUpdate` keeps the stored spec (a write through `/status` changes only the
 * status, and metadata). Unconditional updates are allowed; a PUT does not create.
 *
 * Validation (pkg/apis/core/validation `ValidateNode`, `ValidateNodeUpdate`): the name is a DNS-1123
 * subdomain; on update, no address may appear twice in `status.addresses`. Address types are not
 * validated upstream (any string is stored), so neither are they here.
 *
 * NodeRestriction (plugin/pkg/admission/noderestriction/admission.go `Plugin.admitNode`): a user that is a
 * node (`system:node:<name>` in group `system:nodes`, nodeidentifier `NodeIdentity`) may create, update and
 * delete only the Node named `<name>`. Its label and taint rules are not enforced here.
 */
import type { UserInfo } from '../auth/rbac.js';
import { forbidden, quote, type ApiError, type FieldError } from '../api/errors.js';
import type { KubeObject } from '../storage/kube-object.js';

type Obj = Record<string, unknown>;

const NODE_USER_PREFIX = 'system:node:';

/**
 * The Node's lists with `patchStrategy:"merge"` in k8s.io/api core/v1 types.go (and ObjectMeta's):
 * addresses and conditions by `type`, podCIDRs and finalizers as sets, ownerReferences by `uid`.
 */
export const NODE_MERGE_STRATEGIES: Readonly<Record<string, string>> = {
  'status.addresses': 'type', 'status.conditions': 'type', 'spec.podCIDRs': '', 'metadata.finalizers': '', 'metadata.ownerReferences': 'uid',
};
const NODES_GROUP = 'system:nodes';

/** nodeidentifier.NodeIdentity: the node a user is, or undefined when the user is not a node. */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return undefined;
  return user.name.slice(NODE_USER_PREFIX.length);
}

/** admission.NewForbidden on the nodes resource: `nodes "x" is forbidden: <why>`. */
const nodeForbidden = (name: string, why: string): ApiError => forbidden(`nodes ${quote(name)} is forbidden: ${why}`, { name, kind: 'nodes' });

/** NodeRestriction for a write to the Node `name` (create, update, delete); undefined when allowed. */
export function admitNodeWrite(user: UserInfo, name: string): ApiError | undefined {
  const node = nodeIdentity(user);
  if (node === undefined) return undefined;
  if (node === '') return nodeForbidden(name, `could not determine node from user ${quote(user.name)}`);
  if (node !== name) return nodeForbidden(name, `node ${quote(node)} is not allowed to modify node ${quote(name)}`);
  return undefined;
}

const addressesOf = (o: Obj): Obj[] => {
  const status = o.status;
  const list = typeof status === 'object' && status !== null ? (status as Obj).addresses : undefined;
  return Array.isArray(list) ? list.filter((a): a is Obj => typeof a === 'object' && a !== null) : [];
};

/** ValidateNodeUpdate: `status.addresses[i]: Duplicate value: core.NodeAddress{Type:"…", Address:"…"}`. */
export function duplicateAddresses(o: Obj): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  addressesOf(o).forEach((a, i) => {
    const type = typeof a.type === 'string' ? a.type : '';
    const address = typeof a.address === 'string' ? a.address : '';
    const key = JSON.stringify([type, address]);
    if (seen.has(key)) {
      errors.push({ type: 'FieldValueDuplicate', field: `status.addresses[${i}]`, value: `core.NodeAddress{Type:${JSON.stringify(type)}, Address:${JSON.stringify(address)}}` });
    }
    seen.add(key);
  });
  return errors;
}

/** The update a PUT or PATCH makes: the main resource keeps the stored status, `/status` the stored spec. */
export function prepareNodeUpdate(old: KubeObject, incoming: Obj, subresource: '' | 'status'): Obj {
  const object: Obj = { ...incoming };
  const keep = subresource === 'status' ? 'spec' : 'status';
  if (old[keep] === undefined) delete object[keep];
  else object[keep] = old[keep];
  return object;
}
