package main

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strings"
)

// corpusStats describes a generated corpus.
type corpusStats struct {
	Lines int
	Words int
	Bytes int64
}

// Shape of the corpus: a vocabulary of vocabSize made-up words drawn with
// a Zipf distribution of exponent zipfS, minWords to maxWords words a line
// (8 on average), and one word in capitalEvery capitalized so that
// lower-casing matters.
const (
	vocabSize    = 50_000
	zipfS        = 1.1
	minWords     = 4
	maxWords     = 12
	capitalEvery = 10
)

// writeCorpus writes lines lines of words to path. The same seed always
// gives the same file.
func writeCorpus(path string, lines int, seed uint64) (corpusStats, error) {
	f, err := os.Create(path)
	if err != nil {
		return corpusStats{}, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	st := generate(w, lines, seed)
	if err := w.Flush(); err != nil {
		return st, err
	}
	return st, f.Close()
}

// generate writes the corpus into w; bufio.Writer reports write errors at
// Flush.
func generate(w *bufio.Writer, lines int, seed uint64) corpusStats {
	vocab := vocabulary(vocabSize)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	zipf := rand.NewZipf(rng, zipfS, 1, vocabSize-1)
	st := corpusStats{Lines: lines}
	for range lines {
		n := minWords + rng.IntN(maxWords-minWords+1)
		for j := range n {
			if j > 0 {
				w.WriteByte(' ')
			}
			word := vocab[zipf.Uint64()]
			if rng.IntN(capitalEvery) == 0 {
				word = strings.ToUpper(word[:1]) + word[1:]
			}
			w.WriteString(word)
			st.Bytes += int64(len(word)) + 1
		}
		w.WriteByte('\n')
		st.Words += n
	}
	return st
}

// syllables spell the vocabulary's words.
var syllables = strings.Fields("ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu " +
	"ma me mi mo mu na ne ni no nu ra re ri ro ru sa se si so su ta te ti to tu")

// vocabulary returns n distinct lower-case words: word i spells i in base
// len(syllables), one syllable a digit, so frequent (small) ranks are
// short words as in natural text.
func vocabulary(n int) []string {
	words := make([]string, n)
	base := len(syllables)
	for i := range words {
		var b strings.Builder
		for v := i + 1; v > 0; v = (v - 1) / base {
			b.WriteString(syllables[(v-1)%base])
		}
		words[i] = b.String()
	}
	return words
}
