package recovery

import "fmt"

// newExecution is execution number with workers all at the frontier before start.
func newExecution(number uint64, workers int, start uint64) Execution {
	ex := Execution{Number: number, Workers: workers, StartEpoch: start, Frontiers: make([]uint64, workers)}
	for i := range ex.Frontiers {
		ex.Frontiers[i] = start - 1
	}
	return ex
}

// resumeFrom is the resume epoch of a history of executions: the min frontier of the last one, +1.
func resumeFrom(execs []Execution) uint64 {
	if len(execs) == 0 {
		return 1
	}
	return minFrontier(execs[len(execs)-1]) + 1
}

func minFrontier(ex Execution) uint64 {
	m := ex.StartEpoch - 1
	for i, f := range ex.Frontiers {
		if i == 0 || f < m {
			m = f
		}
	}
	return m
}

// checkCommit validates a commit of worker in execution against the history.
func checkCommit(execs []Execution, execution uint64, worker int) error {
	if execution < 1 || execution > uint64(len(execs)) {
		return fmt.Errorf("%w: %d (executions: %d)", ErrUnknownExecution, execution, len(execs))
	}
	if execution != uint64(len(execs)) {
		return fmt.Errorf("%w: %d (latest: %d)", ErrStaleExecution, execution, len(execs))
	}
	if n := execs[execution-1].Workers; worker < 0 || worker >= n {
		return fmt.Errorf("%w: worker %d of %d", ErrBadWorker, worker, n)
	}
	return nil
}
