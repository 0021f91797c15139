package main

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"time"
)

type parseInput struct {
	ID     string   `json:"id"`
	Cert   string   `json:"cert"`
	Issuer *string  `json:"issuer"`
	Roots  []string `json:"roots"`
	At     *string  `json:"at"`
}

type parseOutput struct {
	ID        string  `json:"id"`
	OK        bool    `json:"ok"`
	Error     *string `json:"error,omitempty"`
	Fields    *Fields `json:"fields,omitempty"`
	Signature *string `json:"signature,omitempty"`
	Verify    *string `json:"verify,omitempty"`
}

// parseOne parses one certificate with x509.ParseCertificate and, when the issuer
// is given, checks its signature and verifies the chain as a Kubernetes client would.
func parseOne(in parseInput) (parseOutput, error) {
	der, err := base64.StdEncoding.DecodeString(in.Cert)
	if err != nil {
		return parseOutput{}, fmt.Errorf("id %q: cert is not base64: %v", in.ID, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		msg := err.Error()
		return parseOutput{ID: in.ID, OK: false, Error: &msg}, nil
	}
	fields := fieldsOf(cert)
	out := parseOutput{ID: in.ID, OK: true, Fields: &fields}
	if in.Issuer == nil {
		return out, nil
	}
	issuer, err := parseB64Cert(*in.Issuer)
	if err != nil {
		return parseOutput{}, fmt.Errorf("id %q: issuer: %v", in.ID, err)
	}
	out.Signature = result(cert.CheckSignatureFrom(issuer))

	roots := x509.NewCertPool()
	roots.AddCert(issuer)
	for i, r := range in.Roots {
		root, err := parseB64Cert(r)
		if err != nil {
			return parseOutput{}, fmt.Errorf("id %q: roots[%d]: %v", in.ID, i, err)
		}
		roots.AddCert(root)
	}
	at := cert.NotBefore.Add(time.Second)
	if in.At != nil {
		if at, err = time.Parse(time.RFC3339, *in.At); err != nil {
			return parseOutput{}, fmt.Errorf("id %q: at: %v", in.ID, err)
		}
	}
	_, err = cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	out.Verify = result(err)
	return out, nil
}

func parseB64Cert(s string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	return x509.ParseCertificate(der)
}

// result is "ok" for no error, else the error's text.
func result(err error) *string {
	s := "ok"
	if err != nil {
		s = err.Error()
	}
	return &s
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
