package recovery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestInspectLive inspects a store while both processes of a run hold it: Inspect sees what they
// committed, takes no lock (the run goes on writing, a second run is still refused) and writes nothing.
func TestInspectLive(t *testing.T) {
	ctx := context.Background()
	dir := initWith(t, 2)
	p0, p1 := openProcess(t, dir, 0), openProcess(t, dir, 1)
	ex, err := p0.Begin(ctx, 2)
	must(t, err)
	must(t, p0.Write(ctx, []Snapshot{snap("s", "a", 1, "12345"), tomb("s", "b", 1)}))
	must(t, p1.Write(ctx, []Snapshot{snap("t", "c", 1, "123")}))
	must(t, p0.Commit(ctx, ex, 0, 1))
	must(t, p1.Commit(ctx, ex, 1, 1))
	before := storeFiles(t, dir)
	sum, err := Inspect(ctx, dir)
	must(t, err)
	want := Summary{FlowID: "flow", Partitions: 2, ResumeEpoch: 2, Executions: []Execution{
		{Number: 1, Workers: 1, StartEpoch: 1, Frontiers: []uint64{0}},
		{Number: 2, Workers: 2, StartEpoch: 1, Frontiers: []uint64{1, 1}}},
		Steps: []StepSummary{{StepID: "s", Snapshots: 2, Tombstones: 1, Bytes: 5}, {StepID: "t", Snapshots: 1, Bytes: 3}}}
	if fmt.Sprint(sum) != fmt.Sprint(want) {
		t.Fatalf("Inspect = %+v; want %+v", sum, want)
	}
	if after := storeFiles(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("Inspect changed files:\nbefore %x\nafter  %x", before, after)
	}
	if _, err := OpenSQLite(ctx, dir, SQLiteOptions{FlowID: "flow"}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second run after Inspect: err = %v; want %v", err, ErrLocked)
	}
	must(t, p0.Write(ctx, []Snapshot{snap("s", "a", 2, "x")}))
	must(t, p0.Commit(ctx, ex, 0, 2))
}

// TestInspectClosed inspects a store no run holds: it writes nothing and leaves no file behind.
func TestInspectClosed(t *testing.T) {
	dir := initWith(t, 2)
	names := func() []string {
		entries, err := os.ReadDir(dir)
		must(t, err)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	beforeNames, before := names(), storeFiles(t, dir)
	_, err := Inspect(context.Background(), dir)
	must(t, err)
	if after := names(); !slices.Equal(after, beforeNames) {
		t.Errorf("Inspect left files: before %v, after %v", beforeNames, after)
	}
	if after := storeFiles(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("Inspect changed files:\nbefore %x\nafter  %x", before, after)
	}
}

// storeFiles fingerprints the partition files and their WALs; the -shm files are left out, since readers
// record their read marks there.
func storeFiles(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	fp := fingerprint(t, dir)
	for _, k := range slices.Collect(maps.Keys(fp)) {
		if strings.HasSuffix(k, "-shm") {
			delete(fp, k)
		}
	}
	return fp
}
