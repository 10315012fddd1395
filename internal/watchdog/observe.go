package watchdog

import (
	"fmt"
	"strings"
	"time"
)

// Limits are the longest a call may run before the supervisor stops the
// child; zero means no limit.
type Limits struct {
	Call    time.Duration // every guest call, and instantiation and building (--call-timeout)
	Compile time.Duration // compiling the module (--compile-timeout)
}

// limit is the limit of c, with the flag that sets it.
func (l Limits) limit(c call) (time.Duration, string) {
	if c.kind == KindPhase && Phase(c.index) == PhaseCompile {
		return l.Compile, "--compile-timeout"
	}
	return l.Call, "--call-timeout"
}

// Observer keeps, for every slot of one table, the word it last saw and
// since when: a word unchanged across observations is one call going on.
// It is the pure core of a supervisor's watch; time is passed in.
type Observer struct {
	Limits Limits
	seen   []seen
}

type seen struct {
	word  uint64
	since time.Time
}

// Activity is a call a slot is inside.
type Activity struct {
	What   string        // e.g. `step "wc.split" (flat_map_batch)`, "compiling the module"
	Worker int           // global worker index; -1 for the process slot
	For    time.Duration // at least this long, as observed
	Limit  time.Duration // the limit it runs under; 0 for none
	Flag   string        // the flag that sets Limit
}

// Observe records t's words at now and returns the first call that has
// run past its limit, or nil.
func (o *Observer) Observe(t *Table, now time.Time) *Overrun {
	if len(o.seen) != t.Slots() {
		o.seen = make([]seen, t.Slots())
	}
	var over *Overrun
	for i := range o.seen {
		w := t.load(i)
		if s := &o.seen[i]; s.word != w || s.since.IsZero() {
			*s = seen{word: w, since: now}
		}
		c := decode(w)
		if !c.inside || over != nil {
			continue
		}
		limit, _ := o.Limits.limit(c)
		if limit > 0 && now.Sub(o.seen[i].since) > limit {
			over = &Overrun{Activity: o.activity(t, i, now)}
		}
	}
	return over
}

// Inside lists the calls t's slots are inside at now (as of the last
// Observe, which it makes).
func (o *Observer) Inside(t *Table, now time.Time) []Activity {
	o.Observe(t, now)
	var out []Activity
	for i := range o.seen {
		if decode(o.seen[i].word).inside {
			out = append(out, o.activity(t, i, now))
		}
	}
	return out
}

func (o *Observer) activity(t *Table, slot int, now time.Time) Activity {
	c := decode(o.seen[slot].word)
	a := Activity{What: describe(c, t.labels()), Worker: -1, For: now.Sub(o.seen[slot].since)}
	a.Limit, a.Flag = o.Limits.limit(c)
	if slot < t.Slots()-1 {
		a.Worker = t.firstWorker() + slot
	}
	return a
}

// describe names what a call is for.
func describe(c call, l Labels) string {
	switch c.kind {
	case KindStep:
		if int(c.index) < len(l.Steps) {
			return l.Steps[c.index]
		}
		return fmt.Sprintf("step %d", c.index)
	case KindChain:
		if int(c.index) < len(l.Chains) && l.Chains[c.index] != "" {
			return l.Chains[c.index]
		}
		return fmt.Sprintf("fused chain %d", c.index)
	}
	if s, ok := phaseNames[Phase(c.index)]; ok {
		return s
	}
	return fmt.Sprintf("phase %d", c.index)
}

var phaseNames = map[Phase]string{
	PhaseCompile:     "compiling the module",
	PhaseInstantiate: "the module's start function",
	PhaseInitialize:  "the module's _initialize",
	PhaseVersion:     "the module's ABI version export",
	PhaseListFlows:   "listing the module's flows",
	PhaseBuild:       "building the flow",
	PhaseFuse:        "declaring fused steps",
}

// String is "<what> on worker N (for 1.2s)".
func (a Activity) String() string {
	return fmt.Sprintf("%s%s (for %s)", a.What, a.where(), a.For.Round(100*time.Millisecond))
}

func (a Activity) where() string {
	if a.Worker < 0 {
		return ""
	}
	return fmt.Sprintf(" on worker %d", a.Worker)
}

// Overrun is a call that ran past its limit; the supervisor stopped the
// process.
type Overrun struct{ Activity }

// Error says what ran too long, where, and which flag sets the limit:
//
//	step "wc.split" (flat_map_batch) on worker 1 ran for more than 1m0s in one call (--call-timeout)
func (e *Overrun) Error() string {
	if e.Flag == "--compile-timeout" {
		return fmt.Sprintf("%s took more than %s (%s); a module that takes this long to compile is "+
			"likely hostile or broken", e.What, e.Limit, e.Flag)
	}
	return fmt.Sprintf("%s%s ran for more than %s in one call (%s)", e.What, e.where(), e.Limit, e.Flag)
}

// StopError is a stop (a signal) that the processes did not finish in
// time; it says what was still inside a guest.
type StopError struct {
	Reason string     // e.g. "a second interrupt", "5s after the interrupt"
	Inside []Activity // calls still inside a guest, by slot
}

// Error names the reason and each call still inside a guest.
func (e *StopError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stopped at once after %s", e.Reason)
	if len(e.Inside) == 0 {
		b.WriteString("; no worker was inside its guest")
		return b.String()
	}
	b.WriteString("; still inside the guest: ")
	for i, a := range e.Inside {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	return b.String()
}
