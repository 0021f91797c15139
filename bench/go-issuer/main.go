// The Go baseline of bench/run.js: what kube-controller-manager's in-tree signer
// does with one approved request, on Go's crypto/x509, one request at a time on
// one goroutine. Standard library only.
//
// Per request, as kubernetes/kubernetes pkg/controller/certificates/signer/signer.go
// (signer.sign) and authority/authority.go (CertificateAuthority.Sign) do it: decode
// the PEM and x509.ParseCertificateRequest, cr.CheckSignature, a random 128-bit
// serial, the template built from the parsed request, the PermissiveSigningPolicy
// of authority/policies.go (usages to keyUsage/extKeyUsage, 5-minute backdate,
// TTL, no extensions from the request, CA:FALSE, cut at the CA's NotAfter),
// x509.CreateCertificate with the CA key, pem.EncodeToMemory. The in-tree
// controller parses the request twice (signer.handle, then Sign again from Raw);
// this baseline parses it once, as csr-signer does.
//
// JSON lines on stdin, one answer line each on stdout:
//
//	{"op":"load","type":"P-256","caCert":PEM,"caKey":PEM (PKCS#8),"requests":[PEM,…],"usages":[…],"ttlSeconds":N}
//	  → {"certificate":PEM} (the first request's certificate, for the bench's own checks)
//	{"op":"run","type":"P-256","ms":500}
//	  → {"count":N,"seconds":S,"cpuSeconds":C}: requests of the pool in turn, sequentially, for
//	    that long; C is the CPU time of the whole process meanwhile (all threads: the GC's too)
//
// Any failure answers {"error":"…"}.
package main

import (
	"bufio"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sort"
	"syscall"
	"time"
)

type command struct {
	Op         string   `json:"op"`
	Type       string   `json:"type"`
	CACert     string   `json:"caCert"`
	CAKey      string   `json:"caKey"`
	Requests   []string `json:"requests"`
	Usages     []string `json:"usages"`
	TTLSeconds int64    `json:"ttlSeconds"`
	Ms         int64    `json:"ms"`
}

type answer struct {
	Certificate string  `json:"certificate,omitempty"`
	Count       int     `json:"count,omitempty"`
	Seconds     float64 `json:"seconds,omitempty"`
	CPUSeconds  float64 `json:"cpuSeconds,omitempty"`
	Error       string  `json:"error,omitempty"`
}

type issuer struct {
	ca       *x509.Certificate
	key      crypto.Signer
	requests [][]byte // PEM, as a CSR's spec.request holds it
	usages   []string
	ttl      time.Duration
}

// The in-tree signer's fixed policy (signer.go, sign).
const backdate = 5 * time.Minute

var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

// The usage strings of certificates.k8s.io/v1 (authority/policies.go, keyUsageDict
// and extKeyUsageDict).
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

// keyUsagesFromStrings as policies.go: OR the key usage bits, collect the
// extended key usages once each in Go's order; an unknown string is an error.
func keyUsagesFromStrings(usages []string) (x509.KeyUsage, []x509.ExtKeyUsage, error) {
	var ku x509.KeyUsage
	set := map[x509.ExtKeyUsage]struct{}{}
	for _, u := range usages {
		if bit, ok := keyUsages[u]; ok {
			ku |= bit
		} else if eku, ok := extKeyUsages[u]; ok {
			set[eku] = struct{}{}
		} else {
			return 0, nil, fmt.Errorf("unrecognized usage value: %q", u)
		}
	}
	ekus := make([]x509.ExtKeyUsage, 0, len(set))
	for eku := range set {
		ekus = append(ekus, eku)
	}
	sort.Slice(ekus, func(i, j int) bool { return ekus[i] < ekus[j] })
	return ku, ekus, nil
}

// issue is one request, start to finish.
func (s *issuer) issue(pemRequest []byte) ([]byte, error) {
	block, _ := pem.Decode(pemRequest)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	cr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("unable to parse certificate request: %v", err)
	}
	if err := cr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("unable to verify certificate request signature: %v", err)
	}
	serial, err := rand.Int(rand.Reader, serialLimit)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            cr.Subject,
		DNSNames:           cr.DNSNames,
		IPAddresses:        cr.IPAddresses,
		EmailAddresses:     cr.EmailAddresses,
		URIs:               cr.URIs,
		PublicKeyAlgorithm: cr.PublicKeyAlgorithm,
		PublicKey:          cr.PublicKey,
		Extensions:         cr.Extensions,
		ExtraExtensions:    cr.ExtraExtensions,
	}
	// PermissiveSigningPolicy.apply with the signer's Backdate and Short (8 h; the
	// bench's TTL is longer, so NotAfter is backdated too).
	ku, ekus, err := keyUsagesFromStrings(s.usages)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl.KeyUsage, tmpl.ExtKeyUsage = ku, ekus
	tmpl.ExtraExtensions, tmpl.Extensions = nil, nil
	tmpl.BasicConstraintsValid, tmpl.IsCA = true, false
	tmpl.NotBefore = now.Add(-backdate)
	tmpl.NotAfter = now.Add(s.ttl - backdate)
	if !tmpl.NotAfter.Before(s.ca.NotAfter) {
		tmpl.NotAfter = s.ca.NotAfter
	}
	if !now.Before(s.ca.NotAfter) {
		return nil, fmt.Errorf("refusing to sign a certificate that expired in the past: NotAfter=%v", s.ca.NotAfter)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, cr.PublicKey, s.key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign certificate: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func load(c command) (*issuer, error) {
	certBlock, _ := pem.Decode([]byte(c.CACert))
	keyBlock, _ := pem.Decode([]byte(c.CAKey))
	if certBlock == nil || keyBlock == nil {
		return nil, errors.New("caCert and caKey must be PEM")
	}
	ca, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %v", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA key: %v", err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("CA key: %T is not a crypto.Signer", parsed)
	}
	if len(c.Requests) == 0 || c.TTLSeconds <= 0 {
		return nil, errors.New("load needs requests and ttlSeconds")
	}
	s := &issuer{ca: ca, key: key, usages: c.Usages, ttl: time.Duration(c.TTLSeconds) * time.Second}
	for _, r := range c.Requests {
		s.requests = append(s.requests, []byte(r))
	}
	return s, nil
}

// cpuSeconds is the CPU time (user + system) of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// run issues the pool's requests in turn for ms milliseconds.
func (s *issuer) run(ms int64) (answer, error) {
	cpu := cpuSeconds()
	start := time.Now()
	deadline := start.Add(time.Duration(ms) * time.Millisecond)
	n := 0
	now := start
	for now.Before(deadline) {
		if _, err := s.issue(s.requests[n%len(s.requests)]); err != nil {
			return answer{}, err
		}
		n++
		now = time.Now()
	}
	return answer{Count: n, Seconds: now.Sub(start).Seconds(), CPUSeconds: cpuSeconds() - cpu}, nil
}

func main() {
	issuers := map[string]*issuer{}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var c command
		var a answer
		err := json.Unmarshal(in.Bytes(), &c)
		switch {
		case err != nil:
		case c.Op == "load":
			var s *issuer
			if s, err = load(c); err == nil {
				var cert []byte
				if cert, err = s.issue(s.requests[0]); err == nil {
					issuers[c.Type] = s
					a.Certificate = string(cert)
				}
			}
		case c.Op == "run" && issuers[c.Type] != nil:
			a, err = issuers[c.Type].run(c.Ms)
		default:
			err = fmt.Errorf("unknown command %q for %q", c.Op, c.Type)
		}
		if err != nil {
			a = answer{Error: err.Error()}
		}
		if err := out.Encode(a); err != nil {
			os.Exit(1)
		}
	}
}
