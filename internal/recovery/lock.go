package recovery

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockFile is the name of the file whose byte p process p of a run locks while it uses a store. Every run
// has a process 0, so two runs on one directory always conflict, while the processes of one run lock
// different bytes. On Linux the locks are open-file-description locks (F_OFD_SETLK), which also conflict
// between two opens in one OS process; elsewhere process p holds a flock on HolderFile(p) instead.
const LockFile = "LOCK"

// HolderFile is the file that names the holder of process p's lock: process id, pid, host and since when.
func HolderFile(p int) string { return LockFile + "." + strconv.Itoa(p) }

// errHeld is what the platform lock returns when the lock is held.
var errHeld = errors.New("held")

// dirLock is a process's lock on a store directory.
type dirLock struct {
	f *os.File // holds the lock; closing it releases it
}

// lockDir takes process's lock on dir without waiting and records the holder in HolderFile(process).
func lockDir(dir string, process int) (*dirLock, error) {
	f, err := lockProcess(dir, process)
	if errors.Is(err, errHeld) {
		holder, _ := os.ReadFile(filepath.Join(dir, HolderFile(process)))
		return nil, fmt.Errorf("%w: %s (byte %d of %s): another run is using %s; stop it or use another "+
			"--recovery-directory", ErrLocked, describeHolder(holder, process), process,
			filepath.Join(dir, LockFile), dir)
	}
	if err != nil {
		return nil, fmt.Errorf("recovery: lock %s: %w", dir, err)
	}
	if err := writeHolder(dir, process); err != nil {
		f.Close()
		return nil, err
	}
	return &dirLock{f: f}, nil
}

// Close releases the lock.
func (l *dirLock) Close() error { return l.f.Close() }

func describeHolder(b []byte, process int) string {
	if s := strings.TrimSpace(string(b)); s != "" {
		return "held by " + s
	}
	return fmt.Sprintf("held by process %d of an unknown pid", process)
}

// writeHolder replaces HolderFile(process) with this process's holder line.
func writeHolder(dir string, process int) error {
	host, _ := os.Hostname()
	line := fmt.Sprintf("process %d of pid %d on %s since %s\n", process, os.Getpid(), host,
		time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(dir, HolderFile(process)), []byte(line), 0o644); err != nil {
		return fmt.Errorf("recovery: lock: %w", err)
	}
	return nil
}
