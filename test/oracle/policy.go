package main

import (
	"crypto/x509"
	"fmt"
	"sort"
	"time"
)

// The usage strings of certificates.k8s.io/v1 and what each becomes
// (kubernetes/kubernetes pkg/controller/certificates/authority/policies.go).
var keyUsages = map[string]x509.KeyUsage{
	"signing":            x509.KeyUsageDigitalSignature,
	"digital signature":  x509.KeyUsageDigitalSignature,
	"content commitment": x509.KeyUsageContentCommitment,
	"key encipherment":   x509.KeyUsageKeyEncipherment,
	"key agreement":      x509.KeyUsageKeyAgreement,
	"data encipherment":  x509.KeyUsageDataEncipherment,
	"cert sign":          x509.KeyUsageCertSign,
	"crl sign":           x509.KeyUsageCRLSign,
	"encipher only":      x509.KeyUsageEncipherOnly,
	"decipher only":      x509.KeyUsageDecipherOnly,
}

var extKeyUsages = map[string]x509.ExtKeyUsage{
	"any":              x509.ExtKeyUsageAny,
	"server auth":      x509.ExtKeyUsageServerAuth,
	"client auth":      x509.ExtKeyUsageClientAuth,
	"code signing":     x509.ExtKeyUsageCodeSigning,
	"email protection": x509.ExtKeyUsageEmailProtection,
	"s/mime":           x509.ExtKeyUsageEmailProtection,
	"ipsec end system": x509.ExtKeyUsageIPSECEndSystem,
	"ipsec tunnel":     x509.ExtKeyUsageIPSECTunnel,
	"ipsec user":       x509.ExtKeyUsageIPSECUser,
	"timestamping":     x509.ExtKeyUsageTimeStamping,
	"ocsp signing":     x509.ExtKeyUsageOCSPSigning,
	"microsoft sgc":    x509.ExtKeyUsageMicrosoftServerGatedCrypto,
	"netscape sgc":     x509.ExtKeyUsageNetscapeServerGatedCrypto,
}

// usagesOf ORs the key usage bits and collects the extended key usages once
// each, in Go's ExtKeyUsage order; any unknown string is an error.
func usagesOf(usages []string) (x509.KeyUsage, []x509.ExtKeyUsage, error) {
	var ku x509.KeyUsage
	seen := map[x509.ExtKeyUsage]bool{}
	var ekus []x509.ExtKeyUsage
	var unknown []string
	for _, u := range usages {
		if bit, ok := keyUsages[u]; ok {
			ku |= bit
		} else if eku, ok := extKeyUsages[u]; ok {
			if !seen[eku] {
				seen[eku] = true
				ekus = append(ekus, eku)
			}
		} else {
			unknown = append(unknown, u)
		}
	}
	if len(unknown) > 0 {
		return 0, nil, fmt.Errorf("unrecognized usage values: %q", unknown)
	}
	sort.Slice(ekus, func(i, j int) bool { return ekus[i] < ekus[j] })
	return ku, ekus, nil
}

// applyPolicy is the in-tree PermissiveSigningPolicy with the signer's constants:
// usages, no extensions from the request, CA:FALSE, NotBefore backdated, NotAfter
// not backdated for short-lived certificates and cut at the CA's NotAfter, and
// the two errors for an expired CA, checked in this order.
func applyPolicy(tmpl *x509.Certificate, usages []string, ttl time.Duration, now, signerNotAfter time.Time) error {
	ku, ekus, err := usagesOf(usages)
	if err != nil {
		return err
	}
	tmpl.KeyUsage = ku
	tmpl.ExtKeyUsage = ekus
	tmpl.Extensions = nil
	tmpl.ExtraExtensions = nil
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = false

	tmpl.NotBefore = now.Add(-backdate)
	if ttl < short {
		tmpl.NotAfter = now.Add(ttl)
	} else {
		tmpl.NotAfter = now.Add(ttl - backdate)
	}
	if !tmpl.NotAfter.Before(signerNotAfter) {
		tmpl.NotAfter = signerNotAfter
	}
	if !tmpl.NotBefore.Before(signerNotAfter) {
		return fmt.Errorf("the signer has expired: NotAfter=%v", signerNotAfter)
	}
	if !now.Before(signerNotAfter) {
		return fmt.Errorf("refusing to sign a certificate that expired in the past: NotAfter=%v", signerNotAfter)
	}
	return nil
}
