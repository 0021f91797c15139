package main

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// Name is a pkix.Name as Go parsed it: the modelled attributes, and every
// attribute in certificate order (Names).
type Name struct {
	Country            []string        `json:"country"`
	Organization       []string        `json:"organization"`
	OrganizationalUnit []string        `json:"organizationalUnit"`
	Locality           []string        `json:"locality"`
	Province           []string        `json:"province"`
	StreetAddress      []string        `json:"streetAddress"`
	PostalCode         []string        `json:"postalCode"`
	SerialNumber       string          `json:"serialNumber"`
	CommonName         string          `json:"commonName"`
	Names              []AttributeJSON `json:"names"`
}

type AttributeJSON struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type ExtensionJSON struct {
	ID       string `json:"id"`
	Critical bool   `json:"critical"`
	Value    string `json:"value"`
}

// Fields is what Go's x509.ParseCertificate made of a certificate.
type Fields struct {
	Version                 int             `json:"version"`
	SerialHex               string          `json:"serialHex"`
	RawIssuer               string          `json:"rawIssuer"`
	RawSubject              string          `json:"rawSubject"`
	Issuer                  Name            `json:"issuer"`
	Subject                 Name            `json:"subject"`
	NotBefore               string          `json:"notBefore"`
	NotAfter                string          `json:"notAfter"`
	KeyUsage                int             `json:"keyUsage"`
	ExtKeyUsage             []int           `json:"extKeyUsage"`
	UnknownExtKeyUsage      []string        `json:"unknownExtKeyUsage"`
	BasicConstraintsValid   bool            `json:"basicConstraintsValid"`
	IsCA                    bool            `json:"isCA"`
	MaxPathLen              int             `json:"maxPathLen"`
	MaxPathLenZero          bool            `json:"maxPathLenZero"`
	DNSNames                []string        `json:"dnsNames"`
	EmailAddresses          []string        `json:"emailAddresses"`
	IPAddresses             []string        `json:"ipAddresses"`
	URIs                    []string        `json:"uris"`
	SubjectKeyID            string          `json:"subjectKeyId"`
	AuthorityKeyID          string          `json:"authorityKeyId"`
	SignatureAlgorithm      string          `json:"signatureAlgorithm"`
	PublicKeyAlgorithm      string          `json:"publicKeyAlgorithm"`
	RawSubjectPublicKeyInfo string          `json:"rawSubjectPublicKeyInfo"`
	Extensions              []ExtensionJSON `json:"extensions"`
}

func fieldsOf(c *x509.Certificate) Fields {
	f := Fields{
		Version:                 c.Version,
		SerialHex:               c.SerialNumber.Text(16),
		RawIssuer:               b64(c.RawIssuer),
		RawSubject:              b64(c.RawSubject),
		Issuer:                  nameOf(c.Issuer),
		Subject:                 nameOf(c.Subject),
		NotBefore:               rfc3339(c.NotBefore),
		NotAfter:                rfc3339(c.NotAfter),
		KeyUsage:                int(c.KeyUsage),
		ExtKeyUsage:             []int{},
		UnknownExtKeyUsage:      []string{},
		BasicConstraintsValid:   c.BasicConstraintsValid,
		IsCA:                    c.IsCA,
		MaxPathLen:              c.MaxPathLen,
		MaxPathLenZero:          c.MaxPathLenZero,
		DNSNames:                strs(c.DNSNames),
		EmailAddresses:          strs(c.EmailAddresses),
		IPAddresses:             []string{},
		URIs:                    []string{},
		SubjectKeyID:            hex.EncodeToString(c.SubjectKeyId),
		AuthorityKeyID:          hex.EncodeToString(c.AuthorityKeyId),
		SignatureAlgorithm:      c.SignatureAlgorithm.String(),
		PublicKeyAlgorithm:      c.PublicKeyAlgorithm.String(),
		RawSubjectPublicKeyInfo: b64(c.RawSubjectPublicKeyInfo),
		Extensions:              []ExtensionJSON{},
	}
	for _, u := range c.ExtKeyUsage {
		f.ExtKeyUsage = append(f.ExtKeyUsage, int(u))
	}
	for _, oid := range c.UnknownExtKeyUsage {
		f.UnknownExtKeyUsage = append(f.UnknownExtKeyUsage, oid.String())
	}
	for _, ip := range c.IPAddresses {
		f.IPAddresses = append(f.IPAddresses, ip.String())
	}
	for _, u := range c.URIs {
		f.URIs = append(f.URIs, u.String())
	}
	for _, e := range c.Extensions {
		f.Extensions = append(f.Extensions, ExtensionJSON{ID: e.Id.String(), Critical: e.Critical, Value: b64(e.Value)})
	}
	return f
}

func nameOf(n pkix.Name) Name {
	out := Name{
		Country:            strs(n.Country),
		Organization:       strs(n.Organization),
		OrganizationalUnit: strs(n.OrganizationalUnit),
		Locality:           strs(n.Locality),
		Province:           strs(n.Province),
		StreetAddress:      strs(n.StreetAddress),
		PostalCode:         strs(n.PostalCode),
		SerialNumber:       n.SerialNumber,
		CommonName:         n.CommonName,
		Names:              []AttributeJSON{},
	}
	for _, a := range n.Names {
		value, ok := a.Value.(string)
		if !ok {
			value = fmt.Sprint(a.Value)
		}
		out.Names = append(out.Names, AttributeJSON{Type: a.Type.String(), Value: value})
	}
	return out
}

// strs keeps empty lists as [] rather than null in the JSON.
func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
