package recovery

import (
	"context"
	"fmt"
	"testing"
)

// TestGCBoundsStore writes 200 epochs over 100 keys (one key in ten discarded at each epoch) and checks that
// GC keeps one snapshot per live key, with the same state loadable as before GC.
func TestGCBoundsStore(t *testing.T) {
	const keys, epochs = 100, 200
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			for e := uint64(1); e <= epochs; e++ {
				must(t, s.Write(ctx, epochSnaps(keys, e)))
				if e%50 == 0 {
					before := loadAll(t, s, e, all)
					must(t, s.GC(ctx, e))
					if got := storedRows(t, s); got != int64(len(before)) {
						t.Fatalf("epoch %d: %d rows after GC; want %d (one per live key)", e, got, len(before))
					}
					if after := loadAll(t, s, e, all); !equalSnaps(after, before) {
						t.Fatalf("epoch %d: GC changed the loaded state", e)
					}
				}
			}
			if got := storedRows(t, s); got > keys {
				t.Fatalf("%d rows over %d keys after GC", got, keys)
			}
		})
	}
}

// epochSnaps is every key's state at epoch e; key i is discarded when (i+e)%10 == 0.
func epochSnaps(keys int, e uint64) []Snapshot {
	snaps := make([]Snapshot, 0, keys)
	for i := range keys {
		sn := Snapshot{StepID: "count", Key: fmt.Sprintf("k%03d", i), Epoch: e}
		if (uint64(i)+e)%10 != 0 {
			sn.State = fmt.Appendf(nil, "%d@%d", i, e)
		}
		snaps = append(snaps, sn)
	}
	return snaps
}

func storedRows(t *testing.T, s Store) int64 {
	t.Helper()
	sum, err := s.(interface {
		Summary(context.Context) (Summary, error)
	}).Summary(context.Background())
	must(t, err)
	var n int64
	for _, st := range sum.Steps {
		n += st.Snapshots
	}
	return n
}

// TestOpenAddsIndexes reopens a store whose partitions lack the GC indexes (as stores created before them
// do): OpenSQLite adds them.
func TestOpenAddsIndexes(t *testing.T) {
	ctx := context.Background()
	dir := initWith(t, 2)
	s, err := OpenSQLite(ctx, dir, SQLiteOptions{})
	must(t, err)
	for _, db := range s.parts {
		_, err := db.ExecContext(ctx, `DROP INDEX snaps_epoch; DROP INDEX snaps_tombstones`)
		must(t, err)
	}
	must(t, s.Close())
	s, err = OpenSQLite(ctx, dir, SQLiteOptions{})
	must(t, err)
	defer s.Close()
	for i, db := range s.parts {
		var n int
		must(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'index'
			AND name IN ('snaps_epoch', 'snaps_tombstones')`).Scan(&n))
		if n != 2 {
			t.Fatalf("%s has %d of the 2 GC indexes", PartitionFile(i), n)
		}
	}
}
