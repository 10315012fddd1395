package watchdog

import (
	"os"

	"golang.org/x/sys/unix"
)

// newFile makes the table's file in memory, with no name in any file
// system (memfd_create), or else as an unlinked temporary file.
func newFile() (*os.File, error) {
	fd, err := unix.MemfdCreate("bxwasm-watch", unix.MFD_CLOEXEC)
	if err != nil {
		return tempFile()
	}
	return os.NewFile(uintptr(fd), "bxwasm-watch"), nil
}
