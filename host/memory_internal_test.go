package host

import (
	"bufio"
	"strings"
	"testing"
)

// TestMemTotalMiB reads MemTotal from /proc/meminfo's format, and 0 from
// anything else.
func TestMemTotalMiB(t *testing.T) {
	cases := []struct {
		name, in string
		want     int
	}{
		{"linux", "MemTotal:       24683656 kB\nMemFree:         1000 kB\n", 24105},
		{"not first", "Foo: 1 kB\nMemTotal: 2048 kB\n", 2},
		{"missing", "MemFree: 2048 kB\n", 0},
		{"other unit", "MemTotal: 2048 MB\n", 0},
		{"not a number", "MemTotal: lots kB\n", 0},
		{"empty", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := memTotalMiB(bufio.NewScanner(strings.NewReader(c.in))); got != c.want {
				t.Errorf("got %d MiB, want %d", got, c.want)
			}
		})
	}
}
