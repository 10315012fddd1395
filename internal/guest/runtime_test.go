package guest

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// sandboxReport runs the sandbox guest once and returns its report.
func sandboxReport(t *testing.T, rt *Runtime) string {
	t.Helper()
	r, err := instantiate(t, rt, "sandbox").Call(t.Context(), []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	return string(r.Raw(r.Len()))
}

func TestSandbox(t *testing.T) {
	var stdout, stderr bytes.Buffer
	rt := newRuntime(t, Config{Stdout: &stdout, Stderr: &stderr})
	report := sandboxReport(t, rt)
	for _, want := range []string{
		"args=0\n", "env=0\n",
		"stat /=false\n", "stat .=false\n", "stat /etc/passwd=false\n",
		"year=" + time.Now().Format("2006") + "\n", // real wall clock
		"slept=true\n", // real monotonic clock and sleep
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if stdout.String() != "hello stdout\n" || stderr.String() != "hello stderr\n" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
	// wazero's default random source is deterministic; ours must not be.
	if a, b := randLine(report), randLine(sandboxReport(t, rt)); a == b {
		t.Errorf("two instances drew the same random bytes %s", a)
	}
}

func randLine(report string) string {
	_, after, _ := strings.Cut(report, "rand=")
	line, _, _ := strings.Cut(after, "\n")
	return line
}

// TestCompilationCache loads a module twice with the same cache directory
// on fresh runtimes; the second load comes from the cache. Times are
// logged, not asserted: run with -v to see them.
func TestCompilationCache(t *testing.T) {
	dir := t.TempDir()
	path := guestPath(t, "echo")
	var times [2]time.Duration
	for n := range times {
		rt, err := NewRuntime(t.Context(), Config{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		m, err := rt.Load(t.Context(), path)
		times[n] = time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		i, err := m.Instantiate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := i.ListFlows(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := rt.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if entries, _ := os.ReadDir(dir); len(entries) == 0 {
				t.Fatal("first load wrote nothing into the cache directory")
			}
		}
	}
	t.Logf("load of %s: cold %v, from cache %v", path, times[0], times[1])
}

func TestRuntimeConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"memory over 4 GiB", Config{MemoryLimitPages: 1 << 20}, "memory limit of 1048576 pages"},
		{"cache dir is a file", Config{CacheDir: writeFile(t, "file", nil)}, "compilation cache in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRuntime(t.Context(), tc.cfg)
			checkErr(t, err, nil, []string{tc.want})
		})
	}
}
