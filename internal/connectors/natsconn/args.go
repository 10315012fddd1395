package natsconn

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// checkArg refuses fields of arg the connector (what) does not use, and a
// format or batch it cannot take.
func checkArg(what string, arg abi.StreamConn, allowed ...string) error {
	var fields map[string]any
	b, _ := json.Marshal(arg)
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	allowed = append(allowed, "conn", "format")
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		if !slices.Contains(allowed, f) {
			return fmt.Errorf("natsconn: a %s does not take %q; it takes %s", what, f, strings.Join(allowed, ", "))
		}
	}
	if arg.Format != "" && arg.Format != abi.FormatMessage && arg.Format != abi.FormatPayload {
		return fmt.Errorf("natsconn: format %q is not %q or %q", arg.Format, abi.FormatMessage, abi.FormatPayload)
	}
	if arg.Batch < 0 {
		return fmt.Errorf("natsconn: batch %d is negative", arg.Batch)
	}
	return nil
}
