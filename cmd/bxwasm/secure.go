package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/cluster"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// envClusterSecret holds a manual cluster's shared secret itself; it is no
// flag, as a secret on the command line is visible to every user.
const envClusterSecret = "BXWASM_CLUSTER_SECRET"

// minClusterSecret is the shortest shared secret a manual cluster accepts.
const minClusterSecret = 16

// tls is the TLS files the flags name.
func (f clusterFlags) tls() cluster.TLSFiles {
	return cluster.TLSFiles{Cert: f.TLSCert, Key: f.TLSKey, CA: f.TLSCA}
}

// connAuth is how this process connects to NATS: with token when set, the
// credentials file and the TLS files.
func (f clusterFlags) connAuth(token string) transport.ConnAuth {
	return transport.ConnAuth{Token: token, CredsFile: f.NATSCreds, CertFile: f.TLSCert, KeyFile: f.TLSKey, CAFile: f.TLSCA}
}

// childAuth sets how a process of a local cluster connects to NATS: with
// the secret its supervisor handed it, for the supervisor's embedded
// server, or else with the flags, for --nats.
func (f clusterFlags) childAuth(o *host.Options) error {
	secret, ok, err := cluster.SecretFromEnv()
	if err != nil {
		return err
	}
	if ok {
		o.NATSOptions = transport.ConnAuth{Token: cluster.Token(secret)}.Options()
		return nil
	}
	o.NATSOptions = f.connAuth("").Options()
	return nil
}

// clusterSecret is a manual cluster's shared secret, from
// --cluster-secret-file or BXWASM_CLUSTER_SECRET; nil when neither is set
// and every peer is on loopback, an error when a peer is not.
func (f clusterFlags) clusterSecret(peers []cluster.Peer) ([]byte, error) {
	secret, err := f.readClusterSecret()
	if err != nil || secret != nil {
		return secret, err
	}
	if addr := cluster.NotLoopback(peers); addr != "" {
		return nil, fmt.Errorf("-a lists %s, which is not a loopback address: the processes' NATS servers would take anyone's connections there. "+
			"Give every process the same secret of at least %d bytes with --cluster-secret-file FILE (or the secret itself in %s), and consider --tls-cert/--tls-key/--tls-ca",
			addr, minClusterSecret, envClusterSecret)
	}
	return nil, nil
}

// readClusterSecret reads the secret, without the line end a file may have.
func (f clusterFlags) readClusterSecret() ([]byte, error) {
	env := os.Getenv(envClusterSecret)
	var secret []byte
	switch {
	case f.ClusterSecretFile != "" && env != "":
		return nil, fmt.Errorf("both --cluster-secret-file and %s are set: give the secret once", envClusterSecret)
	case env != "":
		secret = []byte(env)
	case f.ClusterSecretFile != "":
		b, err := os.ReadFile(f.ClusterSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--cluster-secret-file: %w", err)
		}
		secret = bytes.TrimRight(b, "\r\n")
	default:
		return nil, nil
	}
	if len(secret) < minClusterSecret || len(secret) > cluster.MaxSecret {
		return nil, fmt.Errorf("the cluster secret has %d bytes: give %d to %d (for example: head -c 32 /dev/urandom | base64 > FILE)",
			len(secret), minClusterSecret, cluster.MaxSecret)
	}
	return secret, nil
}
