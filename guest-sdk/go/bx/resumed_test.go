package bx

import (
	"fmt"
	"strings"
	"testing"
)

func TestResumedKeys(t *testing.T) {
	cases := []struct {
		name string
		adds []string // "key=state"
		drop []string
		find map[string]string // key -> state, "" for not found
		rest string            // what each returns afterwards, "key=state;..."
	}{
		{"in order", []string{"a=1", "b=2", "c=3"}, nil, map[string]string{"b": "2", "x": ""}, "a=1;c=3"},
		{"out of order", []string{"c=3", "a=1", "b=2"}, nil, map[string]string{"a": "1"}, "b=2;c=3"},
		{"later state wins", []string{"a=1", "b=2", "a=9"}, nil, map[string]string{"a": "9"}, "b=2"},
		{"later state wins at the end", []string{"b=1", "a=2", "b=7"}, nil, nil, "a=2;b=7"},
		{"dropped", []string{"a=1", "b=2"}, []string{"a", "z"}, map[string]string{"a": ""}, "b=2"},
		{"taken once", []string{"a=1"}, nil, map[string]string{"a": "1"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r resumedKeys
			for i, a := range c.adds {
				k, v, _ := strings.Cut(a, "=")
				r.add(k, []byte(v), uint64(i+1))
			}
			for _, k := range c.drop {
				r.drop(k)
			}
			for k, want := range c.find {
				got := ""
				if e := r.find(k); e != nil {
					got = string(r.take(e))
				}
				if got != want {
					t.Errorf("find(%q) = %q, want %q", k, got, want)
				}
			}
			var rest []string
			r.each(func(k string, state []byte, _ uint64) error {
				rest = append(rest, fmt.Sprintf("%s=%s", k, state))
				return nil
			})
			if got := strings.Join(rest, ";"); got != c.rest {
				t.Errorf("each: %q, want %q", got, c.rest)
			}
			if r.unused != 0 || r.find("a") != nil {
				t.Errorf("%d keys left after each", r.unused)
			}
		})
	}
}
