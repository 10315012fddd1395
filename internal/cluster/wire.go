package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mesh message kinds; each is a subject token.
//
//	subject:  bxwasm.<run>.mesh.<kind>.<process>
//	hello:    [flags u8][instance u64 LE][hello bytes...]
//	          flags bit 0: the sender still needs hellos, bit 1: this is an answer
//	beat:     empty
//	abort:    the error text
//	done:     empty
const (
	kindHello = "hello"
	kindBeat  = "beat"
	kindAbort = "abort"
	kindDone  = "done"
)

// helloHeader is the size of a hello's flags and instance id.
const helloHeader = 9

// Hello flags. A process still waiting for others' hellos announces with
// flagNeed; everyone who hears such an announcement answers with their own
// hello marked flagAnswer, and answers are never answered.
const (
	flagNeed   = 1
	flagAnswer = 2
)

var errBadHello = errors.New("cluster: short hello message")

// hello is one process's announcement.
type hello struct {
	need     bool
	answer   bool
	instance uint64 // random per Mesh, to notice two processes with one id
	body     []byte
}

// encode lays h out as described above.
func (h hello) encode() []byte {
	b := make([]byte, helloHeader, helloHeader+len(h.body))
	if h.need {
		b[0] |= flagNeed
	}
	if h.answer {
		b[0] |= flagAnswer
	}
	binary.LittleEndian.PutUint64(b[1:], h.instance)
	return append(b, h.body...)
}

// decodeHello parses a hello; body is a copy.
func decodeHello(b []byte) (hello, error) {
	if len(b) < helloHeader {
		return hello{}, errBadHello
	}
	return hello{
		need:     b[0]&flagNeed != 0,
		answer:   b[0]&flagAnswer != 0,
		instance: binary.LittleEndian.Uint64(b[1:]),
		body:     append([]byte{}, b[helloHeader:]...),
	}, nil
}

// meshPrefix is the subject prefix of a run's mesh, ending with a dot.
func meshPrefix(run string) string { return "bxwasm." + run + ".mesh." }

// subject is where process sends messages of kind.
func subject(prefix, kind string, process int) string {
	return prefix + kind + "." + strconv.Itoa(process)
}

// parseSubject splits a mesh subject into kind and process.
func parseSubject(prefix, subj string) (string, int, bool) {
	rest, ok := strings.CutPrefix(subj, prefix)
	if !ok {
		return "", 0, false
	}
	kind, num, ok := strings.Cut(rest, ".")
	if !ok {
		return "", 0, false
	}
	p, err := strconv.Atoi(num)
	return kind, p, err == nil
}

// validRun checks that run is usable inside a subject: non-empty tokens
// without wildcards or whitespace.
func validRun(run string) error {
	if run == "" {
		return fmt.Errorf("%w: empty run id", ErrConfig)
	}
	for _, tok := range strings.Split(run, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return fmt.Errorf("%w: run id %q is not a valid NATS subject token", ErrConfig, run)
		}
	}
	return nil
}
