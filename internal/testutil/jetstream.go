package testutil

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
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

// publishWindow is how many messages Publish has in flight at most.
const publishWindow = 512

// Publish publishes each message of msgs (subject and data) through
// JetStream, a window of them at a time, and waits for every
// acknowledgement, so a loaded machine slows it down instead of failing it.
func Publish(t testing.TB, js jetstream.JetStream, msgs [][2]string) {
	t.Helper()
	acks := make([]jetstream.PubAckFuture, 0, publishWindow)
	wait := func() {
		for _, a := range acks {
			select {
			case <-a.Ok():
			case err := <-a.Err():
				t.Fatalf("publishing to %s: %v", a.Msg().Subject, err)
			case <-time.After(time.Minute):
				t.Fatalf("publishing to %s: no acknowledgement within a minute", a.Msg().Subject)
			}
		}
		acks = acks[:0]
	}
	for _, m := range msgs {
		a, err := js.PublishAsync(m[0], []byte(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		if acks = append(acks, a); len(acks) == publishWindow {
			wait()
		}
	}
	wait()
}
