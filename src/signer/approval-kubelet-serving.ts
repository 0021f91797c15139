/**
 * kubernetes.io/kubelet-serving: approve only what the requesting node really is.
 * Nothing in Kubernetes approves these (the in-tree signer checks their shape only,
 * pkg/apis/certificates/helpers.go `ValidateKubeletServingCSR`); this ladder adds who
 * asks and which names it may have. First failure wins; each is Denied with one
 * sentence naming the offending value:
 *
 *   the request does not parse or its signature does not verify (no proof of possession)
 *   requester: spec.username `system:node:NAME`, in group `system:nodes`
 *   the in-tree signer's shape, with its messages (organization, a DNS or IP name, no email
 *     or URI names, usages, CN prefix) — a request the signer would fail is not approved
 *   subject exactly CN=system:node:NAME (the requester), O=system:nodes, nothing else
 *   at most maxSubjectAltNames DNS and IP names
 *   the Node NAME exists
 *   each DNS name: not a wildcard; a Hostname, InternalDNS or ExternalDNS address of the
 *     Node (ignoring case), or an extraDnsNames pattern, or a whole-name match of an
 *     extraDnsRegexes expression (in linear time: signer/dns-regex.ts)
 *   each IP address: an InternalIP or ExternalIP address of the Node (compared as
 *     addresses: 2001:db8::1 is 2001:DB8:0::1), or inside an extraIpRanges CIDR
 *
 * Usages: the kubelet asks for digital signature + server auth, with key encipherment
 * when its key is RSA (client-go's certificate manager); kubelets before that change
 * asked for key encipherment with every key type (pkg/kubelet/certificate/kubelet.go
 * `NewKubeletServerCertificateManager`, which listed the three for its ECDSA keys). Within
 * the version skew both occur, so either set is accepted for any key type — exactly the
 * in-tree signer's two sets; key encipherment is merely unused with a non-RSA key.
 */
import type { CsrSignerError } from '../errors.js';
import { parseIp, type CertificateRequest } from '../pki/index.js';
import { validateBuiltin } from './builtin-signers.js';
import { ipInRanges } from './cidr.js';
import { matchesAnyDnsPattern } from './dns-pattern.js';
import { compileDnsRegex, matchesDnsRegex, type DnsRegex } from './dns-regex.js';
import type { ApprovalDecision, ApproverSignerConfig, Csr, Node } from './types.js';

export const kubeletServingSignerName = 'kubernetes.io/kubelet-serving';

const rule = 'kubelet-serving';
const deny = (message: string): ApprovalDecision => ({ kind: 'deny', rule, message });
const nodePrefix = 'system:node:';
const nodesGroup = 'system:nodes';
const oidCommonName = '2.5.4.3';
const oidOrganization = '2.5.4.10';

/** The node name of a `system:node:NAME` username; undefined for any other (or an empty NAME). */
const nodeNameOf = (username: string | undefined): string | undefined =>
  username?.startsWith(nodePrefix) === true && username.length > nodePrefix.length ? username.slice(nodePrefix.length) : undefined;

/** The Node to read: only for a requester that is a node; any other is denied without facts. */
export function kubeletServingFacts(csr: Csr): { node?: string; access: [] } {
  const node = nodeNameOf(csr.spec.username);
  return node !== undefined && (csr.spec.groups ?? []).includes(nodesGroup) ? { node, access: [] } : { access: [] };
}

/**
 * Operators' expressions run on names the requester chose: they are compiled to an
 * automaton matched in time linear in the name (signer/dns-regex.ts), never given to
 * JavaScript's backtracking RegExp. Names are bounded besides: the request parser
 * refuses a DNS name over 253 characters (RFC 1035; pki/san.ts), and only names of DNS
 * syntax reach an expression.
 */
const dnsSyntax = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$/i;

const compiled = new Map<string, DnsRegex | null>();
/** The expression compiled once; null when it cannot be (the configuration refuses those; it then matches nothing). */
function automaton(pattern: string): DnsRegex | null {
  let re = compiled.get(pattern);
  if (re === undefined) {
    try {
      re = compileDnsRegex(pattern);
    } catch {
      re = null;
    }
    compiled.set(pattern, re);
  }
  return re;
}

const sameAddress = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function checkNames(request: CertificateRequest, entry: ApproverSignerConfig, nodeName: string, node: Node): string | undefined {
  const addresses = node.status?.addresses ?? [];
  const nodeDns = addresses.filter((a) => ['Hostname', 'InternalDNS', 'ExternalDNS'].includes(a.type)).map((a) => a.address.toLowerCase());
  const nodeIps = addresses.filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
    .map((a) => parseIp(a.address)).filter((ip): ip is Uint8Array => ip !== undefined);
  for (const dns of request.subjectAltNames.dnsNames) {
    // A node is one host: no pattern or address may turn into a wildcard certificate.
    if (dns.includes('*')) return `DNS name ${dns} is a wildcard, which a node's name never is`;
    if (nodeDns.includes(dns.toLowerCase())) continue;
    if (matchesAnyDnsPattern(dns, entry.extraDnsNames ?? [], undefined)) continue;
    const regexes = entry.extraDnsRegexes ?? [];
    if (dnsSyntax.test(dns) && regexes.some((r) => { const re = automaton(r); return re !== null && matchesDnsRegex(re, dns); })) continue;
    return `DNS name ${dns} is not a name of node ${nodeName}`;
  }
  for (const ip of request.subjectAltNames.ipAddresses) {
    const bytes = parseIp(ip);
    if (bytes !== undefined && nodeIps.some((n) => sameAddress(n, bytes))) continue;
    if (ipInRanges(ip, entry.extraIpRanges ?? [])) continue;
    return `IP address ${ip} is not an address of node ${nodeName}`;
  }
  return undefined;
}

export function decideKubeletServing(
  csr: Csr, request: CertificateRequest | CsrSignerError, entry: ApproverSignerConfig, node: Node | null | undefined,
): ApprovalDecision {
  if (request instanceof Error) return deny(request.message);
  const username = csr.spec.username ?? '';
  const nodeName = nodeNameOf(username);
  if (nodeName === undefined) return deny(`requester ${JSON.stringify(username)} is not a node: kubelet serving certificates are approved for system:node:<name> users only`);
  if (!(csr.spec.groups ?? []).includes(nodesGroup)) return deny(`requester ${username} is not in group ${nodesGroup}`);
  const shape = validateBuiltin(kubeletServingSignerName, request, csr.spec.usages ?? []);
  if (shape !== undefined) return deny(shape);
  const cn = request.subject.commonName ?? '';
  if (cn !== username) return deny(`subject common name ${cn} is not the requester ${username}`);
  const other = request.subject.attributes.find((a) => a.oid !== oidCommonName && a.oid !== oidOrganization);
  if (other !== undefined) return deny(`subject attribute ${other.oid}=${other.value} is not allowed: the subject must be exactly CN=${username}, O=${nodesGroup}`);
  const cns = request.subject.attributes.filter((a) => a.oid === oidCommonName).length;
  if (cns !== 1) return deny(`subject has ${cns} common names, and must have exactly one, ${username}`);
  const count = request.subjectAltNames.dnsNames.length + request.subjectAltNames.ipAddresses.length;
  if (entry.maxSubjectAltNames !== undefined && count > entry.maxSubjectAltNames) {
    return deny(`the request has ${count} DNS names and IP addresses, more than the ${entry.maxSubjectAltNames} allowed`);
  }
  if (node === null) return deny(`node ${nodeName} does not exist`);
  // Not read (a caller that did not fetch what approvalFacts named): nothing to decide on yet.
  if (node === undefined) return { kind: 'wait', rule, message: `node ${nodeName} was not read` };
  const wrong = checkNames(request, entry, nodeName, node);
  return wrong === undefined
    ? { kind: 'approve', rule, message: `Auto approving kubelet serving certificate for node ${nodeName}: every name is an address of the node.` }
    : deny(wrong);
}
