package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// startServer starts an embedded server for a test and shuts it down after.
func startServer(t *testing.T, cfg ServerConfig) (*server.Server, string) {
	t.Helper()
	s, url, err := StartServer(cfg)
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s, url
}

// connect opens a client connection closed after the test.
func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStartServerSingle(t *testing.T) {
	_, url := startServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	if !strings.HasPrefix(url, "nats://127.0.0.1:") || strings.HasSuffix(url, ":-1") {
		t.Fatalf("url = %q, want nats://127.0.0.1:<port>", url)
	}
	nc := connect(t, url)
	sub, err := nc.SubscribeSync("x")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("x", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil || string(m.Data) != "hi" {
		t.Fatalf("got %v, %v; want hi", m, err)
	}
}

func TestStartServerRoutedCluster(t *testing.T) {
	a, urlA := startServer(t, ServerConfig{Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Name: "a"})
	b, urlB := startServer(t, ServerConfig{
		Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Name: "b",
		Routes: []string{a.ClusterAddr().String()},
	})
	waitFor(t, 10*time.Second, "route between a and b", func() bool {
		return a.NumRoutes() > 0 && b.NumRoutes() > 0
	})
	ncA, ncB := connect(t, urlA), connect(t, urlB)
	sub, err := ncB.SubscribeSync("across")
	if err != nil {
		t.Fatal(err)
	}
	ncB.Flush()
	// Interest crosses the route asynchronously: publish until it arrives.
	waitFor(t, 10*time.Second, "a message published on a to reach b", func() bool {
		ncA.Publish("across", []byte("hello"))
		m, err := sub.NextMsg(50 * time.Millisecond)
		return err == nil && string(m.Data) == "hello"
	})
}

func TestStartServerBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ServerConfig
		want string
	}{
		{"no port", ServerConfig{Listen: "127.0.0.1"}, "listen"},
		{"bad port", ServerConfig{Listen: "127.0.0.1:http"}, "bad port"},
		{"routes without cluster", ServerConfig{Listen: "127.0.0.1:0", Routes: []string{"h:1"}}, "cluster listen"},
		{"bad route", ServerConfig{Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Routes: []string{"nohost"}}, "route"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := StartServer(tc.cfg)
			if err == nil {
				s.Shutdown()
				t.Fatal("StartServer succeeded, want an error")
			}
			if !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrServer mentioning %q", err, tc.want)
			}
		})
	}
}
