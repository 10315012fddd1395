package recovery

import (
	"context"
	"database/sql"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// tamper runs query on partition file part of the store in dir, as someone editing the file by hand would.
func tamper(t *testing.T, dir string, part int, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, PartitionFile(part)))
	must(t, err)
	defer db.Close()
	res, err := db.Exec(query, args...)
	must(t, err)
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("%s changed no row", query)
	}
}

// storeWith writes snaps into a new one-partition store, committed up to epoch 2.
func storeWith(t *testing.T, snaps ...Snapshot) string {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	s, err := OpenSQLite(ctx, dir, SQLiteOptions{FlowID: "flow", Create: true, Partitions: 1})
	must(t, err)
	defer s.Close()
	ex, err := s.Begin(ctx, 1)
	must(t, err)
	must(t, s.Write(ctx, snaps))
	must(t, s.Commit(ctx, ex, 0, 2))
	return dir
}

// TestLoadRefusesAlteredRows changes rows in the SQLite file behind the store's back: each change stops
// the load with ErrChecksum naming the partition file, step and key, where before it loaded wrong state.
func TestLoadRefusesAlteredRows(t *testing.T) {
	base := []Snapshot{
		snap("f.count", "apple", 1, "\x00\x05"),
		snap("f.count", "pear", 2, "\x00\x07"),
		snap("f.inp", "in.txt", 2, "position"),
		snap("f.out", "out.txt", 2, "\x80\x01"),
	}
	cases := []struct {
		name, query, step, key string
	}{
		{"altered blob", `UPDATE snaps SET state = x'0009' WHERE state_key = 'apple'`, "f.count", "apple"},
		{"forged tombstone", `UPDATE snaps SET state = NULL WHERE state_key = 'pear'`, "f.count", "pear"},
		{"rewound source position", `UPDATE snaps SET state = x'00' WHERE step_id = 'f.inp'`, "f.inp", "in.txt"},
		{"zeroed sink offset", `UPDATE snaps SET state = x'00' WHERE step_id = 'f.out'`, "f.out", "out.txt"},
		{"moved to another epoch", `UPDATE snaps SET epoch = 2 WHERE state_key = 'apple'`, "f.count", "apple"},
		{"renamed key", `UPDATE snaps SET state_key = 'plum' WHERE state_key = 'pear'`, "f.count", "plum"},
		{"checksum removed", `UPDATE snaps SET crc = 0 WHERE state_key = 'apple'`, "f.count", "apple"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := storeWith(t, base...)
			tamper(t, dir, 0, tc.query)
			s, err := OpenSQLite(ctx, dir, SQLiteOptions{FlowID: "flow"})
			must(t, err)
			defer s.Close()
			err = s.Load(ctx, 2, all, func(Snapshot) error { return nil })
			if !errors.Is(err, ErrChecksum) {
				t.Fatalf("Load after %s: %v; want ErrChecksum", tc.query, err)
			}
			for _, m := range []string{"part-0.sqlite3", `"` + tc.step + `"`, `"` + tc.key + `"`, "empty recovery directory"} {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not name %s", err, m)
				}
			}
		})
	}
}

// TestDamagedHistory stores execution and commit rows no run writes: each is ErrCorrupt with what is
// wrong, where before a row of 0 workers resumed as a fresh start and a negative epoch failed to scan.
func TestDamagedHistory(t *testing.T) {
	cases := []struct{ name, query, want string }{
		{"zero workers", `UPDATE executions SET workers = 0`, "execution 1 has 0 workers"},
		{"negative start", `UPDATE executions SET start_epoch = -3`, "execution 1 starts at epoch -3"},
		{"negative commit", `UPDATE commits SET epoch = -1`, "committed epoch -1"},
		{"negative snapshot epoch", `UPDATE snaps SET epoch = -2`, "at epoch -2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := storeWith(t, snap("f.count", "k", 1, "x"))
			tamper(t, dir, 0, tc.query)
			s, err := OpenSQLite(ctx, dir, SQLiteOptions{FlowID: "flow"})
			must(t, err)
			defer s.Close()
			_, err = s.ResumeEpoch(ctx)
			if err == nil {
				err = s.Load(ctx, 1, all, func(Snapshot) error { return nil })
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v; want ErrCorrupt saying %q", err, tc.want)
			}
			if _, err := s.Begin(ctx, 1); tc.name != "negative snapshot epoch" && !errors.Is(err, ErrCorrupt) {
				t.Errorf("Begin on the damaged history: %v; want ErrCorrupt", err)
			}
		})
	}
}

// TestCreateRefusesForeignDirectory: a directory of other files is not a store, and a new one is not
// created in it; lock files of an earlier refused or interrupted open are not foreign.
func TestCreateRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
	_, err := OpenSQLite(context.Background(), dir, SQLiteOptions{Create: true})
	if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "notes.txt") {
		t.Fatalf("err %v; want ErrNotStore naming notes.txt", err)
	}
	if found, _ := listPartitions(dir); len(found) != 0 {
		t.Errorf("created %d partitions in a foreign directory", len(found))
	}
	locks := t.TempDir()
	must(t, os.WriteFile(filepath.Join(locks, LockFile), nil, 0o644))
	must(t, os.WriteFile(filepath.Join(locks, HolderFile(0)), []byte("process 0"), 0o644))
	s, err := OpenSQLite(context.Background(), locks, SQLiteOptions{Create: true})
	must(t, err)
	s.Close()
}

// TestRacingCreates opens one missing store from several goroutines at once: one creates it, every
// other is refused with ErrLocked (not a half-created store's missing partition).
func TestRacingCreates(t *testing.T) {
	for round := range 5 {
		dir := filepath.Join(t.TempDir(), "store")
		const racers = 6
		var wg sync.WaitGroup
		start := make(chan struct{})
		stores := make([]*SQLite, racers)
		errs := make([]error, racers)
		for i := range racers {
			wg.Go(func() {
				<-start
				stores[i], errs[i] = OpenSQLite(context.Background(), dir, SQLiteOptions{FlowID: "flow", Create: true, Partitions: 8})
			})
		}
		close(start)
		wg.Wait()
		opened := 0
		for i, err := range errs {
			switch {
			case err == nil:
				opened++
				defer stores[i].Close()
			case !errors.Is(err, ErrLocked):
				t.Errorf("round %d: racer %d: %v; want ErrLocked", round, i, err)
			}
		}
		if opened != 1 {
			t.Errorf("round %d: %d racers opened the store; want 1", round, opened)
		}
	}
}

// TestOldFormatRefused: a store of format 1 (no checksums) is refused by a run, with what to do, and
// still inspectable.
func TestOldFormatRefused(t *testing.T) {
	dir := storeWith(t, snap("f.count", "k", 1, "x"))
	tamper(t, dir, 0, `UPDATE meta SET v = '1' WHERE k = 'format'`)
	_, err := OpenSQLite(context.Background(), dir, SQLiteOptions{FlowID: "flow"})
	if !errors.Is(err, ErrOldFormat) || !strings.Contains(err.Error(), "empty recovery directory") {
		t.Fatalf("err %v; want ErrOldFormat saying what to do", err)
	}
	if _, err := Inspect(context.Background(), dir); err != nil {
		t.Errorf("Inspect of a format 1 store: %v", err)
	}
}

// TestChecksumBytes pins the bytes a checksum covers, laid out by hand, so a change of the layout cannot
// pass unnoticed (stores written before it would fail to load).
func TestChecksumBytes(t *testing.T) {
	cases := []struct {
		s      Snapshot
		layout string
	}{
		{Snapshot{StepID: "f.count", Key: "apple", Epoch: 3, State: []byte{0, 5}}, "\x07f.count\x05apple\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x05"},
		{Snapshot{StepID: "f.count", Key: "apple", Epoch: 3}, "\x07f.count\x05apple\x00\x00\x00\x00\x00\x00\x00\x03\x01"},
		{Snapshot{StepID: "f.count", Key: "apple", Epoch: 3, State: []byte{}}, "\x07f.count\x05apple\x00\x00\x00\x00\x00\x00\x00\x03\x00"},
		{Snapshot{StepID: "f.coun", Key: "tapple", Epoch: 1 << 40, State: []byte{0, 5}}, "\x06f.coun\x06tapple\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05"},
	}
	for _, tc := range cases {
		want := crc32.Checksum([]byte(tc.layout), crc32.MakeTable(crc32.Castagnoli))
		if got := Checksum(tc.s); got != want {
			t.Errorf("Checksum(%+v) = %#x; want %#x", tc.s, got, want)
		}
	}
	if Checksum(cases[0].s) == Checksum(cases[3].s) {
		t.Error("moving a byte from the step id to the key keeps the checksum")
	}
}
