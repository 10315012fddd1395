package cluster

import (
	"testing"
	"time"
)

func TestLiveness(t *testing.T) {
	t0 := time.Unix(1000, 0)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type event struct {
		at       float64
		heard    int // -1: none
		finished int // -1: none
	}
	for _, tc := range []struct {
		name     string
		events   []event
		at       float64
		wantLost int // -1: nobody
	}{
		{"silent for exactly lostAfter is not lost yet", nil, 3, -1},
		{"silent peer is lost after lostAfter", nil, 3.000000001, 1},
		{"self is never lost", []event{{3, 1, -1}, {3, 2, -1}}, 5, -1},
		{"heard recently", []event{{2, 1, -1}, {2, 2, -1}}, 4.9, -1},
		{"lowest silent peer first", []event{{2, 1, -1}}, 3.5, 2},
		{"done peer is not lost", []event{{0, -1, 1}, {0, -1, 2}}, 100, -1},
		{"done one, silent other", []event{{0, -1, 1}}, 4, 2},
		{"old message does not move last back", []event{{2.5, 1, -1}, {0.5, 1, -1}, {2.5, 2, -1}}, 5, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLiveness(0, 3, 3*time.Second, t0)
			for _, e := range tc.events {
				if e.heard >= 0 {
					l.heard(e.heard, sec(e.at))
				}
				if e.finished >= 0 {
					l.finished(e.finished)
				}
			}
			p, lost := l.lost(sec(tc.at))
			if tc.wantLost < 0 && lost {
				t.Fatalf("lost(%v) = process %d, want none", tc.at, p)
			}
			if tc.wantLost >= 0 && (!lost || p != tc.wantLost) {
				t.Fatalf("lost(%v) = %d, %v; want %d", tc.at, p, lost, tc.wantLost)
			}
		})
	}
}
