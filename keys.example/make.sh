#!/usr/bin/env bash
# Regenerates the example CA and request in keys.example/.
# THESE KEYS ARE PUBLIC. FOR TESTING ONLY. NEVER USE THEM IN PRODUCTION.
set -euo pipefail
cd "$(dirname "$0")"

# The CA: ECDSA P-256, self-signed, 10 years. No intermediate: the root signs.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve \
  -out ca-key.pem
openssl req -x509 -new -config /dev/null -utf8 -key ca-key.pem -sha256 -days 3650 \
  -subj "/CN=csr-signer example CA — FOR TESTING ONLY" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" \
  -out ca.pem

# The example request: ECDSA P-256, CN and DNS SAN demo.example.com.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve \
  -out example-key.pem
openssl req -new -config /dev/null -key example-key.pem -sha256 \
  -subj "/CN=demo.example.com" \
  -addext "subjectAltName=DNS:demo.example.com" \
  -out example.csr

chmod 644 ca-key.pem example-key.pem # public test keys
