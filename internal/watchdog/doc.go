// Package watchdog lets a supervising process see what the worker
// processes it started are doing inside their guests, and stop them when a
// guest call runs too long or a stop takes too long.
//
// A guest stuck in a loop cannot be interrupted from inside its own
// process: wazero's compiled code has no preemption points unless it is
// compiled with checks that make a Go guest about 4.5x slower, and a
// goroutine that cannot be preempted stalls the Go runtime at its next
// garbage collection, signal handlers and timers included. So the limits
// are kept from outside. The supervisor creates a Table, a small file
// mapped into its memory and into the child's (it passes the file as an
// inherited descriptor); every guest call of the child stores one word on
// entry and one on exit into its worker's Slot, and the supervisor polls
// the words with an Observer. A word that has not changed for longer than
// a limit is a call that overran it: the supervisor kills the child and
// names the step and worker from the labels the child wrote into the
// table.
//
//	child:       slot.Enter(watchdog.KindStep, step) ... guest call ... slot.Leave()
//	supervisor:  obs.Observe(table, time.Now()) -> *Overrun
package watchdog
