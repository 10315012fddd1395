// Command nativewindow is the baseline of the benchmark's window figure:
// the windowcount flow written as a plain single-goroutine Go program. It
// reads "key,unix_millis" lines from the file named by its only argument
// and counts them per key in 1-minute tumbling windows of event time
// (ids count minutes from the Unix epoch), with the flow's event clock: a
// key's watermark is its newest event time minus 30 s, an event older
// than its key's watermark is late and dropped, and a window is printed
// as "key window_id count" once the watermark reaches its end, or at the
// end of the input. It prints the number of late events on stderr.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
)

const (
	waitMillis   = 30_000
	lengthMillis = 60_000
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: nativewindow FILE")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nativewindow:", err)
		os.Exit(1)
	}
}

// window is an open window of a key.
type window struct{ id, count int64 }

// keyState is a key's watermark and open windows, in id order.
type keyState struct {
	wm   int64
	open []window
}

// counter counts the windows of every key.
type counter struct {
	keys map[string]*keyState
	out  *bufio.Writer
	late int
}

func run(path string, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	c := counter{keys: map[string]*keyState{}, out: bufio.NewWriterSize(stdout, 1<<16)}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c.line(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for key, k := range c.keys {
		c.close(key, k, len(k.open))
	}
	fmt.Fprintf(os.Stderr, "nativewindow: %d late events\n", c.late)
	return c.out.Flush()
}

// line counts one "key,unix_millis" line; it drops one that does not
// parse.
func (c *counter) line(l []byte) {
	i := bytes.IndexByte(l, ',')
	if i <= 0 {
		return
	}
	ts, err := strconv.ParseInt(string(l[i+1:]), 10, 64)
	if err != nil {
		return
	}
	k, ok := c.keys[string(l[:i])]
	if !ok {
		k = &keyState{wm: -1 << 63}
		c.keys[string(l[:i])] = k
	}
	if ts < k.wm {
		c.late++
		return
	}
	k.add(floorDiv(ts, lengthMillis))
	k.wm = max(k.wm, ts-waitMillis)
	n := 0
	for n < len(k.open) && (k.open[n].id+1)*lengthMillis <= k.wm {
		n++
	}
	c.close(string(l[:i]), k, n)
}

// add counts an event of window id.
func (k *keyState) add(id int64) {
	i := 0
	for i < len(k.open) && k.open[i].id < id {
		i++
	}
	if i < len(k.open) && k.open[i].id == id {
		k.open[i].count++
		return
	}
	k.open = append(k.open, window{})
	copy(k.open[i+1:], k.open[i:])
	k.open[i] = window{id: id, count: 1}
}

// close prints and drops the first n open windows of key.
func (c *counter) close(key string, k *keyState, n int) {
	for _, w := range k.open[:n] {
		c.out.WriteString(key)
		c.out.WriteByte(' ')
		c.out.WriteString(strconv.FormatInt(w.id, 10))
		c.out.WriteByte(' ')
		c.out.WriteString(strconv.FormatInt(w.count, 10))
		c.out.WriteByte('\n')
	}
	k.open = k.open[:copy(k.open, k.open[n:])]
}

// floorDiv divides rounding towards minus infinity (d > 0).
func floorDiv(n, d int64) int64 {
	q := n / d
	if n%d != 0 && n < 0 {
		q--
	}
	return q
}
