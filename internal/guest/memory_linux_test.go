//go:build linux

package guest

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestClosedInstancesReleaseTheirMappings opens and closes many instances,
// each reserving the whole memory limit, and checks the reservations go
// away with them.
func TestClosedInstancesReleaseTheirMappings(t *testing.T) {
	rt := newRuntime(t, Config{MemoryLimitPages: 4096}) // 256 MiB each
	m, err := rt.Load(context.Background(), guestPath(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	before := vmSizeMiB(t)
	for i := 0; i < 64; i++ {
		inst, err := m.Instantiate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := inst.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// 64 leaked reservations would add 16 GiB of address space.
	if grown := vmSizeMiB(t) - before; grown > 2048 {
		t.Errorf("address space grew by %d MiB after closing every instance", grown)
	}
}

func vmSizeMiB(t *testing.T) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb >> 10
		}
	}
	t.Skip("no VmSize")
	return 0
}
