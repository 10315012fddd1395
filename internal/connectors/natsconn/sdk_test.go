package natsconn_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/testutil"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestSDKStreamCount runs the stream_count example of the Rust, C and
// AssemblyScript SDKs (each built with its SDK's build.sh) over one stream:
// each publishes "subject<TAB>n" for the n-th message of every subject.
func TestSDKStreamCount(t *testing.T) {
	url := testutil.JetStream(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"ev.*"}}); err != nil {
		t.Fatal(err)
	}
	var want []string
	var msgs [][2]string
	seen := map[string]int{}
	for i := range 3000 {
		subject := fmt.Sprintf("ev.s%d", i*i%17)
		msgs = append(msgs, [2]string{subject, "x"})
		seen[subject]++
		want = append(want, fmt.Sprintf("%s\t%d", subject, seen[subject]))
	}
	testutil.Publish(t, js, msgs)
	slices.Sort(want)
	bin := testutil.Command(t, "../../../cmd/bxwasm")
	for _, sdk := range []string{"rust", "c", "assemblyscript"} {
		t.Run(sdk, func(t *testing.T) {
			out := sdk + "_counts"
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OUT_" + sdk, Subjects: []string{out}}); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			wasm := filepath.Join(dir, "stream_count.wasm")
			root := "../../../guest-sdk/" + sdk
			if b, err := exec.Command("bash", root+"/build.sh", root+"/examples/stream_count", wasm).CombinedOutput(); err != nil {
				t.Fatalf("building the %s example: %v\n%s", sdk, err, b)
			}
			cmd := exec.Command(bin, "run", wasm+":flow('EVENTS', '"+out+"')", "--connection", "nats="+url,
				"-w2", "-r", filepath.Join(dir, "rec"), "-s", "0.2")
			cmd.Dir = dir
			if stderr, err := testutil.RunKillable(t, cmd, 0, 2*time.Minute); err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			sameLines(t, readStream(t, js, "OUT_"+sdk), want)
		})
	}
}
