package recovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// backends opens a fresh store of every kind.
var backends = []struct {
	name string
	open func(t testing.TB) Store
}{
	{"memory", func(testing.TB) Store { return NewMemory() }},
	{"sqlite", func(t testing.TB) Store { return openTemp(t, 3) }},
}

func openTemp(t testing.TB, partitions int) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), t.TempDir(), SQLiteOptions{FlowID: "flow", Create: true, Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func snap(step, key string, epoch uint64, state string) Snapshot {
	return Snapshot{StepID: step, Key: key, Epoch: epoch, State: []byte(state)}
}

func tomb(step, key string, epoch uint64) Snapshot {
	return Snapshot{StepID: step, Key: key, Epoch: epoch}
}

// op is one call on a store in a scenario.
type op func(ctx context.Context, s Store) error

func begin(workers int) op {
	return func(ctx context.Context, s Store) error { _, err := s.Begin(ctx, workers); return err }
}

func write(snaps ...Snapshot) op {
	return func(ctx context.Context, s Store) error { return s.Write(ctx, snaps) }
}

func commit(ex uint64, worker int, epoch uint64) op {
	return func(ctx context.Context, s Store) error { return s.Commit(ctx, ex, worker, epoch) }
}

func gc(before uint64) op {
	return func(ctx context.Context, s Store) error { return s.GC(ctx, before) }
}

var all = func(string, string) bool { return true }

func loadAll(t testing.TB, s Store, epoch uint64, route func(string, string) bool) []Snapshot {
	t.Helper()
	var got []Snapshot
	err := s.Load(context.Background(), epoch, route, func(sn Snapshot) error {
		got = append(got, sn)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b Snapshot) int { return cmpPair(a.StepID, a.Key, b.StepID, b.Key) })
	return got
}

func TestStore(t *testing.T) {
	cases := []struct {
		name   string
		ops    []op
		resume uint64
		loadAt uint64
		route  func(string, string) bool
		want   []Snapshot
	}{
		{name: "empty store resumes at 1", resume: 1, loadAt: 10},
		{name: "latest snapshot at or before the epoch",
			ops:    []op{write(snap("s", "k", 1, "a")), write(snap("s", "k", 2, "b")), write(snap("s", "k", 3, "c"))},
			resume: 1, loadAt: 2, want: []Snapshot{snap("s", "k", 2, "b")}},
		{name: "nothing before the first snapshot",
			ops:    []op{write(snap("s", "k", 3, "c"))},
			resume: 1, loadAt: 2},
		{name: "tombstone hides the key",
			ops:    []op{write(snap("s", "k", 1, "a"), snap("s", "j", 1, "x")), write(tomb("s", "k", 2))},
			resume: 1, loadAt: 2, want: []Snapshot{snap("s", "j", 1, "x")}},
		{name: "state before a tombstone stays loadable",
			ops:    []op{write(snap("s", "k", 1, "a")), write(tomb("s", "k", 2))},
			resume: 1, loadAt: 1, want: []Snapshot{snap("s", "k", 1, "a")}},
		{name: "empty state is not a tombstone",
			ops:    []op{write(Snapshot{StepID: "s", Key: "k", Epoch: 1, State: []byte{}})},
			resume: 1, loadAt: 1, want: []Snapshot{snap("s", "k", 1, "")}},
		{name: "same key and epoch is replaced",
			ops:    []op{write(snap("s", "k", 1, "a")), write(snap("s", "k", 1, "b"))},
			resume: 1, loadAt: 1, want: []Snapshot{snap("s", "k", 1, "b")}},
		{name: "same key in two steps",
			ops:    []op{write(snap("s1", "k", 1, "a"), snap("s2", "k", 1, "b"))},
			resume: 1, loadAt: 1, want: []Snapshot{snap("s1", "k", 1, "a"), snap("s2", "k", 1, "b")}},
		{name: "route keeps only owned keys",
			ops:    []op{write(snap("s", "a", 1, "1"), snap("s", "b", 1, "2"), snap("t", "b", 1, "3"))},
			route:  func(step, key string) bool { return key == "b" },
			resume: 1, loadAt: 1, want: []Snapshot{snap("s", "b", 1, "2"), snap("t", "b", 1, "3")}},
		{name: "resume is the min frontier plus one",
			ops:    []op{begin(2), commit(1, 0, 5), commit(1, 1, 3)},
			resume: 4},
		{name: "a worker without a commit holds the resume back",
			ops:    []op{begin(2), commit(1, 0, 5)},
			resume: 1},
		{name: "frontier never moves back",
			ops:    []op{begin(1), commit(1, 0, 5), commit(1, 0, 3)},
			resume: 6},
		{name: "rescaled execution starts at the resume epoch",
			ops:    []op{begin(2), commit(1, 0, 3), commit(1, 1, 3), begin(3), commit(2, 0, 6)},
			resume: 4},
		{name: "rescaled execution resumes from its own frontiers",
			ops:    []op{begin(2), commit(1, 0, 3), commit(1, 1, 3), begin(3), commit(2, 0, 6), commit(2, 1, 5), commit(2, 2, 7)},
			resume: 6},
		{name: "only the last execution counts",
			ops:    []op{begin(1), commit(1, 0, 9), begin(1)},
			resume: 10},
		{name: "Begin drops snapshots of uncommitted epochs",
			ops: []op{begin(2), write(snap("s", "k", 1, "1")), write(snap("s", "k", 2, "2")),
				write(snap("s", "k", 3, "3")), write(snap("s", "k", 4, "4")), write(snap("s", "k", 5, "5")),
				commit(1, 0, 2), commit(1, 1, 2), begin(3)},
			resume: 3, loadAt: 10, want: []Snapshot{snap("s", "k", 2, "2")}},
		{name: "Begin drops tombstones of uncommitted epochs",
			ops:    []op{begin(1), write(snap("s", "k", 1, "a")), write(tomb("s", "k", 3)), commit(1, 0, 2), begin(1)},
			resume: 3, loadAt: 10, want: []Snapshot{snap("s", "k", 1, "a")}},
		{name: "Begin drops uncommitted epochs in every partition",
			ops:    append(append([]op{begin(1)}, keysAt(1, 2, 3, 4)...), commit(1, 0, 2), begin(1)),
			resume: 3, loadAt: 10, want: keysAt2()},
		{name: "Begin drops nothing on an empty history",
			ops:    []op{write(snap("s", "k", 4, "d")), begin(1)},
			resume: 1, loadAt: 10},
		{name: "Begin keeps committed epochs",
			ops:    []op{begin(1), write(snap("s", "k", 1, "a")), write(snap("s", "k", 2, "b")), commit(1, 0, 2), begin(1)},
			resume: 3, loadAt: 10, want: []Snapshot{snap("s", "k", 2, "b")}},
		{name: "GC keeps the state seen at its epoch",
			ops: []op{write(snap("s", "k", 1, "a"), snap("s", "j", 1, "x")), write(snap("s", "k", 2, "b")),
				write(snap("s", "k", 4, "d")), gc(3)},
			resume: 1, loadAt: 3, want: []Snapshot{snap("s", "j", 1, "x"), snap("s", "k", 2, "b")}},
		{name: "GC keeps later snapshots",
			ops:    []op{write(snap("s", "k", 1, "a")), write(snap("s", "k", 4, "d")), gc(3)},
			resume: 1, loadAt: 4, want: []Snapshot{snap("s", "k", 4, "d")}},
		{name: "GC drops a tombstoned key",
			ops:    []op{write(snap("s", "k", 1, "a")), write(tomb("s", "k", 2)), gc(2)},
			resume: 1, loadAt: 5},
	}
	for _, b := range backends {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				ctx := context.Background()
				s := b.open(t)
				for i, o := range tc.ops {
					if err := o(ctx, s); err != nil {
						t.Fatalf("op %d: %v", i, err)
					}
				}
				if got, err := s.ResumeEpoch(ctx); err != nil || got != tc.resume {
					t.Fatalf("ResumeEpoch = %d, %v; want %d", got, err, tc.resume)
				}
				route := tc.route
				if route == nil {
					route = all
				}
				got := loadAll(t, s, tc.loadAt, route)
				if !equalSnaps(got, tc.want) {
					t.Fatalf("Load(%d) = %v; want %v", tc.loadAt, got, tc.want)
				}
			})
		}
	}
}

// keysAt writes keys k0..k19 (spread over the partitions) at each epoch, state "k<i>@<epoch>".
func keysAt(epochs ...uint64) []op {
	var ops []op
	for _, e := range epochs {
		var snaps []Snapshot
		for i := range 20 {
			snaps = append(snaps, snap("s", fmt.Sprintf("k%02d", i), e, fmt.Sprintf("k%02d@%d", i, e)))
		}
		ops = append(ops, write(snaps...))
	}
	return ops
}

// keysAt2 is what keysAt leaves at epoch 2.
func keysAt2() []Snapshot {
	var out []Snapshot
	for i := range 20 {
		out = append(out, snap("s", fmt.Sprintf("k%02d", i), 2, fmt.Sprintf("k%02d@2", i)))
	}
	return out
}

func equalSnaps(a, b []Snapshot) bool {
	return slices.EqualFunc(a, b, func(x, y Snapshot) bool {
		return x.StepID == y.StepID && x.Key == y.Key && x.Epoch == y.Epoch &&
			string(x.State) == string(y.State) && x.State != nil
	})
}

func TestStoreErrors(t *testing.T) {
	cases := []struct {
		name string
		ops  []op
		want error
	}{
		{"zero workers", []op{begin(0)}, ErrBadWorkers},
		{"commit without execution", []op{commit(1, 0, 1)}, ErrUnknownExecution},
		{"commit to an unknown execution", []op{begin(1), commit(2, 0, 1)}, ErrUnknownExecution},
		{"commit to an old execution", []op{begin(1), begin(1), commit(1, 0, 1)}, ErrStaleExecution},
		{"worker out of range", []op{begin(2), commit(1, 2, 1)}, ErrBadWorker},
		{"negative worker", []op{begin(2), commit(1, -1, 1)}, ErrBadWorker},
		{"load error is returned", []op{write(snap("s", "k", 1, "a")), func(ctx context.Context, s Store) error {
			return s.Load(ctx, 1, all, func(Snapshot) error { return errSentinel })
		}}, errSentinel},
		{"use after close", []op{func(context.Context, Store) error { return nil }, func(ctx context.Context, s Store) error {
			s.Close()
			_, err := s.ResumeEpoch(ctx)
			return err
		}}, ErrClosed},
	}
	for _, b := range backends {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				s := b.open(t)
				var err error
				for _, o := range tc.ops {
					if err = o(context.Background(), s); err != nil {
						break
					}
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v; want %v", err, tc.want)
				}
			})
		}
	}
}

var errSentinel = errors.New("test: stop")
