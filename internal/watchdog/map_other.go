//go:build !unix

package watchdog

import (
	"errors"
	"os"
)

// mapTable fails where shared mappings are not available: there a
// supervisor cannot watch its children.
func mapTable(*os.File, int) (*Table, error) {
	return nil, errors.New("watchdog: shared tables need a Unix system")
}
