package recovery

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// initWith creates a store of n partitions in a new directory, with some snapshots so files have pages.
func initWith(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	s, err := OpenSQLite(context.Background(), dir, SQLiteOptions{FlowID: "flow", Create: true, Partitions: n})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Begin(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	var snaps []Snapshot
	for i := range 2000 {
		snaps = append(snaps, snap("s", fmt.Sprintf("key-%d", i), 1, strings.Repeat("x", 100)))
	}
	if err := s.Write(context.Background(), snaps); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fingerprint hashes every file in dir but the lock and holder files, to show a refused open wrote nothing.
func fingerprint(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), LockFile) || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}

func TestOpenSQLiteRefuses(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T) string // returns the directory to open
		flow  string
		want  error
		msg   []string
	}{
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") },
			"", ErrNoDir, []string{"nope", "bxwasm recovery init"}},
		{"not a directory", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			must(t, os.WriteFile(p, nil, 0o644))
			return p
		}, "", ErrNotDir, nil},
		{"no partition files", func(t *testing.T) string { return t.TempDir() },
			"", ErrNoPartitions, []string{"bxwasm recovery init"}},
		{"gap in the numbering", func(t *testing.T) string {
			dir := initWith(t, 4)
			must(t, os.Remove(filepath.Join(dir, "part-1.sqlite3")))
			return dir
		}, "", ErrMissingPartition, []string{"part-1.sqlite3"}},
		{"last partition missing", func(t *testing.T) string {
			dir := initWith(t, 3)
			must(t, os.Remove(filepath.Join(dir, "part-2.sqlite3")))
			return dir
		}, "", ErrMissingPartition, []string{"3 partitions, found 2"}},
		{"garbage file", func(t *testing.T) string {
			dir := initWith(t, 2)
			must(t, os.WriteFile(filepath.Join(dir, "part-1.sqlite3"), []byte(strings.Repeat("junk", 5000)), 0o644))
			return dir
		}, "", ErrCorrupt, []string{"part-1.sqlite3"}},
		{"truncated file", func(t *testing.T) string {
			dir := initWith(t, 2)
			p := filepath.Join(dir, "part-0.sqlite3")
			st, err := os.Stat(p)
			must(t, err)
			must(t, os.Truncate(p, st.Size()/2))
			return dir
		}, "", ErrCorrupt, []string{"part-0.sqlite3"}},
		{"empty file", func(t *testing.T) string {
			dir := initWith(t, 2)
			must(t, os.Truncate(filepath.Join(dir, "part-1.sqlite3"), 0))
			return dir
		}, "", ErrCorrupt, []string{"part-1.sqlite3"}},
		{"corrupted page", func(t *testing.T) string {
			dir := initWith(t, 1)
			f, err := os.OpenFile(filepath.Join(dir, "part-0.sqlite3"), os.O_RDWR, 0)
			must(t, err)
			_, err = f.WriteAt([]byte(strings.Repeat("\xff", 64)), 10*4096) // a page header in the middle
			must(t, err)
			must(t, f.Close())
			return dir
		}, "", ErrCorrupt, []string{"part-0.sqlite3"}},
		{"read-only file", func(t *testing.T) string {
			dir := initWith(t, 2)
			must(t, os.Chmod(filepath.Join(dir, "part-1.sqlite3"), 0o444))
			return dir
		}, "", ErrReadOnly, []string{"part-1.sqlite3"}},
		{"read-only directory", func(t *testing.T) string {
			dir := initWith(t, 2)
			must(t, os.Chmod(dir, 0o555))
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			return dir
		}, "", ErrReadOnly, []string{"not writable"}},
		{"held by another run", func(t *testing.T) string {
			dir := initWith(t, 2)
			s, err := OpenSQLite(context.Background(), dir, SQLiteOptions{})
			must(t, err)
			t.Cleanup(func() { s.Close() })
			return dir
		}, "", ErrLocked, []string{fmt.Sprintf("process 0 of pid %d", os.Getpid()), LockFile,
			"stop it or use another --recovery-directory"}},
		{"another flow", func(t *testing.T) string { return initWith(t, 2) },
			"other", ErrFlowMismatch, []string{`"flow"`, `"other"`}},
		{"partition of another store", func(t *testing.T) string {
			dir, other := initWith(t, 2), initWith(t, 2)
			b, err := os.ReadFile(filepath.Join(other, "part-1.sqlite3"))
			must(t, err)
			must(t, os.WriteFile(filepath.Join(dir, "part-1.sqlite3"), b, 0o644))
			return dir
		}, "", ErrMixedPartitions, []string{"part-1.sqlite3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			before := fingerprint(t, dir)
			s, err := OpenSQLite(context.Background(), dir, SQLiteOptions{FlowID: tc.flow})
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v; want %v", err, tc.want)
			}
			t.Log(err)
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if after := fingerprint(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("files changed by a refused open:\nbefore %x\nafter  %x", before, after)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestInitRefuses(t *testing.T) {
	cases := []struct {
		name       string
		dir        func(t *testing.T) string
		partitions int
		want       error
	}{
		{"zero partitions", func(t *testing.T) string { return t.TempDir() }, 0, ErrBadPartitionCount},
		{"existing store", func(t *testing.T) string { return initWith(t, 2) }, 2, ErrNotEmpty},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := Init(tc.dir(t), tc.partitions); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v; want %v", err, tc.want)
			}
		})
	}
}

func TestSQLiteReopen(t *testing.T) {
	ctx := context.Background()
	dir := initWith(t, 3)
	s, err := OpenSQLite(ctx, dir, SQLiteOptions{FlowID: "flow"})
	must(t, err)
	must(t, s.Commit(ctx, 1, 0, 1))
	must(t, s.Write(ctx, []Snapshot{tomb("s", "key-7", 2)}))
	must(t, s.Close())
	s, err = OpenSQLite(ctx, dir, SQLiteOptions{FlowID: "flow"})
	must(t, err)
	defer s.Close()
	if got, err := s.ResumeEpoch(ctx); err != nil || got != 2 {
		t.Fatalf("ResumeEpoch = %d, %v; want 2", got, err)
	}
	if got := loadAll(t, s, 1, all); len(got) != 2000 {
		t.Fatalf("loaded %d keys at epoch 1; want 2000", len(got))
	}
	if got := loadAll(t, s, 2, all); len(got) != 1999 {
		t.Fatalf("loaded %d keys at epoch 2; want 1999", len(got))
	}
}

func TestInspect(t *testing.T) {
	ctx := context.Background()
	dir := initWith(t, 2)
	sum, err := Inspect(ctx, dir)
	must(t, err)
	want := Summary{FlowID: "flow", Partitions: 2, ResumeEpoch: 1,
		Executions: []Execution{{Number: 1, Workers: 1, StartEpoch: 1, Frontiers: []uint64{0}}},
		Steps:      []StepSummary{{StepID: "s", Snapshots: 2000, Bytes: 200000}}}
	if fmt.Sprint(sum) != fmt.Sprint(want) {
		t.Fatalf("Inspect = %+v; want %+v", sum, want)
	}
}

func TestStepIDs(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, 3)
	if ids, err := s.StepIDs(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("empty store: %q, %v", ids, err)
	}
	var snaps []Snapshot
	for i := range 100 {
		snaps = append(snaps, Snapshot{StepID: []string{"f.b", "f.a", "f.c"}[i%3], Key: fmt.Sprint(i), Epoch: 1, State: []byte{1}})
	}
	if err := s.Write(ctx, snaps); err != nil {
		t.Fatal(err)
	}
	ids, err := s.StepIDs(ctx)
	if err != nil || strings.Join(ids, ",") != "f.a,f.b,f.c" {
		t.Errorf("StepIDs = %q, %v; want f.a,f.b,f.c", ids, err)
	}
}

// TestInterruptedInit opens stores a crash left half made: a run that
// creates the store must start from a fresh one, and never remove a file
// that a run used.
func TestInterruptedInit(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  error // nil: the open creates a working store
	}{
		{"killed while writing the files", func(t *testing.T, dir string) {
			must(t, os.MkdirAll(dir, 0o755))
			must(t, os.WriteFile(filepath.Join(dir, PartitionFile(0)+initSuffix), []byte("SQLite format 3\x00half"), 0o644))
		}, nil},
		{"killed between the renames", func(t *testing.T, dir string) {
			must(t, Init(dir, 3))
			must(t, os.Rename(filepath.Join(dir, PartitionFile(0)), filepath.Join(dir, PartitionFile(0)+initSuffix)))
		}, nil},
		{"killed while saving the flow id", func(t *testing.T, dir string) {
			must(t, Init(dir, 3))
			setFlowID(t, filepath.Join(dir, PartitionFile(1)), "flow")
		}, nil},
		{"another flow's id half saved", func(t *testing.T, dir string) {
			must(t, Init(dir, 3))
			setFlowID(t, filepath.Join(dir, PartitionFile(2)), "other")
		}, ErrFlowMismatch},
		{"partition 0 of a used store removed", func(t *testing.T, dir string) {
			used := initWith(t, 2)
			must(t, os.Remove(filepath.Join(used, PartitionFile(0))))
			must(t, os.Rename(used, dir))
		}, ErrMissingPartition},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			tc.setup(t, dir)
			before := fingerprint(t, dir)
			s, err := OpenSQLite(ctx, dir, SQLiteOptions{FlowID: "flow", Create: true, Partitions: 2})
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v; want %v", err, tc.want)
				}
				if after := fingerprint(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("a refused open changed the store's files")
				}
				return
			}
			must(t, err)
			defer s.Close()
			_, err = s.Begin(ctx, 1)
			must(t, err)
			must(t, s.Write(ctx, []Snapshot{snap("s", "k", 1, "v")}))
			must(t, s.Commit(ctx, 1, 0, 1))
		})
	}
}

// setFlowID records a flow id in one partition file only, as a saveFlow
// that a crash stopped part way leaves it.
func setFlowID(t *testing.T, path, flow string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	must(t, err)
	defer db.Close()
	_, err = db.Exec(`UPDATE meta SET v = ? WHERE k = 'flow_id'`, flow)
	must(t, err)
}
