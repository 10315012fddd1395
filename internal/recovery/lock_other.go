//go:build !linux

package recovery

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// lockProcess takes an exclusive flock on dir's HolderFile(process) without waiting (open-file-description
// byte locks are Linux only); errHeld when another open holds it.
func lockProcess(dir string, process int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, HolderFile(process)), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, errHeld
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
