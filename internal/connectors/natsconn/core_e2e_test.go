package natsconn_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/testutil"
	"github.com/nats-io/nats.go"
)

// TestCoreFlow runs a flow from core NATS subjects to a core NATS subject at
// every shape: once it subscribed, every message published reaches it once
// and every count comes out; SIGINT stops it (it never ends by itself).
func TestCoreFlow(t *testing.T) {
	srv := testutil.JetStreamServer(t)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	bin := testutil.Command(t, "../../../cmd/bxwasm")
	wasm := testutil.BuildWasm(t, "testdata/coreflow")
	for _, shape := range shapes {
		t.Run(strings.Join(shape, " "), func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			sub, err := nc.Subscribe("counts", func(m *nats.Msg) {
				mu.Lock()
				got = append(got, string(m.Data))
				mu.Unlock()
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			dir := t.TempDir()
			args := append([]string{"run", wasm, "--connection", "events=" + srv.ClientURL(), "-r", filepath.Join(dir, "rec"), "-s", "0.2"}, shape...)
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			proc := testutil.StartKillable(t, cmd)
			waitFor(t, "the flow to subscribe", func() bool {
				return srv.GlobalAccount().SubscriptionInterest("ev.a") && srv.GlobalAccount().SubscriptionInterest("ev.b")
			})
			var want []string
			for i := range 2000 {
				word := fmt.Sprintf("w%d", i%37)
				subject := "ev.a"
				if i%3 == 0 {
					subject = "ev.b"
				}
				nc.Publish(subject, []byte(word))
				want = append(want, fmt.Sprintf("%s %d", word, i/37+1))
			}
			nc.Flush()
			waitFor(t, "every count", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) >= len(want)
			})
			cmd.Process.Signal(syscall.SIGINT)
			stderr, runErr := proc.Wait(0, time.Minute)
			if runErr != nil {
				t.Fatalf("%v\n%s", runErr, stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			slices.Sort(want)
			slices.Sort(got)
			sameLines(t, got, want)
		})
	}
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("waited a minute for %s", what)
}
