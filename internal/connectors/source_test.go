package connectors

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// drain polls p until it ends, checking that no call returns more than
// max items, and returns the values.
func drain(t *testing.T, p SourcePart, max int) []string {
	t.Helper()
	var out []string
	for i := 0; ; i++ {
		eof, vals := poll(t, p, max)
		out = append(out, vals...)
		if eof {
			return out
		}
		if i > 1_000_000 {
			t.Fatal("source never ends")
		}
	}
}

// poll calls Next once and returns its values.
func poll(t *testing.T, p SourcePart, max int) (bool, []string) {
	t.Helper()
	var b abi.Batch
	eof, err := p.Next(&b, max)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	if b.N > max {
		t.Fatalf("Next(max=%d) returned %d items", max, b.N)
	}
	return eof, values(t, b)
}

func values(t *testing.T, b abi.Batch) []string {
	t.Helper()
	var out []string
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		if item.HasKey {
			t.Fatalf("item has key %q", item.Key)
		}
		out = append(out, string(item.Value))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// openFile makes a file source for in.txt under a temp root and opens its
// partition; it returns the root.
func openFile(t *testing.T, content string, resume []byte) (SourcePart, string) {
	t.Helper()
	root := t.TempDir()
	mkfile(t, root, "in.txt", content)
	src, err := NewSource(abi.ConnFile, "in.txt", Paths{Root: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := src.Parts()
	if err != nil || len(parts) != 1 || parts[0] != "in.txt" {
		t.Fatalf("Parts = %q, %v", parts, err)
	}
	p, err := src.Open(parts[0], resume)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, root
}

// positionAt is the position of a file of content after its first off bytes.
func positionAt(content string, off int) []byte {
	return filePosition{offset: int64(off), size: int64(len(content)),
		crc: crc32.Checksum([]byte(content[:off]), crc32.MakeTable(crc32.Castagnoli))}.encode()
}

func TestFileSourceLines(t *testing.T) {
	long := strings.Repeat("x", 300<<10) // longer than the read buffer
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{"lines", "a\nb\nc\n", []string{"a", "b", "c"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"no trailing newline", "a\nb", []string{"a", "b"}},
		{"empty file", "", nil},
		{"empty lines kept", "\n\nx\n\n", []string{"", "", "x", ""}},
		{"lone cr kept", "a\rb\nc\r", []string{"a\rb", "c\r"}},
		{"unicode", "héllo\n✓\n", []string{"héllo", "✓"}},
		{"line longer than the buffer", "a\n" + long + "\nb", []string{"a", long, "b"}},
		{"line of exactly MaxLine", strings.Repeat("y", MaxLine) + "\r\n", []string{strings.Repeat("y", MaxLine)}},
	}
	for _, tt := range tests {
		for _, max := range []int{1, 2, 1000} {
			t.Run(tt.name, func(t *testing.T) {
				p, _ := openFile(t, tt.content, nil)
				if got := drain(t, p, max); !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("max %d: got %d lines %.40q, want %d lines %.40q", max, len(got), got, len(tt.want), tt.want)
				}
				if eof, vals := poll(t, p, max); !eof || len(vals) != 0 {
					t.Fatalf("after the end: eof %v, %q", eof, vals)
				}
			})
		}
	}
}

func TestFileSourceResume(t *testing.T) {
	content := "one\r\ntwo\nthree\nfour\nfive"
	tests := []struct {
		name    string
		first   int // lines read before the snapshot
		wantOff uint64
		rest    []string
	}{
		{"from the start", 0, 0, []string{"one", "two", "three", "four", "five"}},
		{"after crlf line", 1, 5, []string{"two", "three", "four", "five"}},
		{"in the middle", 3, 15, []string{"four", "five"}},
		{"at the end", 5, uint64(len(content)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, root := openFile(t, content, nil)
			if tt.first > 0 {
				_, vals := poll(t, p, tt.first)
				if len(vals) != tt.first {
					t.Fatalf("read %d lines, want %d", len(vals), tt.first)
				}
			}
			snap := p.Snapshot()
			if want := positionAt(content, int(tt.wantOff)); !bytes.Equal(snap, want) {
				t.Fatalf("snapshot %v, want %v (offset %d, size %d, CRC-32C of the bytes before)", snap, want, tt.wantOff, len(content))
			}
			src, err := NewSource(abi.ConnFile, "in.txt", Paths{Root: root}, nil)
			if err != nil {
				t.Fatal(err)
			}
			q, err := src.Open("in.txt", snap)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			if got := drain(t, q, 2); !reflect.DeepEqual(got, tt.rest) {
				t.Fatalf("after resume got %q, want %q", got, tt.rest)
			}
		})
	}
}

func TestFileSourceBadResume(t *testing.T) {
	root := t.TempDir()
	path := mkfile(t, root, "in.txt", "abc\n")
	src, err := NewSource(abi.ConnFile, path, Paths{Root: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, resume := range map[string][]byte{
		"offset past the size": filePosition{offset: 5, size: 4}.encode(),
		"not a varint":         {0x80},
		"trailing bytes":       append(positionAt("abc\n", 2), 0),
		"a bare offset":        {2},
		"unknown part":         nil,
	} {
		t.Run(name, func(t *testing.T) {
			part, want := path, ErrBadResume
			if name == "unknown part" {
				part, want = filepath.Join(root, "other.txt"), ErrUnknownPart
			}
			if p, err := src.Open(part, resume); !errors.Is(err, want) {
				if p != nil {
					p.Close()
				}
				t.Fatalf("Open error %v, want %v", err, want)
			}
		})
	}
}

// TestFileSourceIdentity resumes a file read up to "two\n" after changes:
// a file that grew continues; one that shrank or whose bytes before the
// position changed is ErrSourceChanged naming the file, where before it
// continued at the offset in another file.
func TestFileSourceIdentity(t *testing.T) {
	const content = "one\ntwo\nthree\n"
	tests := []struct {
		name, now string
		want      error
		rest      []string
		msg       string
	}{
		{"same file", content, nil, []string{"three"}, ""},
		{"appended to", content + "four\n", nil, []string{"three", "four"}, ""},
		{"shrank", "one\ntwo\nth", ErrSourceChanged, nil, "in.txt is 10 bytes, it was 14"},
		{"emptied", "", ErrSourceChanged, nil, "shrank"},
		{"prefix changed", "one\nTWO\nthree\n", ErrSourceChanged, nil, "the first 8 bytes of in.txt"},
		{"replaced by a longer file", "zero\none\ntwo\nthree\n", ErrSourceChanged, nil, "the first 8 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			mkfile(t, root, "in.txt", tt.now)
			src, err := NewSource(abi.ConnFile, "in.txt", Paths{Root: root}, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := src.Open("in.txt", positionAt(content, 8))
			if !errors.Is(err, tt.want) || err != nil && !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Open error %v, want %v saying %q", err, tt.want, tt.msg)
			}
			if err != nil {
				return
			}
			defer p.Close()
			if got := drain(t, p, 10); !reflect.DeepEqual(got, tt.rest) {
				t.Fatalf("after resume got %q, want %q", got, tt.rest)
			}
		})
	}
}

func TestFileSourceLineTooLong(t *testing.T) {
	tests := []struct {
		name    string
		content string
		resume  int
		want    string
	}{
		{"second line", "ok\n" + strings.Repeat("x", MaxLine+1) + "\n", 0, "in.txt line 2"},
		{"last line without newline", "ok\n" + strings.Repeat("x", MaxLine+1), 0, "in.txt line 2"},
		{"crlf does not count", strings.Repeat("x", MaxLine+1) + "\r\n", 0, "in.txt line 1"},
		{"far too long", strings.Repeat("x", 3*MaxLine), 0, "in.txt line 1"},
		{"after resume", "ok\n" + strings.Repeat("x", MaxLine+1), 3, "in.txt, the line at byte offset 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := openFile(t, tt.content, positionAt(tt.content, tt.resume))
			var b abi.Batch
			var err error
			for i := 0; i < 3 && err == nil; i++ {
				_, err = p.Next(&b, 1)
			}
			if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrLineTooLong naming %q", err, tt.want)
			}
		})
	}
}

func TestNewSourceErrors(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	mkfile(t, root, "in.txt", "x")
	mkfile(t, root, "dir/a.txt", "x")
	mkfile(t, base, "outside.txt", "x")
	symlink(t, filepath.Join(base, "outside.txt"), filepath.Join(root, "link.txt"))
	tests := []struct {
		name     string
		kind     abi.ConnKind
		arg      string
		wantErr  error
		wantText string
	}{
		{"missing file", abi.ConnFile, "nope.txt", fs.ErrNotExist, "nope.txt"},
		{"file outside", abi.ConnFile, "../outside.txt", ErrPathRefused, "--allow-path"},
		{"file through escaping symlink", abi.ConnFile, "link.txt", ErrPathRefused, "link.txt"},
		{"directory as file", abi.ConnFile, "dir", nil, "not a regular file"},
		{"glob matching nothing", abi.ConnDir, "dir/*.csv", ErrNoMatch, "dir/*.csv"},
		{"glob matching only dirs", abi.ConnDir, "d*", ErrNoMatch, "d*"},
		{"glob outside", abi.ConnDir, "../*.txt", ErrPathRefused, "outside.txt"},
		{"glob through escaping symlink", abi.ConnDir, "*.txt", ErrPathRefused, "link.txt"},
		{"bad glob", abi.ConnDir, "[", nil, "glob ["},
		{"guest connector", abi.ConnGuestDynamic, "", ErrNotHost, "guest-dynamic"},
		{"sink kind", abi.ConnStdout, "", ErrNotHost, "stdout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSource(tt.kind, tt.arg, Paths{Root: root}, strings.NewReader(""))
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
}

func TestDirSource(t *testing.T) {
	root := t.TempDir()
	mkfile(t, root, "data/b.txt", "b1\nb2\n")
	mkfile(t, root, "data/a.txt", "a1\n")
	mkfile(t, root, "data/c.csv", "c1\n")
	mkfile(t, root, "data/d.txt/inner", "not a file match")
	symlink(t, "a.txt", filepath.Join(root, "data/e.txt"))
	src, err := NewSource(abi.ConnDir, "data/*.txt", Paths{Root: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := src.Parts()
	want := []string{"data/a.txt", "data/b.txt"}
	if err != nil || !reflect.DeepEqual(parts, want) {
		t.Fatalf("Parts = %q, %v; want %q (relative, sorted, no duplicates through links, no dirs)", parts, err, want)
	}
	abs, err := NewSource(abi.ConnDir, filepath.Join(root, "data/*.txt"), Paths{Root: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	absParts, _ := abs.Parts()
	if wantAbs := []string{filepath.Join(root, "data/a.txt"), filepath.Join(root, "data/b.txt")}; !reflect.DeepEqual(absParts, wantAbs) {
		t.Errorf("Parts of an absolute glob = %q; want %q", absParts, wantAbs)
	}
	wantLines := [][]string{{"a1"}, {"b1", "b2"}}
	for i, part := range parts {
		p, err := src.Open(part, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := drain(t, p, 10); !reflect.DeepEqual(got, wantLines[i]) {
			t.Errorf("%s: %q, want %q", part, got, wantLines[i])
		}
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkFileSource(b *testing.B) {
	root := b.TempDir()
	line := strings.Repeat("word ", 16) + "\n"
	path := filepath.Join(root, "in.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat(line, 100_000)), 0o644); err != nil {
		b.Fatal(err)
	}
	src, err := NewSource(abi.ConnFile, path, Paths{Root: root}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(line)) * 100_000)
	var batch abi.Batch
	for b.Loop() {
		p, err := src.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		for eof := false; !eof; {
			batch.Reset()
			if eof, err = p.Next(&batch, 1024); err != nil {
				b.Fatal(err)
			}
		}
		p.Close()
	}
}
