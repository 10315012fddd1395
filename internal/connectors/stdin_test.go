package connectors

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func TestStdinSource(t *testing.T) {
	src, err := NewSource(abi.ConnStdin, "", Paths{}, strings.NewReader("x\r\ny\nz"))
	if err != nil {
		t.Fatal(err)
	}
	parts, err := src.Parts()
	if err != nil || !reflect.DeepEqual(parts, []string{StdinPart}) {
		t.Fatalf("Parts = %q, %v", parts, err)
	}
	if _, err := src.Open("other", nil); !errors.Is(err, ErrUnknownPart) {
		t.Fatalf("Open(other) error %v", err)
	}
	p, err := src.Open(StdinPart, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, p, 2); !reflect.DeepEqual(got, []string{"x", "y", "z"}) {
		t.Fatalf("got %q", got)
	}
	if p.Snapshot() != nil {
		t.Errorf("stdin has a snapshot %v", p.Snapshot())
	}
	if _, err := src.Open(StdinPart, nil); err == nil {
		t.Fatal("stdin opened twice")
	}
}

// TestStdinQuiet feeds stdin through a pipe and checks that Next returns
// when nothing is ready, hands over complete lines without waiting for the
// next one, and reports errors and the end.
func TestStdinQuiet(t *testing.T) {
	r, w := io.Pipe()
	src, err := NewSource(abi.ConnStdin, "", Paths{}, r)
	if err != nil {
		t.Fatal(err)
	}
	p, err := src.Open(StdinPart, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if eof, vals := poll(t, p, 10); eof || len(vals) != 0 {
		t.Fatalf("quiet stdin: eof %v, %q", eof, vals)
	}
	go w.Write([]byte("a\nb\npartial"))
	got := pollUntil(t, p, 2)
	if !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("got %q before the partial line ended", got)
	}
	go func() {
		w.Write([]byte(" line\nlast"))
		w.Close()
	}()
	if got := drain(t, p, 10); !reflect.DeepEqual(got, []string{"partial line", "last"}) {
		t.Fatalf("got %q", got)
	}
}

// pollUntil polls p until it returned n values.
func pollUntil(t *testing.T, p SourcePart, n int) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		eof, vals := poll(t, p, 1)
		if eof {
			t.Fatalf("ended after %q", got)
		}
		got = append(got, vals...)
	}
	return got
}

func TestStdinError(t *testing.T) {
	in := "ok\n" + strings.Repeat("x", MaxLine+1) + "\n"
	src, err := NewSource(abi.ConnStdin, "", Paths{}, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	p, err := src.Open(StdinPart, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var got []string
	for i := 0; i < 1000; i++ {
		var b abi.Batch
		eof, err := p.Next(&b, 10)
		got = append(got, values(t, b)...)
		if eof {
			t.Fatal("stdin ended without an error")
		}
		if err != nil {
			if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "stdin line 2") {
				t.Fatalf("error %v, want ErrLineTooLong naming stdin line 2", err)
			}
			if !reflect.DeepEqual(got, []string{"ok"}) {
				t.Fatalf("lines before the error: %q", got)
			}
			return
		}
	}
	t.Fatal("no error")
}
