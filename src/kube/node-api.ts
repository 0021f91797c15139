/**
 * Nodes, read by name: the kubelet-serving approval compares a serving
 * certificate's names and addresses with the Node's status.addresses. One GET per
 * decision, so the approver always judges against what the Node says now (a list+watch
 * cache of every Node would cost memory in proportion to the cluster for one read
 * per kubelet certificate). RBAC: `get` on nodes (rbac.ts approverClusterRules).
 */
import type { KubeHttp } from './http.js';
import type { Node } from './objects.js';
import { resource } from './resource.js';

export type { Node } from './objects.js';

export interface NodeApi {
  /** The Node `name`; null when there is none (404). Other errors reject. */
  get(name: string): Promise<Node | null>;
}

export function nodeApi(kube: KubeHttp): NodeApi {
  const nodes = resource<Node>(kube, { groupVersionPath: '/api/v1', plural: 'nodes', apiVersion: 'v1', kind: 'Node' });
  return {
    get: async (name) => (await nodes.find(name)) ?? null,
  };
}
