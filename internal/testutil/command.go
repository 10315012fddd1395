package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	cmdOnce sync.Once
	cmdPath string
	cmdErr  error
)

// Command builds the bxwasm command (the package in dir, relative to the
// calling test's directory) once per test process and returns its path.
// Call RemoveCommand from TestMain when the tests are done.
func Command(t testing.TB, dir string) string {
	t.Helper()
	cmdOnce.Do(func() {
		tmp, err := os.MkdirTemp("", "bxwasm-cmd-")
		if err != nil {
			cmdErr = err
			return
		}
		cmdPath = filepath.Join(tmp, "bxwasm")
		// go test puts its own toolchain first on PATH.
		if out, err := exec.Command("go", "build", "-o", cmdPath, dir).CombinedOutput(); err != nil {
			cmdErr = fmt.Errorf("go build %s: %v\n%s", dir, err, out)
		}
	})
	if cmdErr != nil {
		t.Fatal(cmdErr)
	}
	return cmdPath
}

// RemoveCommand removes what Command built.
func RemoveCommand() {
	if cmdPath != "" {
		os.RemoveAll(filepath.Dir(cmdPath))
	}
}
