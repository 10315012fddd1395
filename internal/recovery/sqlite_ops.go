package recovery

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Begin records a new execution in part-0 (and the flow id in every partition on the first Begin). It first
// drops every snapshot (tombstones too) of an epoch at or after the resume epoch in every partition: they
// belong to epochs not every worker committed, and the replay may write the same keys at other epochs.
// Part-0's snapshots go in the transaction that records the execution, after the other partitions, so a
// crash in between leaves a history that the next Begin cleans up the same way.
func (s *SQLite) Begin(ctx context.Context, workers int) (uint64, error) {
	if workers < 1 {
		return 0, fmt.Errorf("%w: %d", ErrBadWorkers, workers)
	}
	if err := s.saveFlow(ctx); err != nil {
		return 0, err
	}
	var number uint64
	err := s.inTx(ctx, s.parts[0], func(tx *sql.Tx) error {
		execs, err := history(ctx, tx)
		if err != nil {
			return err
		}
		resume := resumeFrom(execs)
		if err := s.dropFrom(ctx, resume); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, dropFromQuery, resume); err != nil {
			return err
		}
		number = uint64(len(execs)) + 1
		_, err = tx.ExecContext(ctx, `INSERT INTO executions (ex, workers, start_epoch) VALUES (?, ?, ?)`,
			number, workers, resume)
		return err
	})
	return number, err
}

// dropFromQuery deletes the snapshots of epochs >= ?.
const dropFromQuery = `DELETE FROM snaps WHERE epoch >= ?`

// dropFrom deletes the snapshots of epochs >= epoch in partitions 1..n-1 (one statement, so one
// transaction, each).
func (s *SQLite) dropFrom(ctx context.Context, epoch uint64) error {
	for i, db := range s.parts[1:] {
		if _, err := db.ExecContext(ctx, dropFromQuery, epoch); err != nil {
			return fmt.Errorf("%s: %w", PartitionFile(i+1), err)
		}
	}
	return nil
}

// saveFlow records the flow id in every partition the first time a flow uses the store.
func (s *SQLite) saveFlow(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return ErrClosed
	}
	if s.mu.flowSaved {
		return nil
	}
	for _, db := range s.parts {
		if _, err := db.ExecContext(ctx, `UPDATE meta SET v = ? WHERE k = 'flow_id'`, s.flowID); err != nil {
			return fmt.Errorf("recovery: save flow id: %w", err)
		}
	}
	s.mu.flowSaved = true
	return nil
}

// Write stores snapshots, one transaction per partition they fall in.
func (s *SQLite) Write(ctx context.Context, snaps []Snapshot) error {
	byPart := make([][]Snapshot, len(s.parts))
	for _, sn := range snaps {
		p := PartitionOf(sn.StepID, sn.Key, len(s.parts))
		byPart[p] = append(byPart[p], sn)
	}
	for p, group := range byPart {
		if len(group) == 0 {
			continue
		}
		// In key order the inserts walk the table's B-tree once, page after page,
		// instead of seeking a random page for every key.
		slices.SortFunc(group, func(a, b Snapshot) int {
			return cmp.Or(strings.Compare(a.StepID, b.StepID), strings.Compare(a.Key, b.Key), cmp.Compare(a.Epoch, b.Epoch))
		})
		if err := s.inTx(ctx, s.parts[p], func(tx *sql.Tx) error { return insertSnaps(ctx, tx, group) }); err != nil {
			return err
		}
	}
	return nil
}

// insertRows is how many snapshots one INSERT statement carries: fewer
// statements cost less than the rows themselves.
const insertRows = 64

func insertSnaps(ctx context.Context, tx *sql.Tx, snaps []Snapshot) error {
	full, err := tx.PrepareContext(ctx, insertStatement(insertRows))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, 5*insertRows)
	for len(snaps) > 0 {
		n := min(len(snaps), insertRows)
		args = args[:0]
		for _, sn := range snaps[:n] {
			var state any // nil: NULL (tombstone)
			if sn.State != nil {
				state = sn.State
			}
			args = append(args, sn.StepID, sn.Key, sn.Epoch, state, int64(Checksum(sn)))
		}
		if n == insertRows {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertStatement(n), args...)
		}
		if err != nil {
			return err
		}
		snaps = snaps[n:]
	}
	return nil
}

// insertStatement inserts n snapshots.
func insertStatement(n int) string {
	return `INSERT OR REPLACE INTO snaps (step_id, state_key, epoch, state, crc) VALUES (?, ?, ?, ?, ?)` +
		strings.Repeat(", (?, ?, ?, ?, ?)", n-1)
}

// Commit records worker's frontier in execution; the frontier never moves back.
func (s *SQLite) Commit(ctx context.Context, execution uint64, worker int, epoch uint64) error {
	return s.inTx(ctx, s.parts[0], func(tx *sql.Tx) error {
		execs, err := history(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkCommit(execs, execution, worker); err != nil {
			return err
		}
		epoch = max(epoch, execs[execution-1].Frontiers[worker])
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO commits (ex, worker, epoch) VALUES (?, ?, ?)`,
			execution, worker, epoch)
		return err
	})
}

// ResumeEpoch returns the epoch a new execution starts at.
func (s *SQLite) ResumeEpoch(ctx context.Context) (uint64, error) {
	if err := s.open(); err != nil {
		return 0, err
	}
	execs, err := history(ctx, s.parts[0])
	if err != nil {
		return 0, fmt.Errorf("recovery: resume epoch: %w", err)
	}
	return resumeFrom(execs), nil
}

// GC drops, in each partition, the snapshots superseded at or before epoch before, then the tombstones that
// are their key's latest there. Each partition remembers (in its meta table) the epoch its last GC reached,
// so a GC looks only at the keys written since: its cost follows what changed, not the size of the store.
func (s *SQLite) GC(ctx context.Context, before uint64) error {
	for _, db := range s.parts {
		err := s.inTx(ctx, db, func(tx *sql.Tx) error {
			var from uint64
			if err := tx.QueryRowContext(ctx, `SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'gc_before'`).Scan(&from); err != nil && err != sql.ErrNoRows {
				return err
			}
			if before <= from {
				return nil
			}
			if _, err := tx.ExecContext(ctx, gcSuperseded, from, before); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, gcTombstones, from, before); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES ('gc_before', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
				strconv.FormatUint(before, 10))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// gcSuperseded deletes every snapshot older than a snapshot of its key written at an epoch in (?1, ?2]; the
// newer snapshots come from the epoch index, the older ones from primary-key seeks.
const gcSuperseded = `DELETE FROM snaps WHERE (step_id, state_key, epoch) IN (
	SELECT o.step_id, o.state_key, o.epoch FROM snaps n JOIN snaps o
		ON o.step_id = n.step_id AND o.state_key = n.state_key AND o.epoch < n.epoch
	WHERE n.epoch > ?1 AND n.epoch <= ?2)`

// gcTombstones deletes the tombstones of epochs in (?1, ?2]: after gcSuperseded each is its key's latest
// snapshot there (earlier ones went in earlier GCs). The partial index snaps_tombstones holds only tombstones.
const gcTombstones = `DELETE FROM snaps WHERE epoch > ?1 AND epoch <= ?2 AND state IS NULL`

// inTx runs fn in a transaction on db, wrapping its error.
func (s *SQLite) inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	if err := s.open(); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recovery: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("recovery: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recovery: commit: %w", err)
	}
	return nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// history reads every execution with its workers' frontiers from part-0. A row no Begin or Commit could
// have written (no workers, an epoch below 0 or 1) is ErrCorrupt: resuming from it would be a guess.
func history(ctx context.Context, q querier) ([]Execution, error) {
	rows, err := q.QueryContext(ctx, `SELECT ex, workers, start_epoch FROM executions ORDER BY ex`)
	if err != nil {
		return nil, err
	}
	var execs []Execution
	for rows.Next() {
		var ex, workers, start int64
		if err := rows.Scan(&ex, &workers, &start); err != nil {
			rows.Close()
			return nil, err
		}
		if err := checkExecution(len(execs)+1, ex, workers, start); err != nil {
			rows.Close()
			return nil, err
		}
		execs = append(execs, newExecution(uint64(ex), int(workers), uint64(start)))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return execs, readCommits(ctx, q, execs)
}

// maxWorkers bounds the worker count an execution row may hold.
const maxWorkers = 1 << 20

// checkExecution checks the n-th execution row of part-0.
func checkExecution(n int, ex, workers, start int64) error {
	switch {
	case ex != int64(n):
		return damaged("execution %d is numbered %d", n, ex)
	case workers < 1 || workers > maxWorkers:
		return damaged("execution %d has %d workers", ex, workers)
	case start < 1:
		return damaged("execution %d starts at epoch %d", ex, start)
	}
	return nil
}

// damaged is ErrCorrupt for a row of part-0 that no run writes.
func damaged(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s; the store was changed outside bxwasm: restore it from a backup, or start "+
		"afresh with an empty recovery directory", ErrCorrupt, PartitionFile(0), fmt.Sprintf(format, args...))
}

func readCommits(ctx context.Context, q querier, execs []Execution) error {
	rows, err := q.QueryContext(ctx, `SELECT ex, worker, epoch FROM commits`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ex, worker, epoch int64
		if err := rows.Scan(&ex, &worker, &epoch); err != nil {
			return err
		}
		if epoch < 0 {
			return damaged("worker %d of execution %d committed epoch %d", worker, ex, epoch)
		}
		if ex >= 1 && ex <= int64(len(execs)) && worker >= 0 && worker < int64(execs[ex-1].Workers) {
			execs[ex-1].Frontiers[worker] = uint64(epoch)
		}
	}
	return rows.Err()
}
