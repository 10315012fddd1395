package recovery

import (
	"context"
	"database/sql"
	"fmt"
)

// loadQuery picks, per (step, key), the row of the latest epoch at or before ?: SQLite returns the bare
// columns of the row that holds max().
const loadQuery = `SELECT step_id, state_key, max(epoch), state, state IS NULL FROM snaps
	WHERE epoch <= ? GROUP BY step_id, state_key`

// Load calls fn, partition by partition and in (step, key) order within one, for the latest snapshot at or
// before epoch of every routed key, skipping tombstones.
func (s *SQLite) Load(ctx context.Context, epoch uint64, route func(stepID, key string) bool, fn func(Snapshot) error) error {
	if err := s.open(); err != nil {
		return err
	}
	for i, db := range s.parts {
		if err := loadPart(ctx, db, epoch, route, fn); err != nil {
			return fmt.Errorf("recovery: load %s: %w", PartitionFile(i), err)
		}
	}
	return nil
}

func loadPart(ctx context.Context, db *sql.DB, epoch uint64, route func(stepID, key string) bool, fn func(Snapshot) error) error {
	rows, err := db.QueryContext(ctx, loadQuery, epoch)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sn Snapshot
		var state sql.RawBytes
		var tombstone bool
		if err := rows.Scan(&sn.StepID, &sn.Key, &sn.Epoch, &state, &tombstone); err != nil {
			return err
		}
		if tombstone || !route(sn.StepID, sn.Key) {
			continue
		}
		sn.State = append(make([]byte, 0, len(state)), state...)
		if err := fn(sn); err != nil {
			return err
		}
	}
	return rows.Err()
}
