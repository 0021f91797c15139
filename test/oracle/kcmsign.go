package main

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

type signInput struct {
	ID                            string   `json:"id"`
	CSR                           string   `json:"csr"`
	SignerName                    string   `json:"signerName"`
	Usages                        []string `json:"usages"`
	Username                      *string  `json:"username"`
	ExpirationSeconds             *int64   `json:"expirationSeconds"`
	ClusterSigningDurationSeconds int64    `json:"clusterSigningDurationSeconds"`
	Now                           string   `json:"now"`
	CACert                        string   `json:"caCert"`
	CAKey                         string   `json:"caKey"`
}

type signOutput struct {
	ID     string  `json:"id"`
	Stage  string  `json:"stage"`
	Error  string  `json:"error,omitempty"`
	Cert   string  `json:"cert,omitempty"`
	Fields *Fields `json:"fields,omitempty"`
}

// The in-tree signer's fixed policy (kubernetes/kubernetes
// pkg/controller/certificates/signer/signer.go, sign and duration).
const (
	backdate = 5 * time.Minute
	short    = 8 * time.Hour
	minTTL   = 10 * time.Minute
)

// serialLimit: serials are random in [0, 2^128) (authority/authority.go).
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

// kcmSign does what kube-controller-manager's csrsigning controller does with an
// approved request, in its order: the apiserver's create-time checks (the request
// parses and its self-signature verifies), the signer's own rules, then signing.
func kcmSign(in signInput) (signOutput, error) {
	now, err := time.Parse(time.RFC3339Nano, in.Now)
	if err != nil {
		return signOutput{}, fmt.Errorf("id %q: now: %v", in.ID, err)
	}
	caDER, err := base64.StdEncoding.DecodeString(in.CACert)
	if err != nil {
		return signOutput{}, fmt.Errorf("id %q: caCert is not base64: %v", in.ID, err)
	}
	keyDER, err := base64.StdEncoding.DecodeString(in.CAKey)
	if err != nil {
		return signOutput{}, fmt.Errorf("id %q: caKey is not base64: %v", in.ID, err)
	}
	out := signOutput{ID: in.ID}
	fail := func(stage string, err error) (signOutput, error) {
		out.Stage, out.Error = stage, err.Error()
		return out, nil
	}

	req, err := parseCSR([]byte(in.CSR))
	if err != nil {
		return fail("create", err)
	}
	if err := req.CheckSignature(); err != nil {
		return fail("create", err)
	}
	if err := validateForSigner(in.SignerName, req, in.Usages); err != nil {
		return fail("validation", err)
	}

	ca, key, err := loadCA(caDER, keyDER)
	if err != nil {
		return fail("sign", err)
	}
	ttl := duration(time.Duration(in.ClusterSigningDurationSeconds)*time.Second, in.ExpirationSeconds)
	der, err := sign(ca, key, req, in.Usages, ttl, now)
	if err != nil {
		return fail("sign", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return signOutput{}, fmt.Errorf("id %q: Go cannot parse the certificate it made: %v", in.ID, err)
	}
	fields := fieldsOf(cert)
	out.Stage, out.Cert, out.Fields = "issued", b64(der), &fields
	return out, nil
}

// parseCSR: the first PEM block must be a CERTIFICATE REQUEST that Go parses
// (kubernetes/kubernetes pkg/apis/certificates/v1/helpers.go, ParseCSR).
func parseCSR(pemBytes []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	return x509.ParseCertificateRequest(block.Bytes)
}

// loadCA parses the CA pair; like the controller's loader (tls.X509KeyPair) it
// refuses a key that does not belong to the certificate.
func loadCA(certDER, keyDER []byte) (*x509.Certificate, crypto.Signer, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, nil, fmt.Errorf("CA certificate: %v", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, nil, fmt.Errorf("CA key: %v", err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("CA key: %T is not a crypto.Signer", parsed)
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, nil, errors.New("tls: private key does not match public key")
	}
	return cert, key, nil
}

// duration picks the certificate TTL: the cluster maximum unless the request asks
// for less, and never below 10 minutes unless the maximum is lower
// (kubernetes/kubernetes pkg/controller/certificates/signer/signer.go, duration).
func duration(clusterTTL time.Duration, expirationSeconds *int64) time.Duration {
	if expirationSeconds == nil {
		return clusterTTL
	}
	requested := time.Duration(*expirationSeconds) * time.Second
	switch {
	case requested > clusterTTL:
		return clusterTTL
	case requested < minTTL:
		return minTTL
	default:
		return requested
	}
}

// sign builds the template from the request and the policy, then lets Go sign it
// (kubernetes/kubernetes pkg/controller/certificates/authority/authority.go, Sign).
func sign(ca *x509.Certificate, key crypto.Signer, req *x509.CertificateRequest, usages []string, ttl time.Duration, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, serialLimit)
	if err != nil {
		return nil, fmt.Errorf("unable to generate a serial number for %s: %v", req.Subject.CommonName, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            req.Subject,
		DNSNames:           req.DNSNames,
		IPAddresses:        req.IPAddresses,
		EmailAddresses:     req.EmailAddresses,
		URIs:               req.URIs,
		PublicKeyAlgorithm: req.PublicKeyAlgorithm,
		PublicKey:          req.PublicKey,
	}
	if err := applyPolicy(tmpl, usages, ttl, now, ca.NotAfter); err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, req.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign certificate: %v", err)
	}
	return der, nil
}
