package guest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// batchOf builds a batch of keyed items "k=v" from pairs.
func batchOf(kv ...string) abi.Batch {
	var b abi.Batch
	for i := 0; i+1 < len(kv); i += 2 {
		b.Append([]byte(kv[i]), true, []byte(kv[i+1]))
	}
	return b
}

// items decodes a batch into "key=value" strings ("value" when unkeyed).
func items(t *testing.T, b abi.Batch) []string {
	t.Helper()
	out := []string{}
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		if item.HasKey {
			out = append(out, string(item.Key)+"="+string(item.Value))
		} else {
			out = append(out, string(item.Value))
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestClient(t *testing.T) {
	inst := instantiate(t, newRuntime(t, Config{}), "echo")
	if inst.ABIVersion() != abi.Version {
		t.Fatalf("ABI version %d", inst.ABIVersion())
	}
	tests := []struct {
		name string
		call func(ctx context.Context) (any, error)
		want any
	}{
		{"list flows", func(ctx context.Context) (any, error) { return inst.ListFlows(ctx) },
			[]abi.FlowInfo{{Name: "flow"}, {Name: "factory", Params: []abi.Param{{Name: "n", Type: abi.ArgInt}, {Name: "s", Type: abi.ArgString}}}}},
		{"build", func(ctx context.Context) (any, error) {
			g, err := inst.Build(ctx, abi.BuildRequest{Flow: "f", Args: []abi.Arg{
				{Type: abi.ArgInt, I: -3}, {Type: abi.ArgString, S: "x"}, {Type: abi.ArgFloat, F: 1.5}, {Type: abi.ArgBool, B: true}}})
			if err != nil {
				return nil, err
			}
			return []string{g.Flow, g.Steps[0].ID, g.Steps[0].Arg, g.Steps[1].ID}, nil
		}, []string{"f", "f.-3.x.1.5.true", "in.txt", "f.out"}},
		{"fuse", func(ctx context.Context) (any, error) {
			return nil, inst.Fuse(ctx, abi.FuseRequest{Chain: 1, Steps: []uint32{2, 3}})
		}, nil},
		{"run chain", func(ctx context.Context) (any, error) {
			p, err := inst.RunChain(ctx, abi.ChainRequest{Chain: 1, Worker: 2, Epoch: 3, Batch: batchOf("a", "1", "b", "2")})
			if err != nil {
				return nil, err
			}
			return [][]string{items(t, p.Outputs[0]), items(t, p.Outputs[1])}, nil
		}, [][]string{{"a=1", "b=2"}, {}}},
		{"stateful batch", func(ctx context.Context) (any, error) {
			p, err := inst.StatefulBatch(ctx, abi.StatefulRequest{Step: 4, Now: 99, Batch: batchOf("a", "1", "drop", "2", "a", "3")})
			if err != nil {
				return nil, err
			}
			return fmt.Sprint(items(t, p.Emits), p.Keys), nil
		}, "[a=1 drop=2 a=3] [{a false 99} {drop true 99}]"},
		{"notify", func(ctx context.Context) (any, error) {
			p, err := inst.Notify(ctx, abi.KeysRequest{Step: 4, Now: 7, Keys: []string{"x", "y"}})
			if err != nil {
				return nil, err
			}
			return fmt.Sprint(items(t, p.Emits), p.Keys), nil
		}, "[x=x y=y] [{x false 8} {y false 8}]"},
		{"eof", func(ctx context.Context) (any, error) {
			p, err := inst.EOF(ctx, abi.StepRequest{Step: 5, Now: 1})
			return fmt.Sprint(items(t, p.Emits), p.Keys), err
		}, "[] [{step5 true 0}]"},
		{"snapshot", func(ctx context.Context) (any, error) {
			s, err := inst.Snapshot(ctx, abi.KeysRequest{Step: 6, Keys: []string{"k", "gone"}})
			var got []string
			for _, it := range s.Items {
				got = append(got, fmt.Sprint(it.Key, " ", it.Present, " ", string(it.State)))
			}
			return fmt.Sprint(s.Step, got), err
		}, "6 [k true k gone false gone]"},
		{"restore", func(ctx context.Context) (any, error) {
			return nil, inst.Restore(ctx, abi.Snapshots{Step: 6, Items: []abi.KeySnap{{Key: "k", Present: true, State: []byte("s")}}})
		}, nil},
		{"list parts", func(ctx context.Context) (any, error) {
			return inst.ListParts(ctx, abi.PartsRequest{Step: 0, Worker: 1, Workers: 3})
		}, []string{"part0", "part1", "part2"}},
		{"build part", func(ctx context.Context) (any, error) {
			return nil, inst.BuildPart(ctx, abi.BuildPartRequest{Step: 0, Handle: 1, Part: "p", Workers: 1, HasResume: true, Resume: []byte("r")})
		}, nil},
		{"next batch", func(ctx context.Context) (any, error) {
			p, err := inst.NextBatch(ctx, abi.HandleRequest{Step: 0, Handle: 2, Now: -5})
			return fmt.Sprint(p.EOF, p.Awake, items(t, p.Batch)), err
		}, "false -5 [0 1]"},
		{"next batch eof", func(ctx context.Context) (any, error) {
			p, err := inst.NextBatch(ctx, abi.HandleRequest{Step: 0, Handle: 0})
			return fmt.Sprint(p.EOF, p.Batch.N), err
		}, "true 0"},
		{"write batch", func(ctx context.Context) (any, error) {
			return nil, inst.WriteBatch(ctx, abi.WriteRequest{Step: 1, Handle: 1, Batch: batchOf("k", "v")})
		}, nil},
		{"part snapshot", func(ctx context.Context) (any, error) {
			o, err := inst.PartSnapshot(ctx, abi.HandleRequest{Step: 0, Handle: 42})
			return fmt.Sprint(o.Present, " ", string(o.B)), err
		}, "true 42"},
		{"part snapshot none", func(ctx context.Context) (any, error) {
			o, err := inst.PartSnapshot(ctx, abi.HandleRequest{Step: 0, Handle: 0})
			return fmt.Sprint(o.Present, len(o.B)), err
		}, "false 0"},
		{"close part", func(ctx context.Context) (any, error) {
			return nil, inst.ClosePart(ctx, abi.HandleRequest{Step: 0, Handle: 1})
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.call(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestGuestError(t *testing.T) {
	inst := instantiate(t, newRuntime(t, Config{}), "echo")
	tests := []struct {
		name string
		call func(ctx context.Context) error
		want abi.ErrorInfo
	}{
		{"build fails", func(ctx context.Context) error {
			_, err := inst.Build(ctx, abi.BuildRequest{Flow: "fail"})
			return err
		}, abi.ErrorInfo{Message: "no flow named fail", Stack: "build()", Step: 0, HasKey: true, Key: "k"}},
		{"unknown op", func(ctx context.Context) error {
			_, err := inst.Call(ctx, []byte{99})
			return err
		}, abi.ErrorInfo{Message: "unknown op", Step: -1}},
		{"trailing request bytes", func(ctx context.Context) error {
			_, err := inst.Call(ctx, []byte{byte(abi.OpListFlows), 1})
			return err
		}, abi.ErrorInfo{Message: "echo: bad request: abi: 1 trailing bytes at byte 1", Step: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(t.Context())
			var ge *abi.GuestError
			if !errors.As(err, &ge) {
				t.Fatalf("err = %v, want a GuestError", err)
			}
			if !reflect.DeepEqual(ge.Info, tc.want) || err.Error() != tc.want.Message {
				t.Errorf("got %+v (%q), want %+v", ge.Info, err, tc.want)
			}
		})
	}
	// A guest error leaves the instance usable.
	if _, err := inst.ListFlows(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestResponseAliasing checks the documented lifetime: a response stays
// intact until the next call, which reuses the buffer.
func TestResponseAliasing(t *testing.T) {
	inst := instantiate(t, newRuntime(t, Config{}), "echo")
	ctx := t.Context()
	p, err := inst.RunChain(ctx, abi.ChainRequest{Batch: batchOf("k", "first")})
	if err != nil {
		t.Fatal(err)
	}
	if got := items(t, p.Outputs[0]); got[0] != "k=first" {
		t.Fatalf("got %v", got)
	}
	if _, err := inst.RunChain(ctx, abi.ChainRequest{Batch: batchOf("k", "other")}); err != nil {
		t.Fatal(err)
	}
	if got := items(t, p.Outputs[0]); got[0] != "k=other" {
		t.Fatalf("old response not overwritten in place: %v (did the buffer stop being reused?)", got)
	}
}

func TestCallAllocs(t *testing.T) {
	inst := instantiate(t, newRuntime(t, Config{}), "echo")
	ctx := context.Background()
	q := abi.ChainRequest{Chain: 1, Batch: batchOf("a", "1", "b", "2")}
	if _, err := inst.RunChain(ctx, q); err != nil { // grow the buffers
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func()
		max  float64
	}{
		{"fuse", func() { _ = inst.Fuse(ctx, abi.FuseRequest{Chain: 1, Steps: []uint32{1}}) }, 0},
		{"write batch", func() { _ = inst.WriteBatch(ctx, abi.WriteRequest{Batch: q.Batch}) }, 0},
		{"run chain", func() { _, _ = inst.RunChain(ctx, q) }, 1}, // the outputs slice
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tc.call); n > tc.max {
				t.Errorf("%v allocations per call, want at most %v", n, tc.max)
			}
		})
	}
}
