{{/*
Named templates of the csr-signer chart. test/chart/ renders this chart with Go's
text/template, Sprig and Helm's functions (test/chart/helm/main.go), as Helm does.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "csr-signer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-<chart>, or fullnameOverride; the release name alone when it already holds the chart name. */}}
{{- define "csr-signer.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "csr-signer.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "csr-signer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the pods; they never change across upgrades. */}}
{{- define "csr-signer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "csr-signer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount the signer runs as. */}}
{{- define "csr-signer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "csr-signer.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The leader-election Lease: its name is in the Role's resourceNames and in --leader-elect-resource-name. */}}
{{- define "csr-signer.leaseName" -}}
{{- default (include "csr-signer.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The rotation record ConfigMap (--rotation-record): its name is also in the Role's resourceNames. */}}
{{- define "csr-signer.rotationRecordName" -}}
{{- default (printf "%s-rotation" (include "csr-signer.fullname" .)) .Values.rotationRecord.name }}
{{- end }}

{{/*
The names RBAC pins for trust publishing (src/kube/rbac.ts TrustTargets), one
`- "name"` line each, in signer order; empty when no signer has that kind of target.
*/}}
{{- define "csr-signer.trustConfigMapNames" -}}
{{- range .Values.signers }}
{{- $trust := default (dict) .trust }}
{{- if hasKey $trust "configMap" }}
- {{ $trust.configMap.name | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* A signer-linked ClusterTrustBundle's name: given, or <signerName with / as :>:csr-signer (src/config/trust.ts). */}}
{{- define "csr-signer.trustBundleNames" -}}
{{- range .Values.signers }}
{{- $trust := default (dict) .trust }}
{{- if hasKey $trust "clusterTrustBundle" }}
- {{ default (printf "%s:csr-signer" (replace "/" ":" .name)) $trust.clusterTrustBundle.name | quote }}
{{- end }}
{{- end }}
{{- end }}

{{- define "csr-signer.attestSignerNames" -}}
{{- range .Values.signers }}
{{- $trust := default (dict) .trust }}
{{- if hasKey $trust "clusterTrustBundle" }}
- {{ .name | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* repository@digest, or repository:tag (tag defaults to appVersion). */}}
{{- define "csr-signer.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* "true" when a value (ca.key, ca.cert) is a PKCS#11 URI (docs/hsm.md), else empty. */}}
{{- define "csr-signer.isPkcs11Uri" -}}
{{- if and (kindIs "string" .) (hasPrefix "pkcs11:" .) }}true{{ end }}
{{- end }}

{{/*
"true" when signer .ca (a signers[].ca dict) reads anything from a CA Secret: always,
except when its certificate is on the token too (ca.cert a URI); else empty.
*/}}
{{- define "csr-signer.caHasSecret" -}}
{{- if not (include "csr-signer.isPkcs11Uri" .cert) }}true{{ end }}
{{- end }}

{{/* Where a signer's CA comes from, for NOTES.txt (. is a signers[].ca dict). */}}
{{- define "csr-signer.caSource" -}}
{{- if include "csr-signer.isPkcs11Uri" .key }}
{{- printf "CA key on a PKCS#11 token, certificate %s" (ternary "on the token" (ternary (printf "from Secret %s" (toString .existingSecret)) "from inline values" (not (empty .existingSecret)))  (not (empty (include "csr-signer.isPkcs11Uri" .cert)))) }}
{{- else if .existingSecret }}
{{- printf "CA from Secret %s" .existingSecret }}
{{- else }}
{{- print "CA from inline values: DEVELOPMENT ONLY" }}
{{- end }}
{{- end }}

{{/* The Secret of signer number .index (a dict of root and index): existingSecret, or the one made from inline cert/key. */}}
{{- define "csr-signer.caSecretName" -}}
{{- $signer := index .root.Values.signers .index }}
{{- if $signer.ca.existingSecret }}
{{- $signer.ca.existingSecret }}
{{- else }}
{{- printf "%s-ca-%d" (include "csr-signer.fullname" .root) .index | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* "true" when a signer (the dict of a .Values.signers entry) serves CSRs: certificateSigningRequests absent or true. */}}
{{- define "csr-signer.servesCsrs" -}}
{{- if or (not (kindIs "bool" .certificateSigningRequests)) .certificateSigningRequests }}true{{ end }}
{{- end }}

{{/* "true" when some signer serves CSRs, else empty (pod certificates only: no CSR rule, no CSR approver). */}}
{{- define "csr-signer.anyServesCsrs" -}}
{{- range .Values.signers }}
{{- if include "csr-signer.servesCsrs" . }}true{{ end }}
{{- end }}
{{- end }}

{{/*
The signers with pod certificates (a non-empty podCertificates), one `- "name"` line each:
RBAC `sign` for PodCertificateRequests on exactly these. Empty when none.
*/}}
{{- define "csr-signer.podCertificateSignerNames" -}}
{{- range .Values.signers }}
{{- if .podCertificates }}
- {{ .name | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when some signer's podCertificates has podCheck: true (the Pod is read by name), else empty. */}}
{{- define "csr-signer.podCertificatePodCheck" -}}
{{- range .Values.signers }}
{{- if and .podCertificates .podCertificates.podCheck }}true{{ end }}
{{- end }}
{{- end }}

{{/* "true" when some signer's podCertificates.namespaces has a selector (the Namespace is read by name), else empty. */}}
{{- define "csr-signer.podCertificateNamespaceSelector" -}}
{{- range .Values.signers }}
{{- if and .podCertificates .podCertificates.namespaces }}
{{- if .podCertificates.namespaces.selector }}true{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The `signers:` of a SignerConfiguration (docs/configuration.md), from .Values.signers.
Signer i's CA Secret is mounted at /etc/csr-signer/ca/<i>/ (see deployment.yaml), its
ca.trustKey as trust.crt. A dict of root and signing: signing false leaves each signer's
`ca:`, `trust:` and `podCertificates:` out, and the signers that serve no CSRs (the
separate approver, `signing: false`, has no CA, publishes no bundle and signs no pod
certificate: it needs the rules of the signers whose CSRs it approves only).
*/}}
{{- define "csr-signer.signersConfig" -}}
{{- $root := .root -}}
signers:
{{- range $i, $signer := $root.Values.signers }}
{{- if or $.signing (include "csr-signer.servesCsrs" $signer) }}
  - name: {{ $signer.name | quote }}
    {{- if $.signing }}
    ca:
      {{- if include "csr-signer.isPkcs11Uri" $signer.ca.cert }}
      cert: {{ $signer.ca.cert | quote }}
      {{- else }}
      certFile: /etc/csr-signer/ca/{{ $i }}/tls.crt
      {{- end }}
      {{- if include "csr-signer.isPkcs11Uri" $signer.ca.key }}
      key: {{ $signer.ca.key | quote }}
      {{- else }}
      keyFile: /etc/csr-signer/ca/{{ $i }}/tls.key
      {{- end }}
      {{- with $signer.ca.pkcs11 }}
      {{- /* The PIN Secret is mounted at /etc/csr-signer/pkcs11/<i>/ (see deployment.yaml). */}}
      pkcs11:
        module: {{ required (printf "signers[%d].ca.pkcs11.module is required" $i) .module | quote }}
        pinFile: /etc/csr-signer/pkcs11/{{ $i }}/pin
        {{- if not (kindIs "invalid" .sessions) }}
        sessions: {{ .sessions }}
        {{- end }}
      {{- end }}
      {{- if and $signer.ca.trustKey $signer.ca.trustFile }}
      {{- fail (printf "signers[%d].ca: set trustKey or trustFile, not both" $i) }}
      {{- end }}
      {{- if $signer.ca.trustKey }}
      trustFile: /etc/csr-signer/ca/{{ $i }}/trust.crt
      {{- else if $signer.ca.trustFile }}
      trustFile: {{ $signer.ca.trustFile | quote }}
      {{- end }}
      {{- with $signer.ca.passphraseFile }}
      passphraseFile: {{ . | quote }}
      {{- end }}
    {{- end }}
    {{- with $signer.duration }}
    duration:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $signer.usages }}
    usages:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $signer.keyTypes }}
    keyTypes:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- if $signer.includeChain }}
    includeChain: true
    {{- end }}
    {{- with $signer.policy }}
    policy:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- if $.signing }}
    {{- with $signer.trust }}
    trust:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- if not (include "csr-signer.servesCsrs" $signer) }}
    certificateSigningRequests: false
    {{- end }}
    {{- with $signer.podCertificates }}
    podCertificates:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when the approver is on (approver.enabled), else empty. */}}
{{- define "csr-signer.approverOn" -}}
{{- if .Values.approver.enabled }}true{{ end }}
{{- end }}

{{/* "true" when the approver runs as a Deployment of its own (approver.separateDeployment), else empty. */}}
{{- define "csr-signer.approverSeparate" -}}
{{- if and .Values.approver.enabled .Values.approver.separateDeployment }}true{{ end }}
{{- end }}

{{/*
"true" when the CSR cleaner runs: cleanup.enabled, or when it is null, the approver on in
enforce mode (as the config file's default: an approver in audit mode writes nothing, so
it deletes nothing unless cleanup.enabled says so).
*/}}
{{- define "csr-signer.cleanupOn" -}}
{{- if kindIs "invalid" .Values.cleanup.enabled }}
{{- if and .Values.approver.enabled (eq .Values.approver.mode "enforce") }}true{{ end }}
{{- else if .Values.cleanup.enabled }}true{{ end }}
{{- end }}

{{/*
The approver's per-signer entries (approver.signers), one YAML list item each. Empty
approver.signers: one entry per signer of .Values.signers that serves CSRs and has an
approval profile, as --approve does (kube-apiserver-client and legacy-unknown are never
auto-approved; pod certificates have no approval step).
*/}}
{{- define "csr-signer.approverEntries" -}}
{{- if .Values.approver.signers }}
{{- range .Values.approver.signers }}
- {{ toYaml . | nindent 2 | trim }}
{{- end }}
{{- else }}
{{- range .Values.signers }}
{{- if and (include "csr-signer.servesCsrs" .) (not (has .name (list "kubernetes.io/kube-apiserver-client" "kubernetes.io/legacy-unknown"))) }}
- signerName: {{ .name | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The signerNames the approver approves for, one `- "name"` line each: RBAC `approve` on exactly these. */}}
{{- define "csr-signer.approverSignerNames" -}}
{{- range (include "csr-signer.approverEntries" . | fromYamlArray) }}
- {{ .signerName | quote }}
{{- end }}
{{- end }}

{{/* "true" when an approver entry is for kubernetes.io/kubelet-serving (the Node is read), else empty. */}}
{{- define "csr-signer.approverReadsNodes" -}}
{{- range (include "csr-signer.approverEntries" . | fromYamlArray) }}
{{- if eq .signerName "kubernetes.io/kubelet-serving" }}true{{ end }}
{{- end }}
{{- end }}

{{/* The `approver:` and `cleanup:` of a SignerConfiguration, for the process that runs them. */}}
{{- define "csr-signer.approvalConfig" -}}
{{- if include "csr-signer.approverOn" . }}
{{- $entries := include "csr-signer.approverEntries" . | trim }}
{{- if not $entries }}
{{- fail "approver.enabled: no signer to approve for: list approver.signers, or serve a signer other than kubernetes.io/kube-apiserver-client and kubernetes.io/legacy-unknown" }}
{{- end }}
approver:
  mode: {{ .Values.approver.mode }}
  signers:
    {{- $entries | nindent 4 }}
{{- end }}
{{- $c := .Values.cleanup }}
{{- if include "csr-signer.cleanupOn" . }}
cleanup:
  enabled: true
  issued: {{ $c.issued | quote }}
  denied: {{ $c.denied | quote }}
  failed: {{ $c.failed | quote }}
  pending: {{ $c.pending | quote }}
  approvedUnissued: {{ $c.approvedUnissued | quote }}
{{- else if include "csr-signer.approverOn" . }}
cleanup:
  enabled: false
{{- end }}
{{- end }}

{{/*
The signer's SignerConfiguration (docs/configuration.md), passed with --config: the
signers, and the approver and cleaner unless they run in the approver's own Deployment.
*/}}
{{- define "csr-signer.config" -}}
apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
{{ include "csr-signer.signersConfig" (dict "root" . "signing" true) }}
{{- if not (include "csr-signer.approverSeparate" .) }}
{{- with include "csr-signer.approvalConfig" . | trim }}
{{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The separate approver's SignerConfiguration (approver.separateDeployment): `signing: false`,
the signers without their CA (the `policy` profile applies their rules), the approver
and the cleaner.
*/}}
{{- define "csr-signer.approverConfig" -}}
apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
# Approve and clean only (also --signing=false): no CA is loaded.
signing: false
{{ include "csr-signer.signersConfig" (dict "root" . "signing" false) }}
{{ include "csr-signer.approvalConfig" . | trim }}
{{- end }}

{{/* <fullname>-approver: the separate approver's Deployment, ServiceAccount, ClusterRole and default Lease. */}}
{{- define "csr-signer.approverFullname" -}}
{{- printf "%s-approver" (include "csr-signer.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{/*
The ServiceAccount the approver runs as: the signer's, or with separateDeployment its own,
never the namespace's `default` by omission and never the signer's (either would give the
approver's rights to pods that are not the approver, and undo the separation).
*/}}
{{- define "csr-signer.approverServiceAccountName" -}}
{{- if not (include "csr-signer.approverSeparate" .) }}
{{- include "csr-signer.serviceAccountName" . }}
{{- else }}
{{- $name := .Values.approver.serviceAccount.name }}
{{- if .Values.approver.serviceAccount.create }}
{{- $name = default (include "csr-signer.approverFullname" .) $name }}
{{- else if not $name }}
{{- fail "approver.serviceAccount.name is required when approver.serviceAccount.create is false: the separate approver never runs as the namespace's default ServiceAccount" }}
{{- end }}
{{- if eq $name (include "csr-signer.serviceAccountName" .) }}
{{- fail (printf "approver.serviceAccount.name %q is the signer's ServiceAccount: with approver.separateDeployment the approver needs one of its own, or the signer's identity could approve" $name) }}
{{- end }}
{{- $name }}
{{- end }}
{{- end }}

{{/* The separate approver's Lease (--leader-elect-resource-name): its own, never the signer's. */}}
{{- define "csr-signer.approverLeaseName" -}}
{{- default (include "csr-signer.approverFullname" .) .Values.approver.leaseName }}
{{- end }}

{{/* Labels that select the separate approver's pods: a name of their own, so the signer's selector never matches them. */}}
{{- define "csr-signer.approverSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-approver" (include "csr-signer.name" . | trunc 54 | trimSuffix "-") }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: approver
{{- end }}
