package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The signer-specific rules, with the in-tree messages (kubernetes/kubernetes
// pkg/apis/certificates/helpers.go, ValidateKubeletServingCSR and
// ValidateKubeletClientCSR; pkg/controller/certificates/signer/signer.go,
// validAPIServerClientUsages). An error here is a Failed condition with reason
// SignerValidationFailure. Signer names the in-tree controller does not know are
// treated as a custom signer with no rules of its own.
func validateForSigner(signerName string, req *x509.CertificateRequest, usages []string) error {
	switch signerName {
	case "kubernetes.io/kube-apiserver-client":
		return validateAPIServerClient(usages)
	case "kubernetes.io/kube-apiserver-client-kubelet":
		return validateKubeletClient(req, usages)
	case "kubernetes.io/kubelet-serving":
		return validateKubeletServing(req, usages)
	default: // kubernetes.io/legacy-unknown and custom signers: no rules
		return nil
	}
}

var (
	errOrganization   = errors.New("subject organization is not system:nodes")
	errCommonName     = errors.New("subject common name does not begin with system:node:")
	errDNSOrIPMissing = errors.New("DNS or IP subjectAltName is required")
	errDNSSAN         = errors.New("DNS subjectAltNames are not allowed")
	errEmailSAN       = errors.New("Email subjectAltNames are not allowed")
	errIPSAN          = errors.New("IP subjectAltNames are not allowed")
	errURISAN         = errors.New("URI subjectAltNames are not allowed")
)

func validateAPIServerClient(usages []string) error {
	hasClientAuth := false
	for _, u := range usages {
		switch u {
		case "digital signature", "key encipherment":
		case "client auth":
			hasClientAuth = true
		default:
			return fmt.Errorf("invalid usage for client certificate: %s", u)
		}
	}
	if !hasClientAuth {
		return errors.New("missing required usage for client certificate: client auth")
	}
	return nil
}

// Checks in the in-tree order: organization, SANs, common name, then usages.
func validateKubeletClient(req *x509.CertificateRequest, usages []string) error {
	if !onlySystemNodes(req.Subject.Organization) {
		return errOrganization
	}
	switch {
	case len(req.DNSNames) > 0:
		return errDNSSAN
	case len(req.EmailAddresses) > 0:
		return errEmailSAN
	case len(req.IPAddresses) > 0:
		return errIPSAN
	case len(req.URIs) > 0:
		return errURISAN
	}
	if !strings.HasPrefix(req.Subject.CommonName, "system:node:") {
		return errCommonName
	}
	return matchUsages(usages, "client auth")
}

// Checks in the in-tree order: organization, SANs, usages, then common name.
func validateKubeletServing(req *x509.CertificateRequest, usages []string) error {
	if !onlySystemNodes(req.Subject.Organization) {
		return errOrganization
	}
	switch {
	case len(req.DNSNames) == 0 && len(req.IPAddresses) == 0:
		return errDNSOrIPMissing
	case len(req.EmailAddresses) > 0:
		return errEmailSAN
	case len(req.URIs) > 0:
		return errURISAN
	}
	if err := matchUsages(usages, "server auth"); err != nil {
		return err
	}
	if !strings.HasPrefix(req.Subject.CommonName, "system:node:") {
		return errCommonName
	}
	return nil
}

func onlySystemNodes(orgs []string) bool { return len(orgs) == 1 && orgs[0] == "system:nodes" }

// matchUsages: the usages, as a set, must be {digital signature, key
// encipherment, auth} or {digital signature, auth}; the message lists the
// first set sorted, as Go's %v prints a sorted string list.
func matchUsages(usages []string, auth string) error {
	set := map[string]bool{}
	for _, u := range usages {
		set[u] = true
	}
	withKE := []string{"digital signature", "key encipherment", auth}
	withoutKE := []string{"digital signature", auth}
	if !sameSet(set, withKE) && !sameSet(set, withoutKE) {
		sort.Strings(withKE)
		return fmt.Errorf("usages did not match %v", withKE)
	}
	return nil
}

func sameSet(set map[string]bool, want []string) bool {
	if len(set) != len(want) {
		return false
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}
