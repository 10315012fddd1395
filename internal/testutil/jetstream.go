package testutil

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// JetStream starts a NATS server with JetStream, in this process, on a free
// loopback port with its store in a temporary directory, and returns its
// URL. The server stops when the test ends.
func JetStream(t testing.TB) string { return JetStreamServer(t).ClientURL() }

// JetStreamServer is JetStream returning the server itself.
func JetStreamServer(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatal("testutil: the JetStream server did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}
