//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidInfo names one process across pid reuse: its pid and its start time
// (field 22 of /proc/<pid>/stat, in clock ticks since boot).
type pidInfo struct {
	pid   int
	start uint64
}

// errNoProc is returned for a process that /proc does not show.
var errNoProc = errors.New("chaos: no such process")

// stat returns the state letter and start time of pid.
func stat(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, errNoProc
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its closing parenthesis do not.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errNoProc
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return 0, 0, errNoProc
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, errNoProc
	}
	return fields[0][0], start, nil
}

// identify returns the pidInfo of a running pid.
func identify(pid int) (pidInfo, bool) {
	_, start, err := stat(pid)
	return pidInfo{pid, start}, err == nil
}

// alive reports whether p still runs: the same process (same start time)
// and not a zombie.
func (p pidInfo) alive() bool {
	state, start, err := stat(p.pid)
	return err == nil && start == p.start && state != 'Z' && state != 'X'
}

// kill sends SIGKILL to p if it still runs, and to its process group if
// it leads one.
func (p pidInfo) kill() {
	if !p.alive() {
		return
	}
	if pgid, err := syscall.Getpgid(p.pid); err == nil && pgid == p.pid {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(p.pid, syscall.SIGKILL)
}

// childPIDs lists the children of pid, from /proc/<pid>/task/*/children.
func childPIDs(pid int) []int {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// descendants lists the processes below pid, parents before children.
func descendants(pid int) []pidInfo {
	var out []pidInfo
	for _, c := range childPIDs(pid) {
		if info, ok := identify(c); ok {
			out = append(out, info)
			out = append(out, descendants(c)...)
		}
	}
	return out
}

// processIndex returns the BXWASM_PROCESS_ID a cluster's supervisor gave
// pid, or "" if it has none.
func processIndex(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return ""
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("BXWASM_PROCESS_ID=")); ok {
			return string(v)
		}
	}
	return ""
}

// waitGone polls until none of ps runs, for at most d, and reports
// whether they all ended.
func waitGone(ps []pidInfo, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		left := false
		for _, p := range ps {
			left = left || p.alive()
		}
		if !left {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
