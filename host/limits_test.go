package host_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestValidate checks every bound of Options, and that a zero field reads
// as its default.
func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		set  func(o *host.Options)
		want string // "" for valid
	}{
		{"zero value", func(o *host.Options) {}, ""},
		{"most workers", func(o *host.Options) { o.WorkersPerProcess, o.MemoryLimitMiB, o.MemoryTotalMiB = 1024, 1, 1024 }, ""},
		{"too many workers", func(o *host.Options) { o.WorkersPerProcess = 1025 }, "workers per process must be between 1 and 1024, got 1025"},
		{"negative workers", func(o *host.Options) { o.WorkersPerProcess = -1 }, "workers per process must be between 1 and 1024, got -1"},
		{"shortest epoch", func(o *host.Options) { o.EpochInterval = time.Millisecond }, ""},
		{"epoch under the floor", func(o *host.Options) { o.EpochInterval = time.Nanosecond }, "epoch interval must be at least 1ms, got 1ns"},
		{"negative epoch", func(o *host.Options) { o.EpochInterval = -time.Second }, "epoch interval must be at least 1ms, got -1s"},
		{"memory limit over 4 GiB", func(o *host.Options) { o.MemoryLimitMiB = 4097 }, "memory limit (MiB) must be between 1 and 4096, got 4097"},
		{"negative processes", func(o *host.Options) { o.Processes = -1 }, "processes must be between 1 and 1024, got -1"},
		{"too many local processes", func(o *host.Options) { o.LocalProcesses = 257 }, "local processes must be between 1 and 256, got 257"},
		{"largest item", func(o *host.Options) { o.MaxItemSizeMiB = 1024 }, ""},
		{"item limit over 1 GiB", func(o *host.Options) { o.MaxItemSizeMiB = 1025 }, "max item size (MiB) must be between 1 and 1024, got 1025"},
		{"negative memory total", func(o *host.Options) { o.MemoryTotalMiB = -1 }, "memory total (MiB) must be between 0 and"},
		{"memory within total", func(o *host.Options) {
			o.LocalProcesses, o.WorkersPerProcess, o.MemoryLimitMiB, o.MemoryTotalMiB = 2, 4, 128, 1024
		}, ""},
		{"memory over total", func(o *host.Options) {
			o.LocalProcesses, o.WorkersPerProcess, o.MemoryLimitMiB, o.MemoryTotalMiB = 2, 4, 128, 1023
		},
			"2 process(es) × 4 worker(s) × 128 MiB (--memory-limit) = 1024 MiB of guest memory, more than the --memory-total budget (1023 MiB)"},
		{"negative join timeout", func(o *host.Options) { o.JoinTimeout = -time.Second }, "join timeout must not be negative, got -1s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var o host.Options
			c.set(&o)
			before := fmt.Sprintf("%+v", o)
			err := o.Validate()
			if after := fmt.Sprintf("%+v", o); after != before {
				t.Errorf("Validate changed the options:\n%s\n%s", before, after)
			}
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case c.want != "" && (!errors.Is(err, host.ErrBadOptions) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Validate = %v, want ErrBadOptions saying %q", err, c.want)
			}
		})
	}
}

// TestMemoryOverTheMachineIsRefused asks for more guest memory than any
// machine this runs on has.
func TestMemoryOverTheMachineIsRefused(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("the machine's memory is read from /proc/meminfo")
	}
	err := host.CheckMemory(256, 1024, 4096, 0)
	var me *host.MemoryError
	if !errors.As(err, &me) || !me.Machine || me.NeedMiB != 1<<30 || me.BudgetMiB <= 0 ||
		!strings.Contains(err.Error(), "more than this machine's memory") || !strings.Contains(err.Error(), "--memory-total") {
		t.Fatalf("CheckMemory = %v, want a MemoryError against the machine's memory", err)
	}
	if err := host.CheckMemory(256, 1024, 4096, 1<<30); err != nil {
		t.Errorf("a budget of the whole need: %v", err)
	}
}

// itemFlow sends two items of size bytes from worker 0 through a
// redistribute step: one stays on worker 0, one goes to worker 1.
func itemFlow(size int) string { return fmt.Sprintf("flood(2, %d, 0)", size) }

// TestLargeItemsPassEveryTransport sends 3 MiB items, three times NATS's
// default max_payload, between workers of one process and of two.
func TestLargeItemsPassEveryTransport(t *testing.T) {
	spec := itemFlow(3 << 20)
	t.Run("w2", func(t *testing.T) {
		o := opts(t, 2)
		var out strings.Builder
		o.Stdout = &out
		if err := host.Run(context.Background(), flows(t), spec, o); err != nil {
			t.Fatal(err)
		}
		if got := testutil.Received(out.String()); got != 2 {
			t.Errorf("sinks received %d items, want 2: %q", got, out.String())
		}
	})
	t.Run("p2", func(t *testing.T) {
		errs, lines := clusterRun(t, startNATS(t), "big", flows(t), spec, t.TempDir(), 2, 1)
		for p, err := range errs {
			if err != nil {
				t.Fatalf("process %d: %v", p, err)
			}
		}
		if got := testutil.Received(strings.Join(lines, "\n")); got != 2 {
			t.Errorf("sinks received %d items, want 2: %q", got, lines)
		}
	})
}

// TestItemOverTheLimitFailsAlike sends an item over MaxItemSizeMiB between
// workers of one process and of two: both runs fail with the same error,
// naming the step and the item's size.
func TestItemOverTheLimitFailsAlike(t *testing.T) {
	const want = `step "flood.spread" (redistribute) failed on worker 0: an item of 3145728 bytes (3.0 MiB) is over the largest item size, 2 MiB (--max-item-size)`
	spec := itemFlow(3 << 20)
	o := opts(t, 2)
	o.MaxItemSizeMiB = 2
	local := host.Run(context.Background(), flows(t), spec, o)
	errs, _ := clusterRunWith(t, startNATS(t), "too-big", flows(t), spec, t.TempDir(), 2, 1,
		func(o *host.Options) { o.MaxItemSizeMiB = 2 })
	for name, err := range map[string]error{"-w2": local, "-p2 process 0": errs[0]} {
		var se *host.StepError
		if !errors.As(err, &se) || !errors.Is(err, host.ErrItemTooLarge) || err.Error() != want {
			t.Errorf("%s: got %v, want a StepError wrapping ErrItemTooLarge:\n%s", name, err, want)
		}
	}
	var re *host.RemoteError
	if !errors.As(errs[1], &re) || re.Process != 0 || re.Message != want {
		t.Errorf("-p2 process 1: got %v, want process 0's error", errs[1])
	}
}
