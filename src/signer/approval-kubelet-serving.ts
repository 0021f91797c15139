/**
 * kubernetes.io/kubelet-serving: approve only what the requesting node really is.
 * Nothing in Kubernetes approves these (the in-tree signer checks their shape only,
 * pkg/apis/certificates/helpers.go `ValidateKubeletServingCSR`); this ladder adds who
 * asks and which names it may have. First failure wins; each is Denied with one
 * sentence naming the offending value (values the requester chose are quoted as JSON
 * strings):
 *
 *   the request does not parse or its signature does not verify (no proof of possession)
 *   requester: spec.username `system:node:NAME`, NAME a DNS-1123 subdomain (lowercase,
 *     at most 253 characters, no empty label), in group `system:nodes`
 *   the in-tree signer's shape, with its messages plus the value (organization, a DNS or
 *     IP name, no email or URI names, usages, CN prefix)
 *   subject exactly CN=system:node:NAME (the requester), O=system:nodes, nothing else
 *   each DNS name a host name: not a wildcard, not an IP address, letters, digits and
 *     hyphens in labels of 1 to 63 (no trailing dot)
 *   what the signer would fail: the signer's own rules (signer/decide.ts `evaluate`)
 *     when csr-signer signs for kubelet-serving; otherwise at least a CA request
 *   at most maxSubjectAltNames DNS and IP names
 *   the Node NAME exists, and is the Node named NAME
 *   each DNS name: a Hostname, InternalDNS or ExternalDNS address of the Node (ignoring
 *     case), or an extraDnsNames pattern, or a whole-name match of an extraDnsRegexes
 *     expression (in linear time: signer/dns-regex.ts)
 *   each IP address: an InternalIP, ExternalIP (or IP-valued Hostname) address of the
 *     Node, or inside an extraIpRanges CIDR
 *
 * The Node's addresses are read as the kubelet reads them for its own request
 * (pkg/kubelet/certificate/kubelet.go `addressesToHostnamesAndIPs`): a Hostname that
 * parses as an IP address is an IP address; an InternalIP or ExternalIP is used only if
 * it parses (netutils.ParseIPSloppy: IPv4 parts with leading zeros are decimal); addresses
 * compare as bytes with IPv4-mapped IPv6 as IPv4 (Go's net.IP.Equal), so 2001:db8::1 is
 * 2001:DB8:0::1 and ::ffff:10.0.0.1 is 10.0.0.1.
 *
 * Widening: extraDnsNames patterns (exact, or `*.` for one leftmost label) and
 * extraDnsRegexes may contain `{node}`, replaced by the requesting node's name (matched
 * literally), so `{node}.nodes.example.com` lets each node have its own name only. A
 * pattern or expression without `{node}` admits its names for ANY node: every node may
 * claim them. extraIpRanges likewise admit their addresses for any node.
 *
 * Usages: the kubelet asks for digital signature + server auth, with key encipherment
 * only when its key is RSA (client-go util/certificate/certificate_manager.go
 * `DefaultKubeletServingGetUsages`); kubelets before that change asked for key
 * encipherment with every key type (pkg/kubelet/certificate/kubelet.go
 * `NewKubeletServerCertificateManager`, which listed the three for its ECDSA keys). Within
 * the version skew both occur, so either set is accepted for any key type — exactly the
 * in-tree signer's two sets; key encipherment is merely unused with a non-RSA key.
 */
import type { CsrSignerError } from '../errors.js';
import { formatIp, knownUsages, parseIp, type CertificateRequest } from '../pki/index.js';
import { validateBuiltin } from './builtin-signers.js';
import { ipInRanges } from './cidr.js';
import { evaluate } from './decide.js';
import { matchesDnsPattern } from './dns-pattern.js';
import { compileDnsRegex, matchesDnsRegex, nodePlaceholder, type DnsRegex } from './dns-regex.js';
import type { ApprovalDecision, ApproverSignerConfig, Csr, Node, SignerConfig } from './types.js';

export const kubeletServingSignerName = 'kubernetes.io/kubelet-serving';

const rule = 'kubelet-serving';
const deny = (message: string): ApprovalDecision => ({ kind: 'deny', rule, message });
const q = (value: unknown): string => JSON.stringify(value);
const nodePrefix = 'system:node:';
const nodesGroup = 'system:nodes';
const oidCommonName = '2.5.4.3';
const oidOrganization = '2.5.4.10';

/** Kubernetes' IsDNS1123Subdomain: what a Node's name must be. */
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const isNodeName = (name: string): boolean => name.length <= 253 && dns1123Subdomain.test(name);

/** The NAME of a `system:node:NAME` username, whatever it is; undefined for any other username. */
const claimedNode = (username: string | undefined): string | undefined =>
  username?.startsWith(nodePrefix) === true ? username.slice(nodePrefix.length) : undefined;

/** The Node to read: only for a requester that is a node of a valid name; any other is denied without facts. */
export function kubeletServingFacts(csr: Csr): { node?: string; access: [] } {
  const node = claimedNode(csr.spec.username);
  return node !== undefined && isNodeName(node) && (csr.spec.groups ?? []).includes(nodesGroup) ? { node, access: [] } : { access: [] };
}

/**
 * An IP address as Go's netutils.ParseIPSloppy reads it (IPv4 parts decimal, leading
 * zeros allowed; IPv6 with an IPv4 tail), IPv4-mapped IPv6 turned into its 4 bytes.
 */
export function nodeIp(text: string): Uint8Array | undefined {
  let bytes: Uint8Array | undefined;
  const v4 = /^(\d{1,8})\.(\d{1,8})\.(\d{1,8})\.(\d{1,8})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    bytes = parts.every((p) => p <= 255) ? Uint8Array.from(parts) : undefined;
  } else {
    const tail = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
    if (tail) {
      const [a, b, c, d] = tail.slice(2).map(Number) as [number, number, number, number];
      bytes = [a, b, c, d].every((p) => p <= 255) ? parseIp(`${tail[1] as string}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`) : undefined;
    } else bytes = parseIp(text);
  }
  const mapped = bytes?.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes?.slice(12) : bytes;
}

const sameAddress = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** A host name: labels of letters, digits and hyphens (not first or last), 1 to 63 long; at most 253; no trailing dot. */
const hostName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

/** Why a DNS name can never be a node's name, whoever the node. */
function dnsSyntaxProblem(dns: string): string | undefined {
  // A node is one host: no pattern or address may turn into a wildcard certificate.
  if (dns.includes('*')) return `DNS name ${q(dns)} is a wildcard, which a node's name never is`;
  if (nodeIp(dns) !== undefined) return `DNS name ${q(dns)} is an IP address; request it as an IP address subjectAltName`;
  if (dns.length > 253 || !hostName.test(dns)) return `DNS name ${q(dns)} is not a valid host name`;
  return undefined;
}

/** The in-tree shape's sentence with the offending value added. */
function shapeProblem(csr: Csr, request: CertificateRequest): string | undefined {
  const usages = csr.spec.usages ?? [];
  const problem = validateBuiltin(kubeletServingSignerName, request, usages);
  const { subject, subjectAltNames: sans } = request;
  switch (problem) {
    case 'subject organization is not system:nodes': return `subject organization ${q(subject.organizations)} is not ${nodesGroup}`;
    case 'Email subjectAltNames are not allowed': return `${problem}: ${q(sans.emailAddresses)}`;
    case 'URI subjectAltNames are not allowed': return `${problem}: ${q(sans.uris)}`;
    case 'subject common name does not begin with system:node:': return `subject common name ${q(subject.commonName ?? '')} does not begin with ${nodePrefix}`;
    case 'usages did not match [digital signature key encipherment server auth]':
      return `usages ${q(usages)} did not match [digital signature key encipherment server auth] or [digital signature server auth]`;
    default: return problem;
  }
}

/** What the signer would fail the request for: its own rules when it signs for this name, else at least these. */
function signerProblem(csr: Csr, request: CertificateRequest, signer: SignerConfig | undefined): string | undefined {
  if (signer?.name === kubeletServingSignerName) {
    const decision = evaluate(csr, request, signer);
    return decision.kind === 'fail' ? decision.message : undefined;
  }
  if (request.requestsCa) return 'the request asks for a CA certificate (basicConstraints CA:TRUE), which a node\'s serving certificate never is';
  const unknown = (csr.spec.usages ?? []).filter((u) => !knownUsages.includes(u));
  return unknown.length > 0 ? `usages ${q(unknown)} are not key usages Kubernetes knows` : undefined;
}

const compiled = new Map<string, DnsRegex | Error>();
/** The expression compiled for `node`, once (at most 1000 kept); the Error when it cannot be. */
function automaton(pattern: string, node: string): DnsRegex | Error {
  const key = pattern.includes(nodePlaceholder) ? `${node}\n${pattern}` : pattern;
  let re = compiled.get(key);
  if (re === undefined) {
    try {
      re = compileDnsRegex(pattern, node);
    } catch (e) {
      re = e instanceof Error ? e : new Error(String(e));
    }
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}

/** Why a name is not the node's: a denial or, for an expression that does not compile, a wait; undefined when every name is. */
function checkNames(
  request: CertificateRequest, entry: ApproverSignerConfig, nodeName: string, node: Node,
): { readonly problem?: ApprovalDecision; readonly widened: boolean } {
  const nodeDns: string[] = [];
  const nodeIps: Uint8Array[] = [];
  for (const { type, address } of node.status?.addresses ?? []) {
    if (address === '') continue;
    const ip = nodeIp(address);
    if (type === 'Hostname') {
      if (ip) nodeIps.push(ip);
      else nodeDns.push(address.toLowerCase());
    } else if ((type === 'InternalIP' || type === 'ExternalIP') && ip) nodeIps.push(ip);
    else if (type === 'InternalDNS' || type === 'ExternalDNS') nodeDns.push(address.toLowerCase());
  }
  let widened = false;
  const quoted = q(nodeName);
  for (const dns of request.subjectAltNames.dnsNames) {
    if (nodeDns.includes(dns.toLowerCase())) continue;
    widened = true;
    if ((entry.extraDnsNames ?? []).some((p) => matchesDnsPattern(dns, p.replaceAll(nodePlaceholder, nodeName), undefined))) continue;
    let matched = false;
    for (const pattern of entry.extraDnsRegexes ?? []) {
      const re = automaton(pattern, nodeName);
      if (re instanceof Error) {
        return { widened, problem: { kind: 'wait', rule, message: `extraDnsRegexes expression ${q(pattern)} cannot be used (${re.message}); the configuration should have refused it, so nothing is decided for DNS name ${q(dns)} of node ${quoted}` } };
      }
      if (matchesDnsRegex(re, dns)) {
        matched = true;
        break;
      }
    }
    if (!matched) return { widened, problem: deny(`DNS name ${q(dns)} is not a name of node ${quoted}`) };
  }
  for (const ip of request.subjectAltNames.ipAddresses) {
    const bytes = nodeIp(ip);
    if (bytes !== undefined && nodeIps.some((n) => sameAddress(n, bytes))) continue;
    widened = true;
    const ranges = entry.extraIpRanges ?? [];
    if (ipInRanges(ip, ranges) || (bytes !== undefined && ipInRanges(formatIp(bytes), ranges))) continue;
    return { widened, problem: deny(`IP address ${q(ip)} is not an address of node ${quoted}`) };
  }
  return { widened };
}

export function decideKubeletServing(
  csr: Csr, request: CertificateRequest | CsrSignerError, entry: ApproverSignerConfig, signer: SignerConfig | undefined,
  node: Node | null | undefined,
): ApprovalDecision {
  if (request instanceof Error) return deny(request.message);
  const username = csr.spec.username ?? '';
  const nodeName = claimedNode(username);
  if (nodeName === undefined) return deny(`requester ${q(username)} is not a node: kubelet serving certificates are approved for system:node:<name> users only`);
  if (!isNodeName(nodeName)) {
    return deny(`requester ${q(username)} names node ${q(nodeName)}, which is not a node name (a lowercase DNS-1123 subdomain of at most 253 characters)`);
  }
  if (!(csr.spec.groups ?? []).includes(nodesGroup)) return deny(`requester ${q(username)} is not in group ${nodesGroup}`);
  const shape = shapeProblem(csr, request);
  if (shape !== undefined) return deny(shape);
  const cn = request.subject.commonName ?? '';
  if (cn !== username) return deny(`subject common name ${q(cn)} is not the requester ${q(username)}`);
  const other = request.subject.attributes.find((a) => a.oid !== oidCommonName && a.oid !== oidOrganization);
  if (other !== undefined) return deny(`subject attribute ${other.oid}=${q(other.value)} is not allowed: the subject must be exactly CN=${username}, O=${nodesGroup}`);
  const cns = request.subject.attributes.filter((a) => a.oid === oidCommonName).length;
  if (cns !== 1) return deny(`subject has ${cns} common names, and must have exactly one, ${q(username)}`);
  for (const dns of request.subjectAltNames.dnsNames) {
    const problem = dnsSyntaxProblem(dns);
    if (problem !== undefined) return deny(problem);
  }
  const unsignable = signerProblem(csr, request, signer);
  if (unsignable !== undefined) return deny(unsignable);
  const count = request.subjectAltNames.dnsNames.length + request.subjectAltNames.ipAddresses.length;
  if (entry.maxSubjectAltNames !== undefined && count > entry.maxSubjectAltNames) {
    return deny(`the request has ${count} DNS names and IP addresses, more than the ${entry.maxSubjectAltNames} allowed`);
  }
  const quoted = q(nodeName);
  if (node === null) return deny(`node ${quoted} does not exist`);
  // Not read (a caller that did not fetch what approvalFacts named): nothing to decide on yet.
  if (node === undefined) return { kind: 'wait', rule, message: `node ${quoted} was not read` };
  if (node.metadata.name !== nodeName) return deny(`the Node read is ${q(node.metadata.name ?? '')}, not the requester's node ${quoted}`);
  const { problem, widened } = checkNames(request, entry, nodeName, node);
  if (problem !== undefined) return problem;
  return {
    kind: 'approve', rule,
    message: widened
      ? `Auto approving kubelet serving certificate for node ${quoted}: every name is an address of the node or allowed by the approver's configuration.`
      : `Auto approving kubelet serving certificate for node ${quoted}: every name is an address of the node.`,
  };
}
