package recovery

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockProcess takes an exclusive open-file-description lock on byte process of dir's LOCK file without
// waiting; errHeld when another open holds it (in this OS process or another).
func lockProcess(dir string, process int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: int64(process), Len: 1}
	err = unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		f.Close()
		return nil, errHeld
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
