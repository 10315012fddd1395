package flowspec

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// Format writes a flow name and arguments as a spec that Parse reads back
// to the same name and arguments. Without arguments it is the bare name.
// Floats that are NaN or infinite have no literal; they are written as
// nan, inf and -inf, which Parse refuses.
func Format(name string, args []abi.Arg) string {
	if len(args) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(FormatArg(a))
	}
	b.WriteByte(')')
	return b.String()
}

// FormatArg writes one argument as a literal.
func FormatArg(a abi.Arg) string {
	switch a.Type {
	case abi.ArgString:
		return quote(a.S)
	case abi.ArgInt:
		return strconv.FormatInt(a.I, 10)
	case abi.ArgFloat:
		return formatFloat(a.F)
	case abi.ArgBool:
		return strconv.FormatBool(a.B)
	}
	return "?"
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// quote writes s in single quotes. Printable characters are kept, others
// are escaped; bytes that are not UTF-8 are kept as they are, since an
// escape would stand for a code point, not a byte.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteByte(s[i])
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			b.WriteString(escapeRune(r))
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}

var runeEscapes = map[rune]string{'\n': `\n`, '\r': `\r`, '\t': `\t`}

func escapeRune(r rune) string {
	if e, ok := runeEscapes[r]; ok {
		return e
	}
	h := strconv.FormatInt(int64(r), 16)
	switch {
	case r < 0x100:
		return `\x` + strings.Repeat("0", 2-len(h)) + h
	case r < 0x10000:
		return `\u` + strings.Repeat("0", 4-len(h)) + h
	}
	return `\U` + strings.Repeat("0", 8-len(h)) + h
}
