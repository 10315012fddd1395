package host_test

import (
	"context"
	"os"
	"testing"

	"github.com/bxwasm/bxwasm/host"
)

func TestZZProf(t *testing.T) {
	dir := os.Getenv("PROF_DIR")
	if dir == "" {
		t.Skip()
	}
	o := host.Options{WorkersPerProcess: 1, WorkDir: dir, RecoveryDir: "store", MemoryLimitMiB: 1024}
	if err := host.Run(context.Background(), dir+"/keys.wasm", "get_flow('keys.txt')", o); err != nil {
		t.Fatal(err)
	}
}
