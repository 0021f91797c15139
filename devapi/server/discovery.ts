/** /version, discovery (aggregated v2 and legacy) and a minimal OpenAPI v3, built from api/resource-definitions.ts. */
import { createHash } from 'node:crypto';
import { apiVersionOf, groups, resources, versionsOf, type ResourceDef } from '../api/resource-definitions.js';

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

export function versionInfo(minor: number): Record<string, string> {
  return {
    major: '1', minor: String(minor), gitVersion: `v1.${minor}.0-devapi`, gitCommit: 'devapi', gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23', compiler: 'gc', platform: 'linux/amd64',
  };
}

/** True when the Accept header asks for the aggregated discovery document. */
export const wantsAggregated = (accept: string | undefined): boolean =>
  (accept ?? '').includes('as=APIGroupDiscoveryList') && (accept ?? '').includes('g=apidiscovery.k8s.io');

function aggregatedResource(def: ResourceDef): Record<string, unknown> {
  const kind = { group: def.group, version: def.version, kind: def.kind };
  return {
    resource: def.resource, responseKind: kind, scope: def.namespaced ? 'Namespaced' : 'Cluster', singularResource: def.singular, verbs: def.verbs,
    ...(def.shortNames.length > 0 ? { shortNames: def.shortNames } : {}),
    ...(def.subresources.length > 0 ? { subresources: def.subresources.map((s) => ({ subresource: s, responseKind: kind, verbs: ['get', 'patch', 'update'] })) } : {}),
  };
}

function aggregatedGroup(group: string, served: readonly ResourceDef[]): Record<string, unknown> {
  return {
    metadata: { name: group },
    versions: versionsOf(group, served).map((version) => ({
      version, freshness: 'Current', resources: served.filter((r) => r.group === group && r.version === version).map(aggregatedResource),
    })),
  };
}

/** `served`: the resources this devapi serves (api/resource-definitions.ts servedResources); every one by default. */
export function aggregatedDiscovery(core: boolean, served: readonly ResourceDef[] = resources): Record<string, unknown> {
  const selected = groups(served).filter((g) => (core ? g === '' : g !== ''));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items: selected.map((g) => aggregatedGroup(g, served)) };
}

export const legacyApiVersions = (): Record<string, unknown> => ({
  kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
});

export function legacyGroupList(served: readonly ResourceDef[] = resources): Record<string, unknown> {
  return {
    kind: 'APIGroupList', apiVersion: 'v1',
    groups: groups(served).filter((g) => g !== '').map((name) => {
      const versions = versionsOf(name, served).map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions, preferredVersion: versions[0] };
    }),
  };
}

export function legacyResourceList(group: string, version: string, served: readonly ResourceDef[] = resources): Record<string, unknown> | undefined {
  const defs = served.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const entry = (def: ResourceDef, name: string, verbs: readonly string[]): Record<string, unknown> => ({
    name, singularName: name.includes('/') ? '' : def.singular, namespaced: def.namespaced, kind: def.kind, verbs,
    ...(def.shortNames.length > 0 && !name.includes('/') ? { shortNames: def.shortNames } : {}),
  });
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(defs[0] as ResourceDef),
    resources: defs.flatMap((d) => [entry(d, d.resource, d.verbs), ...d.subresources.map((s) => entry(d, `${d.resource}/${s}`, ['get', 'patch', 'update']))]),
  };
}

/** The OpenAPI v3 document of one group-version: just what kubectl's fieldValidation check reads. */
export function openApiGroupVersion(group: string, version: string, served: readonly ResourceDef[] = resources): Record<string, unknown> | undefined {
  const defs = served.filter((r) => r.group === group && r.version === version && !r.virtual);
  if (defs.length === 0) return undefined;
  const prefix = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const paths: Record<string, unknown> = {};
  for (const def of defs) {
    const item = def.namespaced ? `${prefix}/namespaces/{namespace}/${def.resource}/{name}` : `${prefix}/${def.resource}/{name}`;
    paths[item] = {
      patch: {
        'x-kubernetes-group-version-kind': { group, version, kind: def.kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }],
        requestBody: { content: { 'application/json-patch+json': {}, 'application/merge-patch+json': {}, 'application/apply-patch+yaml': {} } },
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'devapi', version: 'v1' }, paths };
}

export function openApiRoot(served: readonly ResourceDef[] = resources): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const def of served.filter((r) => !r.virtual)) {
    const key = def.group === '' ? `api/${def.version}` : `apis/${def.group}/${def.version}`;
    const doc = openApiGroupVersion(def.group, def.version, served);
    const hash = createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 32).toUpperCase();
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}
