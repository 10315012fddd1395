//go:build !linux

package watchdog

import "os"

// newFile makes the table's file: an unlinked temporary file.
func newFile() (*os.File, error) { return tempFile() }
