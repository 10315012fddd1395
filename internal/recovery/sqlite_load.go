package recovery

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// loadQuery picks, per (step, key), the row of the latest epoch at or before ?: SQLite returns the bare
// columns of the row that holds max().
const loadQuery = `SELECT step_id, state_key, max(epoch), state, state IS NULL, crc FROM snaps
	WHERE epoch <= ? GROUP BY step_id, state_key`

// Load calls fn, partition by partition and in (step, key) order within one, for the latest snapshot at or
// before epoch of every routed key, skipping tombstones. Every row it picks, routed or not, tombstones
// too, must match its checksum: one that does not stops the load with ErrChecksum naming the partition
// file, step and key.
func (s *SQLite) Load(ctx context.Context, epoch uint64, route func(stepID, key string) bool, fn func(Snapshot) error) error {
	if err := s.open(); err != nil {
		return err
	}
	for i, db := range s.parts {
		if err := loadPart(ctx, db, PartitionFile(i), epoch, route, fn); err != nil {
			return fmt.Errorf("recovery: load %s: %w", PartitionFile(i), err)
		}
	}
	return nil
}

func loadPart(ctx context.Context, db *sql.DB, file string, epoch uint64, route func(stepID, key string) bool, fn func(Snapshot) error) error {
	rows, err := db.QueryContext(ctx, loadQuery, epoch)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		sn, tombstone, err := scanSnapshot(rows, file)
		if err != nil {
			return err
		}
		if tombstone || !route(sn.StepID, sn.Key) {
			continue
		}
		sn.State = slices.Clone(sn.State)
		if err := fn(sn); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanSnapshot reads a row of loadQuery and checks it; the State it returns is valid until the next Scan.
func scanSnapshot(rows *sql.Rows, file string) (Snapshot, bool, error) {
	var sn Snapshot
	var state sql.RawBytes
	var epoch int64
	var tombstone bool
	var crc sql.NullInt64
	if err := rows.Scan(&sn.StepID, &sn.Key, &epoch, &state, &tombstone, &crc); err != nil {
		return sn, false, err
	}
	if epoch < 0 {
		return sn, false, fmt.Errorf("%w: %s: step %q, key %q has a snapshot at epoch %d", ErrCorrupt, file,
			sn.StepID, sn.Key, epoch)
	}
	sn.Epoch = uint64(epoch)
	if !tombstone {
		sn.State = []byte(state)
		if sn.State == nil {
			sn.State = []byte{}
		}
	}
	if !crc.Valid || uint32(crc.Int64) != Checksum(sn) || crc.Int64>>32 != 0 {
		return sn, false, fmt.Errorf("%w in %s: step %q, key %q, epoch %d; the store was changed outside "+
			"bxwasm: restore it from a backup, or start afresh with an empty recovery directory",
			ErrChecksum, file, sn.StepID, sn.Key, sn.Epoch)
	}
	return sn, tombstone, nil
}

// StepIDs lists the steps that have snapshots in the store, sorted. It costs one index seek per step and
// partition, whatever the number of keys, so a run can check a store before it resumes from it.
func (s *SQLite) StepIDs(ctx context.Context) ([]string, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, db := range s.parts {
		var id sql.NullString
		for q, arg := `SELECT min(step_id) FROM snaps`, []any{}; ; q, arg = `SELECT min(step_id) FROM snaps WHERE step_id > ?`, []any{id.String} {
			if err := db.QueryRowContext(ctx, q, arg...).Scan(&id); err != nil {
				return nil, fmt.Errorf("recovery: steps of %s: %w", PartitionFile(i), err)
			}
			if !id.Valid {
				break
			}
			seen[id.String] = true
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}
