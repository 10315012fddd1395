package engine

import (
	"fmt"
	"strings"
	"testing"
)

// TestAligner drives the state machine with scripts of "d sender epoch
// payload" (data) and "f sender frontier" (frontier) and checks the events.
func TestAligner(t *testing.T) {
	cases := []struct {
		name    string
		senders int
		script  []string
		want    string
	}{
		{"data before any frontier waits", 2,
			[]string{"d 0 1 a", "f 0 1", "f 1 1"},
			"- | - | data(1,a)"},
		{"data at the frontier passes", 2,
			[]string{"f 0 1", "f 1 1", "d 1 1 a", "d 0 1 b"},
			"- | - | data(1,a) | data(1,b)"},
		{"early epoch waits for the slow sender", 2,
			[]string{"f 0 1", "f 1 1", "f 0 2", "d 0 2 x", "d 1 1 y", "f 1 2"},
			"- | - | - | - | data(1,y) | close(1) data(2,x)"},
		{"data of a closed epoch comes before the close", 2,
			[]string{"f 0 1", "f 1 1", "d 0 1 a", "f 0 3", "d 0 3 c", "d 1 1 b", "d 1 2 e", "f 1 3"},
			"- | - | data(1,a) | - | - | data(1,b) | - | close(1) data(2,e) close(2) data(3,c)"},
		{"a jump over epochs closes before each epoch's data", 2,
			[]string{"f 0 1", "f 1 1", "d 0 1 a", "d 0 3 c", "d 1 5 e", "f 0 9", "f 1 9"},
			"- | - | data(1,a) | - | - | - | close(2) data(3,c) close(4) data(5,e) close(8)"},
		{"epochs without data close at once", 1,
			[]string{"f 0 1", "f 0 7", "f 0 8"},
			"- | close(6) | close(7)"},
		{"per-sender order is kept", 1,
			[]string{"d 0 2 a", "d 0 2 b", "f 0 1", "f 0 2"},
			"- | - | - | close(1) data(2,a) data(2,b)"},
		{"stale frontier is ignored", 2,
			[]string{"f 0 2", "f 0 1", "f 1 2"},
			"- | - | close(1)"},
		{"eof closes everything", 2,
			[]string{"f 0 1", "f 1 1", "d 0 4 z", "f 0 eof", "f 1 eof"},
			"- | - | - | - | close(3) data(4,z) close(4) close(eof)"},
		{"stop closes what was seen, then stops", 2,
			[]string{"f 0 1", "f 1 1", "d 0 1 a", "d 1 2 b", "f 0 stop", "f 1 stop"},
			"- | - | data(1,a) | - | - | close(1) data(2,b) close(2) close(stop)"},
		{"stop closes the epoch the senders were in without data of it", 2,
			[]string{"f 0 1", "f 1 1", "d 0 1 a", "f 0 2", "f 1 2", "f 0 stop", "f 1 stop"},
			"- | - | data(1,a) | - | close(1) | - | close(2) close(stop)"},
		{"stop closes the epoch of the sender ahead", 2,
			[]string{"f 0 1", "f 1 1", "f 1 3", "f 1 stop", "f 0 stop"},
			"- | - | - | - | close(3) close(stop)"},
		{"stop closes data beyond every frontier", 2,
			[]string{"f 0 1", "f 1 2", "d 1 4 z", "f 1 stop", "f 0 stop"},
			"- | - | - | - | close(3) data(4,z) close(4) close(stop)"},
		{"stop before any frontier closes nothing", 2,
			[]string{"f 0 stop", "f 1 stop"},
			"- | close(stop)"},
		{"eof closes only the epochs of data", 2,
			[]string{"f 0 1", "f 1 1", "d 0 1 a", "f 0 3", "f 1 3", "f 0 eof", "f 1 eof"},
			"- | - | data(1,a) | - | close(2) | - | close(eof)"},
		{"eof and stop together stop", 2,
			[]string{"f 0 1", "f 1 eof", "f 0 stop"},
			"- | - | close(1) close(stop)"},
		{"eof with nothing before it", 1,
			[]string{"f 0 eof"},
			"close(eof)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAligner[string](c.senders, 1)
			var got []string
			for _, line := range c.script {
				got = append(got, render(step(t, a, line)))
			}
			if g := strings.Join(got, " | "); g != c.want {
				t.Errorf("events:\n got %q\nwant %q", g, c.want)
			}
		})
	}
}

// TestAlignerStart checks that a resumed execution closes nothing before
// its first epoch.
func TestAlignerStart(t *testing.T) {
	a := newAligner[string](1, 5)
	var got []string
	for _, line := range []string{"f 0 5", "d 0 5 x", "f 0 6"} {
		got = append(got, render(step(t, a, line)))
	}
	if g, want := strings.Join(got, " | "), "- | data(5,x) | close(5)"; g != want {
		t.Errorf("events: got %q, want %q", g, want)
	}
}

func step(t *testing.T, a *aligner[string], line string) []event[string] {
	var op string
	var sender int
	var epoch, payload string
	n, _ := fmt.Sscan(line, &op, &sender, &epoch, &payload)
	e := uint64(EOF)
	switch epoch {
	case "stop":
		e = Stop
	case "eof":
	default:
		fmt.Sscan(epoch, &e)
	}
	switch {
	case op == "d" && n == 4:
		return a.Data(sender, e, payload)
	case op == "f" && n == 3:
		return a.Advance(sender, e)
	}
	t.Fatalf("bad script line %q", line)
	return nil
}

func render(evs []event[string]) string {
	var parts []string
	for _, e := range evs {
		switch {
		case e.Close && e.Closed == EOF:
			parts = append(parts, "close(eof)")
		case e.Close && e.Closed == Stop:
			parts = append(parts, "close(stop)")
		case e.Close:
			parts = append(parts, fmt.Sprintf("close(%d)", e.Closed))
		default:
			parts = append(parts, fmt.Sprintf("data(%d,%s)", e.Epoch, e.Data))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
