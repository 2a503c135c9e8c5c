#!/bin/sh
# make-certs.sh DIR [CLIENT_NAME] - throw-away TLS certificates for trying
# hitlqd's TLS and for the tests and benchmarks: NOT for production.
#
# Writes into DIR (created 0700 if missing), P-256 keys, 825-day validity:
#   ca.pem ca.key           a private CA (kept and reused when DIR already
#                           has one, so rerunning re-issues the leaf
#                           certificates under the same CA: rotation)
#   server.pem server.key   for localhost, 127.0.0.1 and ::1 (subjectAltName)
#   client.pem client.key   a client certificate, CN = CLIENT_NAME (default
#                           alice), for mutual TLS
# Key files are mode 0600.  Prints the configuration lines to use.
set -eu

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: sh scripts/make-certs.sh DIR [CLIENT_NAME]" >&2; exit 2; }
CN=${2:-alice}
case $CN in
    ''|*[!A-Za-z0-9._@-]*) echo "make-certs.sh: client name: letters, digits and ._@- only" >&2; exit 2 ;;
esac
command -v openssl > /dev/null || { echo "make-certs.sh: the openssl command is missing" >&2; exit 1; }
mkdir -p "$1"
chmod 700 "$1"
D=$(cd "$1" && pwd)
umask 077
EXT=$D/.ext.cnf
trap 'rm -f "$EXT" "$D/server.csr" "$D/client.csr"' EXIT

cat > "$EXT" <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
serial() { printf '0x%s' "$(openssl rand -hex 12)"; }

if [ ! -s "$D/ca.pem" ] || [ ! -s "$D/ca.key" ]; then
    newkey "$D/ca.key"
    openssl req -x509 -new -key "$D/ca.key" -sha256 -days 825 -set_serial "$(serial)" \
        -subj "/CN=hitlq throw-away test CA" -config "$EXT" -extensions ca \
        -out "$D/ca.pem" 2>/dev/null
fi

# issue NAME SUBJECT_CN EXTENSIONS
issue() {
    newkey "$D/$1.key"
    openssl req -new -key "$D/$1.key" -subj "/CN=$2" -out "$D/$1.csr" 2>/dev/null
    openssl x509 -req -in "$D/$1.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
        -set_serial "$(serial)" -days 825 -sha256 -extfile "$EXT" -extensions "$3" \
        -out "$D/$1.pem" 2>/dev/null
}
issue server localhost server
issue client "$CN" client
chmod 600 "$D/ca.key" "$D/server.key" "$D/client.key"
chmod 644 "$D/ca.pem" "$D/server.pem" "$D/client.pem"

cat <<EOF
# hitlqd configuration (TLS on; new certificates are picked up on SIGHUP):
tls_cert = "$D/server.pem"
tls_key = "$D/server.key"
# mutual TLS (optional): clients must present a certificate from this CA
tls_client_ca = "$D/ca.pem"

# clients:
#   hitlq --tls-ca $D/ca.pem [--tls-cert $D/client.pem --tls-key $D/client.key] ...
#   (or export HITLQ_TLS_CA=$D/ca.pem); libhitlq: hitlq_options.tls_ca etc.
EOF
