package recovery

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Inspect summarizes the store in dir without a flow check. It takes no lock and writes nothing (the
// partition files are opened read-only), so it works while a run uses the store; it then sees the last
// committed transactions. A partition that no connection has open (no -wal file) is read as immutable: a
// run that starts during the Inspect may make it see an older state or fail; it never harms the store.
func Inspect(ctx context.Context, dir string) (Summary, error) {
	if err := checkDir(dir); err != nil {
		return Summary{}, err
	}
	found, err := listPartitions(dir)
	if err != nil {
		return Summary{}, err
	}
	if len(found) == 0 {
		return Summary{}, fmt.Errorf("%w in %s", ErrNoPartitions, dir)
	}
	if err := checkNumbering(dir, found); err != nil {
		return Summary{}, err
	}
	s := &SQLite{dir: dir}
	defer s.Close()
	if err := s.openParts(ctx, len(found), readOnly); err != nil {
		return Summary{}, err
	}
	return s.Summary(ctx)
}

// Summary describes the store: executions, resume epoch and snapshots per step.
func (s *SQLite) Summary(ctx context.Context) (Summary, error) {
	if err := s.open(); err != nil {
		return Summary{}, err
	}
	execs, err := history(ctx, s.parts[0])
	if err != nil {
		return Summary{}, fmt.Errorf("recovery: summary: %w", err)
	}
	m, err := readMeta(ctx, s.parts[0])
	if err != nil {
		return Summary{}, fmt.Errorf("recovery: summary: %w", err)
	}
	sum := Summary{FlowID: m.flowID, Partitions: len(s.parts), Executions: execs, ResumeEpoch: resumeFrom(execs)}
	steps := map[string]*StepSummary{}
	for _, db := range s.parts {
		if err := countSteps(ctx, db, steps); err != nil {
			return Summary{}, fmt.Errorf("recovery: summary: %w", err)
		}
	}
	sum.Steps = sortedSteps(steps)
	return sum, nil
}

func countSteps(ctx context.Context, q querier, steps map[string]*StepSummary) error {
	rows, err := q.QueryContext(ctx, `SELECT step_id, count(*), total(state IS NULL), total(length(state))
		FROM snaps GROUP BY step_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int64
		var tomb, bytes float64
		if err := rows.Scan(&id, &n, &tomb, &bytes); err != nil {
			return err
		}
		st := stepOf(steps, id)
		st.Snapshots += n
		st.Tombstones += int64(tomb)
		st.Bytes += int64(bytes)
	}
	return rows.Err()
}

func stepOf(steps map[string]*StepSummary, id string) *StepSummary {
	st := steps[id]
	if st == nil {
		st = &StepSummary{StepID: id}
		steps[id] = st
	}
	return st
}

func sortedSteps(steps map[string]*StepSummary) []StepSummary {
	out := make([]StepSummary, 0, len(steps))
	for _, st := range steps {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b StepSummary) int { return strings.Compare(a.StepID, b.StepID) })
	return out
}

// Summary describes the store: executions, resume epoch and snapshots per step.
func (m *Memory) Summary(context.Context) (Summary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return Summary{}, ErrClosed
	}
	sum := Summary{ResumeEpoch: resumeFrom(m.mu.execs)}
	for _, ex := range m.mu.execs {
		ex.Frontiers = slices.Clone(ex.Frontiers)
		sum.Executions = append(sum.Executions, ex)
	}
	steps := map[string]*StepSummary{}
	for k, vs := range m.mu.snaps {
		st := stepOf(steps, k.step)
		for _, v := range vs {
			st.Snapshots++
			st.Bytes += int64(len(v.state))
			if v.state == nil {
				st.Tombstones++
			}
		}
	}
	sum.Steps = sortedSteps(steps)
	return sum, nil
}
