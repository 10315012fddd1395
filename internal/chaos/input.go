//go:build linux

package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
)

// maxWordsPerLine bounds the words of an input line (at least one).
const maxWordsPerLine = 8

// writeInput writes lines lines to path, each of 1 to maxWordsPerLine words
// drawn from a vocabulary of vocab words with a Zipf distribution (a few
// words are very frequent, most are rare). The file depends only on the
// arguments.
func writeInput(path string, lines, vocab int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chaos: input: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	words := vocabulary(vocab, rng)
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(vocab-1))
	w := bufio.NewWriterSize(f, 64<<10)
	for range lines {
		n := 1 + rng.IntN(maxWordsPerLine)
		for i := range n {
			if i > 0 {
				w.WriteByte(' ')
			}
			w.WriteString(words[zipf.Uint64()])
		}
		w.WriteByte('\n')
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("chaos: input: %w", err)
	}
	return nil
}

// vocabulary returns n distinct lower-case words of 2 to 9 letters.
func vocabulary(n int, rng *rand.Rand) []string {
	seen := make(map[string]bool, n)
	words := make([]string, 0, n)
	var b strings.Builder
	for len(words) < n {
		b.Reset()
		for range 2 + rng.IntN(8) {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}

// expectedLines computes, without bxwasm, the lines the flow writes for
// the input file at path: "word k" for k from 1 to the word's number of
// occurrences, sorted.
func expectedLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("chaos: input: %w", err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		for _, w := range strings.Fields(sc.Text()) {
			counts[w]++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("chaos: input: %w", err)
	}
	var lines []string
	for w, n := range counts {
		for k := 1; k <= n; k++ {
			lines = append(lines, w+" "+strconv.Itoa(k))
		}
	}
	slices.Sort(lines)
	return lines, nil
}
