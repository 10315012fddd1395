package flowspec

import (
	"math"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// FuzzParse checks that Parse never panics, and that whatever it accepts
// Format writes back as a spec Parse reads to the same flow and arguments.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "flow", "get_flow('in.txt', 3, -2.5, True, \"x\")", `f('\x41\u00e9\U0001F600\101\n')`,
		"f(0x1f, 0o17, 0b1, 1_000, .5, 1e3,)", "f(", "f('a", `f("\`, "f(1e999)", "f(True, false)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		name, args, err := Parse(spec)
		if err != nil {
			return
		}
		again := Format(name, args)
		name2, args2, err := Parse(again)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but Parse(Format) = Parse(%q) fails: %v", spec, again, err)
		}
		if name2 != name || !sameArgs(args, args2) {
			t.Fatalf("round trip of %q via %q: %q %+v != %q %+v", spec, again, name, args, name2, args2)
		}
	})
}

// FuzzFormat checks that Parse reads every formatted argument back.
func FuzzFormat(f *testing.F) {
	f.Add("in.txt", int64(3), -2.5, true)
	f.Add("it's \\ \"q\"\n\x00\xff", int64(math.MinInt64), 1e300, false)
	f.Fuzz(func(t *testing.T, s string, i int64, x float64, b bool) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		want := []abi.Arg{str(s), num(i), flt(x), boolean(b)}
		spec := Format("get_flow", want)
		name, got, err := Parse(spec)
		if err != nil {
			t.Fatalf("Parse(Format) = Parse(%q): %v", spec, err)
		}
		if name != "get_flow" || !sameArgs(got, want) {
			t.Fatalf("Parse(%q) = %q %+v, want %+v", spec, name, got, want)
		}
	})
}

func sameArgs(a, b []abi.Arg) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Type != y.Type || x.S != y.S || x.I != y.I || x.B != y.B ||
			math.Float64bits(x.F) != math.Float64bits(y.F) {
			return false
		}
	}
	return true
}
