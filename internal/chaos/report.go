//go:build linux

package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Report is the outcome of a session.
type Report struct {
	Dir       string        // the work directory
	Lines     int           // input lines
	Clean     time.Duration // the clean run
	Chaos     time.Duration // the kill loop and the final run
	Kills     []Kill        // in order
	Completed int           // runs that completed before their kill
	Resumes   int           // runs after a kill that resumed from a committed epoch (said "resumed from epoch N")
	Failures  []Failure     // runs that ended other than by a kill
	Diff      Diff          // the chaos run's output against the clean run's
}

// OK reports whether the session passed: no run failed and the outputs
// are equal.
func (r *Report) OK() bool { return len(r.Failures) == 0 && r.Diff.Equal() }

// Kill is one SIGKILL of the session.
type Kill struct {
	N      int           // 1-based, among the session's runs
	Scale  Scale         // of the killed run
	After  time.Duration // from the run's start to the kill
	Victim string        // which process: supervisor, process i, single process
	Ended  time.Duration // from the kill until every process of the run had ended
	Status string        // how the run's first process ended
	Output int           // lines in the output file once the run had ended
}

// String renders the kill as its log line.
func (k Kill) String() string {
	return fmt.Sprintf("kill %2d  %s  at %5.2fs  %-28s ended in %5.2fs (%s), output %d lines",
		k.N, k.Scale, k.After.Seconds(), k.Victim, k.Ended.Seconds(), k.Status, k.Output)
}

// Failure is a run that ended in an error other than a kill.
type Failure struct {
	Run    string // "clean", "run 3 (-p2 -w2)", "final (-p1 -w3)"
	Reason string // how it ended
	Stderr string // the end of its standard error
}

// String renders the failure with its standard error indented.
func (f Failure) String() string {
	s := fmt.Sprintf("%s: %s", f.Run, f.Reason)
	if e := strings.TrimSpace(f.Stderr); e != "" {
		s += "\n    | " + strings.ReplaceAll(e, "\n", "\n    | ")
	}
	return s
}

// resumedRE is how a bxwasm process reports a resume from a committed
// epoch (it says nothing when it starts afresh).
var resumedRE = regexp.MustCompile(`resumed from epoch [0-9]+`)

// noteResume counts the run whose standard error is stderr if it resumed
// after a kill (killsBefore, the kills before it started, is not 0).
func (r *Report) noteResume(killsBefore int, stderr string) {
	if killsBefore > 0 && resumedRE.MatchString(stderr) {
		r.Resumes++
	}
}

// print writes the summary of r to w.
func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "input: %d lines; clean run %.1fs; chaos %.1fs over %d kills%s, %d runs completed before their kill, %d resumed from a committed epoch after a kill\n",
		r.Lines, r.Clean.Seconds(), r.Chaos.Seconds(), len(r.Kills), r.victims(), r.Completed, r.Resumes)
	for _, f := range r.Failures {
		fmt.Fprintf(w, "FAILED run %s\n", f)
	}
	if r.Diff.Equal() {
		fmt.Fprintf(w, "output: %d lines, equal to the clean run's\n", r.Diff.Got)
	} else {
		fmt.Fprintf(w, "output DIFFERS from the clean run's: %s\n", r.Diff)
	}
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL (files in " + r.Dir + ")"
	}
	fmt.Fprintln(w, verdict)
}

// victims counts the kills by kind of victim.
func (r *Report) victims() string {
	n := map[string]int{}
	for _, k := range r.Kills {
		kind, _, _ := strings.Cut(k.Victim, " (")
		if strings.HasPrefix(kind, "process ") {
			kind = "process"
		}
		n[kind]++
	}
	var parts []string
	for _, kind := range []string{"process", "supervisor", "single process"} {
		if n[kind] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[kind], kind))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
