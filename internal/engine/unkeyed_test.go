package engine

import (
	"errors"
	"fmt"
	"testing"
)

// TestUnkeyedItemBeforeStatefulStep pins what the host does with an item
// without a key in front of stateful_batch (docs/abi.md section 11): the
// run fails naming the step, on one worker as on several, and the item
// never reaches the guest.
func TestUnkeyedItemBeforeStatefulStep(t *testing.T) {
	const msg = "got an item without a key: stateful steps need a keyed stream (use key_on first)"
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			w := newWorld(map[string]part{"a": {lines: []line{at(0, "x nokey y")}, end: sec(1)}})
			w.unkeyed = "nokey"
			err := (run{workers: workers}).exec(t, w)
			var se *StepError
			if !errors.As(err, &se) {
				t.Fatalf("run ended with %v, want a StepError", err)
			}
			if se.StepID != "f.count" || se.Operator != "stateful_batch" || se.HasKey || se.Message != msg {
				t.Errorf("got %q, want step f.count (stateful_batch) without a key: %s", se, msg)
			}
			for _, c := range w.calls("count") {
				if c.key == "nokey" || c.key == "" {
					t.Errorf("the unkeyed item reached the guest: %+v", c)
				}
			}
		})
	}
}
