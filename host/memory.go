package host

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CheckMemory checks that processes × workers × limitMiB, the most guest
// memory the processes of a run on this machine may take together, fits
// in totalMiB, or when totalMiB is 0 in the machine's memory (read from
// /proc/meminfo; on systems without it, nothing is checked). It returns
// nil or a *MemoryError.
func CheckMemory(processes, workers, limitMiB, totalMiB int) error {
	e := &MemoryError{Processes: processes, Workers: workers, LimitMiB: limitMiB, BudgetMiB: totalMiB}
	if totalMiB == 0 {
		e.BudgetMiB, e.Machine = machineMemoryMiB(), true
	}
	e.NeedMiB = int64(processes) * int64(workers) * int64(limitMiB)
	if e.BudgetMiB <= 0 || e.NeedMiB <= int64(e.BudgetMiB) {
		return nil
	}
	return e
}

// MemoryError is a run whose guests may take more memory together than
// the machine has, or than the budget allows.
type MemoryError struct {
	Processes, Workers, LimitMiB int // the run on this machine
	NeedMiB                      int64
	BudgetMiB                    int  // the budget, or the machine's memory
	Machine                      bool // BudgetMiB is the machine's memory
}

// Error says what the guests need, what there is, and what to change.
func (e *MemoryError) Error() string {
	from := "the --memory-total budget"
	if e.Machine {
		from = "this machine's memory"
	}
	return fmt.Sprintf("%d process(es) × %d worker(s) × %d MiB (--memory-limit) = %d MiB of guest memory, more than %s (%d MiB); "+
		"lower -p, -w or --memory-limit, or set --memory-total MiB (BXWASM_MEMORY_TOTAL) to allow more",
		e.Processes, e.Workers, e.LimitMiB, e.NeedMiB, from, e.BudgetMiB)
}

// machineMemoryMiB is the machine's memory in MiB, or 0 when unknown.
func machineMemoryMiB() int {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	return memTotalMiB(bufio.NewScanner(f))
}

// memTotalMiB reads the MemTotal line of /proc/meminfo ("MemTotal:
// 16318432 kB"), or returns 0.
func memTotalMiB(s *bufio.Scanner) int {
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0
		}
		return int(kb >> 10)
	}
	return 0
}
