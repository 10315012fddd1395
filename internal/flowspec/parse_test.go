package flowspec

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func str(s string) abi.Arg        { return abi.Arg{Type: abi.ArgString, S: s} }
func num(i int64) abi.Arg         { return abi.Arg{Type: abi.ArgInt, I: i} }
func flt(f float64) abi.Arg       { return abi.Arg{Type: abi.ArgFloat, F: f} }
func boolean(b bool) abi.Arg      { return abi.Arg{Type: abi.ArgBool, B: b} }
func args(a ...abi.Arg) []abi.Arg { return a }

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		spec     string
		wantName string
		wantArgs []abi.Arg
	}{
		{"empty is the default flow", "", "flow", nil},
		{"blank is the default flow", "  \t", "flow", nil},
		{"bare name", "flow", "flow", nil},
		{"name with spaces around", "  wordcount ", "wordcount", nil},
		{"name with dots dashes digits", "my-flow.v2_x", "my-flow.v2_x", nil},
		{"unicode name", "flüsse", "flüsse", nil},
		{"empty call", "get_flow()", "get_flow", nil},
		{"empty call with space", "get_flow( )", "get_flow", nil},
		{"single quoted", "get_flow('in.txt')", "get_flow", args(str("in.txt"))},
		{"double quoted", `get_flow("in.txt")`, "get_flow", args(str("in.txt"))},
		{"other quote inside", `f("it's", 'say "hi"')`, "f", args(str("it's"), str(`say "hi"`))},
		{"empty string", "f('')", "f", args(str(""))},
		{"colon in string", "f('a:b')", "f", args(str("a:b"))},
		{"simple escapes", `f('\\ \' \" \a \b \f \n \r \t \v')`, "f", args(str("\\ ' \" \a \b \f \n \r \t \v"))},
		{"hex escape", `f('\x41\x7f')`, "f", args(str("A\x7f"))},
		{"hex escape is a code point", `f('\xe9')`, "f", args(str("é"))},
		{"unicode escapes", `f('\u00e9\U0001F600')`, "f", args(str("é😀"))},
		{"octal escapes", `f('\0\101\1012')`, "f", args(str("\x00AA2"))},
		{"line continuation", "f('a\\\nb')", "f", args(str("ab"))},
		{"raw utf-8 kept", "f('héllo ✓')", "f", args(str("héllo ✓"))},
		{"ints", "f(0, 3, -2, +7, 1_000)", "f", args(num(0), num(3), num(-2), num(7), num(1000))},
		{"zeros", "f(00, 0_0)", "f", args(num(0), num(0))},
		{"int prefixes", "f(0x1f, 0o17, 0b101, -0X10)", "f", args(num(31), num(15), num(5), num(-16))},
		{"int limits", "f(9223372036854775807, -9223372036854775808)", "f", args(num(math.MaxInt64), num(math.MinInt64))},
		{"floats", "f(-2.5, .5, 5., 1e3, 2.5E-2, 1_0.5)", "f", args(flt(-2.5), flt(0.5), flt(5), flt(1000), flt(0.025), flt(10.5))},
		{"bools", "f(True, False, true, false)", "f", args(boolean(true), boolean(false), boolean(true), boolean(false))},
		{"brief example", `get_flow('in.txt', 3, -2.5, True, "x")`, "get_flow",
			args(str("in.txt"), num(3), flt(-2.5), boolean(true), str("x"))},
		{"trailing comma", "f(1,)", "f", args(num(1))},
		{"trailing comma and spaces", "f( 1 , 'a' , )", "f", args(num(1), str("a"))},
		{"space before paren", "f ('a')", "f", args(str("a"))},
		{"newlines between args", "f(\n  1,\n  2\n)", "f", args(num(1), num(2))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, got, err := Parse(tt.spec)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.spec, err)
			}
			if name != tt.wantName || !reflect.DeepEqual(got, tt.wantArgs) {
				t.Fatalf("Parse(%q) = %q, %+v; want %q, %+v", tt.spec, name, got, tt.wantName, tt.wantArgs)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string
	}{
		{"unterminated string", "get_flow('a", "flow spec get_flow('a: unterminated string at column 10"},
		{"newline in string", "f('a\nb')", "flow spec f('a\nb'): unterminated string at column 3"},
		{"unclosed paren", "f(1, 2", "flow spec f(1, 2: unclosed '(' at column 2"},
		{"unclosed after comma", "f(1,", "flow spec f(1,: unclosed '(' at column 2"},
		{"no name", "(1)", `flow spec (1): expected a flow name, found '(' at column 1`},
		{"name starts with digit", "1flow", `flow spec 1flow: expected a flow name, found '1' at column 1`},
		{"junk after name", "flow x", `flow spec flow x: unexpected 'x' after the flow name at column 6`},
		{"junk after call", "f(1) x", `flow spec f(1) x: unexpected 'x' after ')' at column 6`},
		{"missing comma", "f(1 2)", `flow spec f(1 2): expected ',' or ')', found '2' at column 5`},
		{"double comma", "f(1,,2)", `flow spec f(1,,2): expected an argument, found ',' at column 5`},
		{"leading comma", "f(,)", `flow spec f(,): expected an argument, found ',' at column 3`},
		{"unquoted string", "f(in.txt)", "flow spec f(in.txt): unknown name in.txt: strings need quotes, bools are true or false at column 3"},
		{"keyword argument", "f(path='a')", "flow spec f(path='a'): keyword argument path is not supported: pass arguments by position at column 3"},
		{"None", "f(None)", "flow spec f(None): unknown name None: strings need quotes, bools are true or false at column 3"},
		{"int overflow", "f(9223372036854775808)", "flow spec f(9223372036854775808): int 9223372036854775808 out of range at column 3"},
		{"float overflow", "f(1e999)", "flow spec f(1e999): float 1e999 out of range at column 3"},
		{"leading zero", "f(017)", "flow spec f(017): invalid number 017: leading zeros are not allowed (write 0o17 for octal) at column 3"},
		{"bad underscore", "f(1__0)", "flow spec f(1__0): invalid number 1__0 at column 3"},
		{"two signs", "f(--1)", "flow spec f(--1): invalid number --1 at column 3"},
		{"lone sign", "f(-)", "flow spec f(-): invalid number - at column 3"},
		{"lone dot", "f(.)", "flow spec f(.): invalid number . at column 3"},
		{"hex float", "f(0x1p3)", "flow spec f(0x1p3): invalid number 0x1p3 at column 3"},
		{"unknown escape", `f('\q')`, `flow spec f('\q'): unknown escape \q at column 4`},
		{"truncated hex escape", `f('\x4')`, `flow spec f('\x4'): bad escape \x4' at column 4`},
		{"short hex escape at end", `f('\u12`, `flow spec f('\u12: truncated escape \u12 at column 4`},
		{"surrogate escape", `f('\ud800')`, `flow spec f('\ud800'): escape \ud800 is not a valid code point at column 4`},
		{"escape past max rune", `f('\U00110000')`, `flow spec f('\U00110000'): escape \U00110000 is not a valid code point at column 4`},
		{"column counts characters", "f('é', x)", "flow spec f('é', x): unknown name x: strings need quotes, bools are true or false at column 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse(tt.spec)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error %q", tt.spec, tt.want)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v does not wrap ErrSyntax", err)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got: %s\nwant: %s", tt.spec, err, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		flow string
		args []abi.Arg
		want string
	}{
		{"bare name", "flow", nil, "flow"},
		{"all types", "f", args(str("a"), num(-3), flt(2.5), boolean(true)), "f('a', -3, 2.5, true)"},
		{"whole float keeps a point", "f", args(flt(3)), "f(3.0)"},
		{"big float", "f", args(flt(1e21)), "f(1e+21)"},
		{"negative zero", "f", args(flt(math.Copysign(0, -1))), "f(-0.0)"},
		{"escapes", "f", args(str("it's\\\n\t\x00é\u2028")), `f('it\'s\\\n\t\x00é\u2028')`},
		{"non-printable astral", "f", args(str("\U000E0001")), `f('\U000e0001')`},
		{"invalid utf-8 kept", "f", args(str("a\xffb")), "f('a\xffb')"},
		{"not a literal", "f", args(flt(math.Inf(-1)), flt(math.NaN())), "f(-inf, nan)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.flow, tt.args); got != tt.want {
				t.Fatalf("Format = %s, want %s", got, tt.want)
			}
		})
	}
}
