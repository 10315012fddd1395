package cluster

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
)

// ErrTLS is wrapped by the errors about a process's TLS files.
var ErrTLS = errors.New("cluster: TLS")

// tlsTimeout is how long a TLS handshake may take, in seconds.
const tlsTimeout = 5

// TLSFiles are the PEM files with which the processes of a manual cluster
// prove themselves to each other: this process's certificate and key, and
// the CA that signed every process's certificate. The zero TLSFiles means
// no TLS.
type TLSFiles struct {
	Cert, Key, CA string
}

// Enabled reports whether f names any file.
func (f TLSFiles) Enabled() bool { return f != TLSFiles{} }

// Validate checks that f names all three files or none.
func (f TLSFiles) Validate() error {
	if f.Enabled() && (f.Cert == "" || f.Key == "" || f.CA == "") {
		return fmt.Errorf("%w: --tls-cert, --tls-key and --tls-ca go together: give all three", ErrTLS)
	}
	return nil
}

// serverConfig is the TLS configuration of a server's listener: it shows
// the certificate and requires one the CA signed of every peer.
func (f TLSFiles) serverConfig() (*tls.Config, error) {
	c, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: f.Cert, KeyFile: f.Key, CaFile: f.CA, Verify: true})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTLS, err)
	}
	return c, nil
}

// secure turns on TLS for the client and route listeners of opts.
func (f TLSFiles) secure(opts *server.Options) error {
	if !f.Enabled() {
		return nil
	}
	c, err := f.serverConfig()
	if err != nil {
		return err
	}
	opts.TLS, opts.TLSVerify, opts.TLSConfig, opts.TLSTimeout = true, true, c, tlsTimeout
	if opts.Cluster.Port != 0 {
		// A route is a client of the other server too: it checks that
		// server's certificate against the CA.
		rc := c.Clone()
		rc.RootCAs = c.ClientCAs
		opts.Cluster.TLSConfig, opts.Cluster.TLSTimeout = rc, tlsTimeout
	}
	return nil
}
