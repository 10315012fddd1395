// Command native is the benchmark's baseline: the wordcount flow written as
// a plain single-goroutine Go program. It reads the file named by its only
// argument, lower-cases each line, splits it with strings.Fields, counts
// every word and prints "word<TAB>count" lines in no particular order.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: native FILE")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "native:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		for _, w := range strings.Fields(strings.ToLower(sc.Text())) {
			counts[w]++
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	out := bufio.NewWriterSize(os.Stdout, 64*1024)
	for w, n := range counts {
		out.WriteString(w)
		out.WriteByte('\t')
		out.WriteString(strconv.Itoa(n))
		out.WriteByte('\n')
	}
	return out.Flush()
}
