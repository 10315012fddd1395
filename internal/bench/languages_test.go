package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildLanguages builds from a tree where one language's build.sh
// works, one has none and one fails: the missing one is skipped with a
// note, the failing one fails the build.
func TestBuildLanguages(t *testing.T) {
	script := func(root, dir, body string) {
		t.Helper()
		p := filepath.Join(root, "guest-sdk", dir)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "build.sh"), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The working script checks it was given the example and writes OUT.
	works := "[ \"$1\" = guest-sdk/c/examples/wordcount ] && printf wasm > \"$2\"\n"
	t.Run("skips a missing build.sh", func(t *testing.T) {
		root, out := t.TempDir(), t.TempDir()
		script(root, "c", works)
		var notes bytes.Buffer
		built, err := buildLanguages(root, out, &notes)
		if err != nil {
			t.Fatal(err)
		}
		if len(built) != 1 || built[0].lang != "c" || built[0].wasm != filepath.Join(out, "wordcount-c.wasm") {
			t.Fatalf("built %+v", built)
		}
		for _, want := range []string{"no guest-sdk/rust/build.sh, so no rust rows", "no guest-sdk/assemblyscript/build.sh, so no as rows"} {
			if !strings.Contains(notes.String(), want) {
				t.Errorf("notes %q lack %q", notes.String(), want)
			}
		}
	})
	t.Run("fails on a failing build.sh", func(t *testing.T) {
		root := t.TempDir()
		script(root, "c", works)
		script(root, "rust", "echo cannot compile >&2; exit 3\n")
		_, err := buildLanguages(root, t.TempDir(), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "building the rust word count") || !strings.Contains(err.Error(), "cannot compile") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("fails when build.sh writes nothing", func(t *testing.T) {
		root := t.TempDir()
		script(root, "assemblyscript", "true\n")
		_, err := buildLanguages(root, t.TempDir(), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "wrote no") {
			t.Fatalf("error %v", err)
		}
	})
}

// TestPrintLanguages checks the per-language table's ratios and aims.
func TestPrintLanguages(t *testing.T) {
	ms := []measurement{
		{name: "native", seconds: 1, cpu: 1},
		{name: "wasm-w1", seconds: 8, cpu: 8},
		{name: "wasm-w2", seconds: 5, cpu: 9},
		{name: "c-w1", seconds: 1.6, cpu: 1.6},
		{name: "c-w2", seconds: 1, cpu: 2},
	}
	var out bytes.Buffer
	printLanguages(&out, corpusStats{Words: 8_000_000}, ms, []guestModule{{lang: "c"}})
	got := strings.Join(strings.Fields(out.String()), " ") // columns are padded
	for _, want := range []string{
		"go 1000000 0.125 0.125 1600000 0.200 1.60 0.0 -w1 >= 0.1: met",
		"c 5000000 0.625 0.625 8000000 1.000 1.60 0.0 -w1 >= 0.5: met; -w2/-w1 >= 1.7: MISSED",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}
