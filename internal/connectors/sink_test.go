package connectors

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func batch(vals ...string) abi.Batch {
	var b abi.Batch
	for _, v := range vals {
		b.Append(nil, false, []byte(v))
	}
	return b
}

// openFileSink creates a file sink for root/out.txt and opens its part.
func openFileSink(t *testing.T, root string, resume []byte) SinkPart {
	t.Helper()
	s, err := NewSink(abi.ConnFile, "out.txt", Paths{Root: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, ok := s.(PartitionedSink)
	if !ok {
		t.Fatalf("file sink is a %T, want a PartitionedSink", s)
	}
	parts, err := ps.Parts()
	if err != nil || len(parts) != 1 || parts[0] != "out.txt" {
		t.Fatalf("Parts = %q, %v", parts, err)
	}
	p, err := ps.Open(parts[0], resume)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFileSink(t *testing.T) {
	tests := []struct {
		name    string
		before  string // file content before the run ("" = no file)
		batches []abi.Batch
		want    string
	}{
		{"new file", "", []abi.Batch{batch("a", "b"), batch("c")}, "a\nb\nc\n"},
		{"old content truncated", "old\nstuff\n", []abi.Batch{batch("new")}, "new\n"},
		{"nothing written", "old\n", nil, ""},
		{"empty values", "", []abi.Batch{batch("", "x", "")}, "\nx\n\n"},
		{"empty batch", "", []abi.Batch{batch(), batch("x")}, "x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.before != "" {
				mkfile(t, root, "out.txt", tt.before)
			}
			p := openFileSink(t, root, nil)
			for _, b := range tt.batches {
				if err := p.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			snap := p.Snapshot()
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			got := readFile(t, filepath.Join(root, "out.txt"))
			if got != tt.want {
				t.Fatalf("file holds %q, want %q", got, tt.want)
			}
			if !bytes.Equal(snap, encodeOffset(int64(len(got)))) {
				t.Fatalf("snapshot %v, want offset %d", snap, len(got))
			}
		})
	}
}

func TestFileSinkFlushesEachWrite(t *testing.T) {
	root := t.TempDir()
	p := openFileSink(t, root, nil)
	defer p.Close()
	if err := p.Write(batch("a", "b")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(root, "out.txt")); got != "a\nb\n" {
		t.Fatalf("after Write the file holds %q", got)
	}
}

// TestFileSinkResume replays what a crash after a snapshot looks like:
// what was written after the snapshot is cut off on resume, so items
// written again are in the file exactly once.
func TestFileSinkResume(t *testing.T) {
	root := t.TempDir()
	p := openFileSink(t, root, nil)
	if err := p.Write(batch("epoch1-a", "epoch1-b")); err != nil {
		t.Fatal(err)
	}
	snap := p.Snapshot()
	for _, b := range []abi.Batch{batch("epoch2-a", "epoch2-b", "epoch2-c"), batch("epoch3")} {
		if err := p.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	p.Close() // the run stops before committing epoch 2; the resumed run
	// writes epoch 2 again, batched differently, and stops again

	q := openFileSink(t, root, snap)
	for _, b := range []abi.Batch{batch("epoch2-a"), batch("epoch2-b", "epoch2-c")} {
		if err := q.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	want := "epoch1-a\nepoch1-b\nepoch2-a\nepoch2-b\nepoch2-c\n"
	if got := readFile(t, filepath.Join(root, "out.txt")); got != want {
		t.Fatalf("file holds %q, want %q", got, want)
	}
}

func TestFileSinkBadResume(t *testing.T) {
	root := t.TempDir()
	mkfile(t, root, "out.txt", "abc\n")
	s, err := NewSink(abi.ConnFile, "out.txt", Paths{Root: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := s.(PartitionedSink)
	path := filepath.Join(root, "out.txt")
	if _, err := ps.Open("out.txt", encodeOffset(10)); !errors.Is(err, ErrBadResume) {
		t.Fatalf("resume past the end: %v", err)
	}
	if got := readFile(t, path); got != "abc\n" {
		t.Fatalf("a refused resume changed the file to %q", got)
	}
	if _, err := ps.Open(filepath.Join(root, "x"), nil); !errors.Is(err, ErrUnknownPart) {
		t.Fatalf("unknown part: %v", err)
	}
}

func TestNewSinkErrors(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	mkfile(t, root, "dir/x", "")
	symlink(t, filepath.Join(base, "elsewhere.txt"), filepath.Join(root, "link.txt"))
	tests := []struct {
		name     string
		kind     abi.ConnKind
		arg      string
		wantErr  error
		wantText string
	}{
		{"missing parent", abi.ConnFile, "no/such/out.txt", nil, "directory " + filepath.Join(root, "no/such") + " does not exist"},
		{"outside", abi.ConnFile, "../out.txt", ErrPathRefused, "../out.txt"},
		{"dangling link outside", abi.ConnFile, "link.txt", ErrPathRefused, "link.txt"},
		{"a directory", abi.ConnFile, "dir", nil, "not a regular file"},
		{"glob sink", abi.ConnDir, "*.txt", ErrNotHost, "dir sink"},
		{"guest sink", abi.ConnGuestPartitioned, "", ErrNotHost, "guest-partitioned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSink(tt.kind, tt.arg, Paths{Root: root}, &bytes.Buffer{})
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %v does not contain %q", err, tt.wantText)
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(base, "elsewhere.txt")); err == nil {
		t.Error("a refused sink created its file")
	}
}

// TestStdoutSink has workers write concurrently and checks that every
// batch comes out whole, its lines together and in order.
func TestStdoutSink(t *testing.T) {
	const workers, batches, size = 4, 50, 7
	var out bytes.Buffer
	s, err := NewSink(abi.ConnStdout, "", Paths{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	ds, ok := s.(DynamicSink)
	if !ok {
		t.Fatalf("stdout sink is a %T, want a DynamicSink", s)
	}
	var wg sync.WaitGroup
	for w := range workers {
		p, err := ds.Open(w, workers)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := range batches {
				var vals []string
				for j := range size {
					vals = append(vals, fmt.Sprintf("w%d b%d i%d", w, i, j))
				}
				if err := p.Write(batch(vals...)); err != nil {
					t.Error(err)
				}
			}
			if p.Snapshot() != nil || p.Close() != nil {
				t.Error("stdout part has a snapshot or fails to close")
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != workers*batches*size {
		t.Fatalf("%d lines, want %d", len(lines), workers*batches*size)
	}
	for i := 0; i < len(lines); i += size {
		var w, b int
		fmt.Sscanf(lines[i], "w%d b%d", &w, &b)
		for j := range size {
			if want := fmt.Sprintf("w%d b%d i%d", w, b, j); lines[i+j] != want {
				t.Fatalf("line %d is %q, want %q: batches interleaved", i+j, lines[i+j], want)
			}
		}
	}
}
