package watchdog

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newTable creates a table and opens a second mapping of its file, as a
// child process does.
func newTable(t *testing.T, slots int) (parent, child *Table) {
	t.Helper()
	parent, err := Create(slots)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { parent.Close() })
	// Reopen the file through its descriptor, as a child inherits it.
	dup, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(parent.File().Fd())), os.O_RDWR, 0)
	if err != nil {
		t.Skip("no /proc to reopen the table:", err)
	}
	child, err = Open(dup)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Close() })
	return parent, child
}

func TestSlotWordsCrossMappings(t *testing.T) {
	parent, child := newTable(t, 3)
	child.SetFirstWorker(4)
	child.SetLabels(Labels{Steps: []string{`step "a" (input)`, `step "b" (stateful_batch)`}, Chains: []string{"", `steps "x", "y"`}})
	s := child.Slot(1)
	s.Enter(KindStep, 1)
	c := decode(parent.load(1))
	if !c.inside || c.kind != KindStep || c.index != 1 || c.gen != 1 {
		t.Fatalf("parent sees %+v after Enter, want inside step 1 of generation 1", c)
	}
	s.Leave()
	if c := decode(parent.load(1)); c.inside || c.gen != 1 {
		t.Fatalf("parent sees %+v after Leave, want generation 1 outside", c)
	}
	// A second Slot of the same index goes on counting.
	child.Slot(1).Enter(KindChain, 1)
	if c := decode(parent.load(1)); c.gen != 2 || c.kind != KindChain {
		t.Fatalf("parent sees %+v, want generation 2 inside chain 1", c)
	}
	obs := Observer{}
	got := obs.Inside(parent, time.Unix(100, 0))
	if len(got) != 1 || got[0].What != `steps "x", "y"` || got[0].Worker != 5 {
		t.Fatalf("Inside = %+v, want the chain on worker 5", got)
	}
}

func TestNilTableRecordsNothing(t *testing.T) {
	var tab *Table
	tab.SetFirstWorker(1)
	tab.SetLabels(Labels{Steps: []string{"x"}})
	s := tab.Slot(0)
	s.Enter(KindStep, 0) // must not panic
	s.Leave()
	tab.ProcessSlot().Enter(KindPhase, uint32(PhaseCompile))
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestObserverOverruns(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type step struct {
		at   time.Duration                // after t0
		act  func(worker0, process *Slot) // what the child does before the observation
		want string                       // the overrun's message, or ""
	}
	tests := []struct {
		name   string
		limits Limits
		steps  []step
	}{
		{"a long call overruns", Limits{Call: time.Second}, []step{
			{0, func(w, _ *Slot) { w.Enter(KindStep, 0) }, ""},
			{time.Second, nil, ""}, // exactly the limit is not over it
			{1100 * time.Millisecond, nil, `step "wc.split" (flat_map_batch) on worker 0 ran for more than 1s in one call (--call-timeout)`},
		}},
		{"many short calls never do", Limits{Call: time.Second}, []step{
			{0, func(w, _ *Slot) { w.Enter(KindStep, 0) }, ""},
			{800 * time.Millisecond, func(w, _ *Slot) { w.Leave(); w.Enter(KindStep, 0) }, ""},
			{1600 * time.Millisecond, func(w, _ *Slot) { w.Leave(); w.Enter(KindStep, 0) }, ""},
			{2400 * time.Millisecond, nil, ""},
		}},
		{"an idle worker never does", Limits{Call: time.Second}, []step{
			{0, func(w, _ *Slot) { w.Enter(KindStep, 0); w.Leave() }, ""},
			{time.Hour, nil, ""},
		}},
		{"no limit", Limits{}, []step{
			{0, func(w, _ *Slot) { w.Enter(KindStep, 0) }, ""},
			{time.Hour, nil, ""},
		}},
		{"compilation has its own limit", Limits{Call: time.Second, Compile: 3 * time.Second}, []step{
			{0, func(_, p *Slot) { p.Enter(KindPhase, uint32(PhaseCompile)) }, ""},
			{2 * time.Second, nil, ""},
			{4 * time.Second, nil, "compiling the module took more than 3s (--compile-timeout); a module that takes this long to compile is likely hostile or broken"},
		}},
		{"a start function is a call", Limits{Call: time.Second}, []step{
			{0, func(w, _ *Slot) { w.Enter(KindPhase, uint32(PhaseInstantiate)) }, ""},
			{2 * time.Second, nil, "the module's start function on worker 0 ran for more than 1s in one call (--call-timeout)"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent, child := newTable(t, 2)
			child.SetLabels(Labels{Steps: []string{`step "wc.split" (flat_map_batch)`}})
			obs := Observer{Limits: tc.limits}
			for _, s := range tc.steps {
				if s.act != nil {
					s.act(child.Slot(0), child.ProcessSlot())
				}
				got := ""
				if over := obs.Observe(parent, t0.Add(s.at)); over != nil {
					got = over.Error()
				}
				if got != s.want {
					t.Fatalf("at %s: overrun %q, want %q", s.at, got, s.want)
				}
			}
		})
	}
}

func TestStopErrorNamesWhatIsInside(t *testing.T) {
	e := &StopError{Reason: "a second interrupt", Inside: []Activity{{What: `step "s" (stateful_batch)`, Worker: 3, For: 7250 * time.Millisecond}}}
	want := `stopped at once after a second interrupt; still inside the guest: step "s" (stateful_batch) on worker 3 (for 7.3s)`
	if e.Error() != want {
		t.Fatalf("got %q\nwant %q", e.Error(), want)
	}
	if got := (&StopError{Reason: "x"}).Error(); !strings.Contains(got, "no worker was inside its guest") {
		t.Fatalf("got %q", got)
	}
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(headSize + 8 + namesSize); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(f); err == nil || !strings.Contains(err.Error(), "not a watch table") {
		t.Fatalf("Open of a zeroed file: %v, want not a watch table", err)
	}
	t.Setenv(EnvFD, "x")
	if _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), "is not a file descriptor") {
		t.Fatalf("FromEnv with a bad %s: %v", EnvFD, err)
	}
}
