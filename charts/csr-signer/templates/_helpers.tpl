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

{{/* The Secret of signer number .index (a dict of root and index): existingSecret, or the one made from inline cert/key. */}}
{{- define "csr-signer.caSecretName" -}}
{{- $signer := index .root.Values.signers .index }}
{{- if $signer.ca.existingSecret }}
{{- $signer.ca.existingSecret }}
{{- else }}
{{- printf "%s-ca-%d" (include "csr-signer.fullname" .root) .index | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
The SignerConfiguration (docs/configuration.md) passed with --config. Signer i's CA
Secret is mounted at /etc/csr-signer/ca/<i>/ (see deployment.yaml), its ca.trustKey
as trust.crt.
*/}}
{{- define "csr-signer.config" -}}
apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
signers:
{{- range $i, $signer := .Values.signers }}
  - name: {{ $signer.name | quote }}
    ca:
      certFile: /etc/csr-signer/ca/{{ $i }}/tls.crt
      keyFile: /etc/csr-signer/ca/{{ $i }}/tls.key
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
    {{- with $signer.trust }}
    trust:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end }}
{{- end }}
