package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpus checks that the corpus is deterministic, that its stats
// describe the file, and that its words are skewed the way natural text is.
func TestCorpus(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	st, err := writeCorpus(a, 20_000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeCorpus(b, 20_000, 7); err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Fatal("the same seed gave two different corpora")
	}
	lines := strings.Split(strings.TrimSuffix(string(da), "\n"), "\n")
	words := strings.Fields(string(da))
	if st.Lines != len(lines) || st.Words != len(words) || st.Bytes != int64(len(da)) {
		t.Errorf("stats %+v, file has %d lines, %d words, %d bytes", st, len(lines), len(words), len(da))
	}
	if avg := float64(st.Words) / float64(st.Lines); avg < 7.5 || avg > 8.5 {
		t.Errorf("%.2f words a line, want about 8", avg)
	}
	counts := map[string]int{}
	for _, w := range words {
		counts[strings.ToLower(w)]++
	}
	top := vocabulary(1)[0]
	if share := float64(counts[top]) / float64(len(words)); share < 0.05 {
		t.Errorf("the most frequent word %q is %.3f of the text, want a Zipf-like head above 0.05", top, share)
	}
	if len(counts) < 2000 {
		t.Errorf("only %d distinct words, want a long tail", len(counts))
	}
}

// TestVocabulary checks that the made-up words are distinct and
// lower-case.
func TestVocabulary(t *testing.T) {
	words := vocabulary(vocabSize)
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] || w == "" || w != strings.ToLower(w) {
			t.Fatalf("bad or repeated word %q", w)
		}
		seen[w] = true
	}
}

// TestFirstDiff checks the comparison behind the output verification.
func TestFirstDiff(t *testing.T) {
	l := func(s ...string) [][]byte {
		var out [][]byte
		for _, x := range s {
			out = append(out, []byte(x))
		}
		return out
	}
	cases := []struct {
		name string
		a, b [][]byte
		want int
	}{
		{"equal", l("a\t1", "b\t2"), l("a\t1", "b\t2"), -1},
		{"both empty", nil, nil, -1},
		{"count differs", l("a\t1", "b\t3"), l("a\t1", "b\t2"), 1},
		{"shorter", l("a\t1"), l("a\t1", "b\t2"), 1},
		{"longer", l("a\t1", "b\t2"), l("a\t1"), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := firstDiff(tc.a, tc.b); got != tc.want {
				t.Errorf("firstDiff = %d, want %d", got, tc.want)
			}
		})
	}
}
