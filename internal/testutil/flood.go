package testutil

import (
	"fmt"
	"strings"
)

// Received sums the "received N" lines that the sinks of the test flows'
// flood flow print.
func Received(out string) int {
	total := 0
	for _, l := range strings.Split(out, "\n") {
		var k int
		if _, err := fmt.Sscanf(l, "received %d", &k); err == nil {
			total += k
		}
	}
	return total
}
