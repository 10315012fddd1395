package cluster

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bxwasm/bxwasm/internal/testutil"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// dial connects with auth; a refused connection is an error.
func dial(url string, auth transport.ConnAuth) (*nats.Conn, error) {
	return nats.Connect(url, append(auth.Options(), nats.Timeout(5*time.Second))...)
}

func TestServerRefusesStrangers(t *testing.T) {
	files := testutil.NewTLSFiles(t)
	tlsFiles := TLSFiles{Cert: files.Cert, Key: files.Key, CA: files.CA}
	good := Token([]byte("the run's secret"))
	withTLS := transport.ConnAuth{CertFile: files.Cert, KeyFile: files.Key, CAFile: files.CA}
	for _, tc := range []struct {
		name string
		cfg  ServerConfig
		auth transport.ConnAuth
		want string // "" when the connection must succeed
	}{
		{"token: none", ServerConfig{Token: good}, transport.ConnAuth{}, "authorization violation"},
		{"token: wrong", ServerConfig{Token: good}, transport.ConnAuth{Token: Token([]byte("a guess"))}, "authorization violation"},
		{"token: right", ServerConfig{Token: good}, transport.ConnAuth{Token: good}, ""},
		{"tls: plain client", ServerConfig{Token: good, TLS: tlsFiles}, transport.ConnAuth{Token: good}, "certificate signed by unknown authority"},
		{"tls: no token", ServerConfig{Token: good, TLS: tlsFiles}, withTLS, "authorization violation"},
		{"tls: no client certificate", ServerConfig{Token: good, TLS: tlsFiles}, transport.ConnAuth{Token: good, CAFile: files.CA}, "tls"},
		{"tls: right", ServerConfig{Token: good, TLS: tlsFiles}, transport.ConnAuth{Token: good, CertFile: files.Cert, KeyFile: files.Key, CAFile: files.CA}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Listen = "127.0.0.1:0"
			_, url := startServer(t, tc.cfg)
			nc, err := dial(url, tc.auth)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				roundTrip(t, nc, nc)
				nc.Close()
				return
			}
			if err == nil {
				nc.Close()
				t.Fatalf("connected; want a refusal (%s)", tc.want)
			}
			if !strings.Contains(strings.ToLower(err.Error()), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// roundTrip checks a message published on one connection reaches the other.
func roundTrip(t *testing.T, pub, sub *nats.Conn) {
	t.Helper()
	s, err := sub.SubscribeSync("across")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unsubscribe()
	sub.Flush()
	// Interest crosses a route asynchronously: publish until it arrives.
	waitFor(t, 10*time.Second, "a message to cross", func() bool {
		pub.Publish("across", []byte("hello"))
		m, err := s.NextMsg(50 * time.Millisecond)
		return err == nil && string(m.Data) == "hello"
	})
}

// TestSecuredRoutes routes two servers over TLS with the cluster's token,
// and checks that a server with another token is not let in.
func TestSecuredRoutes(t *testing.T) {
	files := testutil.NewTLSFiles(t)
	tlsFiles := TLSFiles{Cert: files.Cert, Key: files.Key, CA: files.CA}
	token := Token([]byte("the cluster's secret"))
	cfg := func(name string, token string, routes ...string) ServerConfig {
		return ServerConfig{Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Name: name, Token: token, TLS: tlsFiles, Routes: routes}
	}
	a, urlA := startServer(t, cfg("a", token))
	b, urlB := startServer(t, cfg("b", token, a.ClusterAddr().String()))
	waitFor(t, 10*time.Second, "route between a and b", func() bool { return a.NumRoutes() > 0 && b.NumRoutes() > 0 })
	auth := transport.ConnAuth{Token: token, CertFile: files.Cert, KeyFile: files.Key, CAFile: files.CA}
	ncA, err := dial(urlA, auth)
	if err != nil {
		t.Fatal(err)
	}
	defer ncA.Close()
	ncB, err := dial(urlB, auth)
	if err != nil {
		t.Fatal(err)
	}
	defer ncB.Close()
	roundTrip(t, ncA, ncB)

	routes := a.NumRoutes()
	rogue, _ := startServer(t, cfg("rogue", Token([]byte("a guess")), a.ClusterAddr().String()))
	// The rogue server tries its route at once; give it three seconds.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if rogue.NumRoutes() > 0 || a.NumRoutes() > routes {
			t.Fatalf("a server with the wrong token joined: rogue has %d routes, a has %d (was %d)", rogue.NumRoutes(), a.NumRoutes(), routes)
		}
	}
}

func TestStartServerAddressInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	for _, tc := range []struct {
		name  string
		cfg   ServerConfig
		which string
	}{
		{"client", ServerConfig{Listen: addr}, "client listener"},
		{"route", ServerConfig{Listen: "127.0.0.1:0", ClusterListen: addr}, "route listener"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := StartServer(tc.cfg)
			if err == nil {
				s.Shutdown()
				t.Fatalf("StartServer succeeded on %s, which another socket holds", addr)
			}
			if !errors.Is(err, ErrAddrInUse) || !strings.Contains(err.Error(), "address in use: "+addr) || !strings.Contains(err.Error(), tc.which) {
				t.Fatalf("err = %v, want ErrAddrInUse naming the %s and %s", err, tc.which, addr)
			}
		})
	}
}
