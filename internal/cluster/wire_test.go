package cluster

import (
	"bytes"
	"testing"
)

func TestHelloRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    hello
	}{
		{"needs, empty body", hello{need: true, instance: 7}},
		{"answer with body", hello{answer: true, instance: 1 << 63, body: []byte("parts:a,b")}},
		{"both flags", hello{need: true, answer: true, instance: 3, body: []byte{0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeHello(tc.h.encode())
			if err != nil {
				t.Fatal(err)
			}
			if got.need != tc.h.need || got.answer != tc.h.answer || got.instance != tc.h.instance ||
				!bytes.Equal(got.body, tc.h.body) {
				t.Fatalf("decoded %+v, want %+v", got, tc.h)
			}
		})
	}
	if _, err := decodeHello(make([]byte, helloHeader-1)); err == nil {
		t.Fatal("a short hello decoded without error")
	}
}

func TestParseSubject(t *testing.T) {
	prefix := meshPrefix("team.run-1")
	for _, tc := range []struct {
		subject string
		kind    string
		process int
		ok      bool
	}{
		{"bxwasm.team.run-1.mesh.hello.2", kindHello, 2, true},
		{subject(prefix, kindAbort, 11), kindAbort, 11, true},
		{"bxwasm.other.mesh.hello.2", "", 0, false},
		{"bxwasm.team.run-1.mesh.hello", "", 0, false},
		{"bxwasm.team.run-1.mesh.hello.x", "", 0, false},
	} {
		t.Run(tc.subject, func(t *testing.T) {
			kind, p, ok := parseSubject(prefix, tc.subject)
			if ok != tc.ok || (ok && (kind != tc.kind || p != tc.process)) {
				t.Fatalf("parseSubject = %q, %d, %v; want %q, %d, %v", kind, p, ok, tc.kind, tc.process, tc.ok)
			}
		})
	}
}
