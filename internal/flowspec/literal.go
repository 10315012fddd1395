package flowspec

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// simpleEscapes maps the character after a backslash to what it stands for.
var simpleEscapes = map[byte]byte{
	'\\': '\\', '\'': '\'', '"': '"', 'a': '\a', 'b': '\b',
	'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
}

// str reads a quoted string with Python's escapes. Bytes other than the
// quote, a backslash or a newline are copied as they are.
func (p *parser) str() (string, error) {
	start := p.off
	quote := p.peek()
	p.off++
	var b strings.Builder
	for {
		if p.eof() || p.peek() == '\n' {
			return "", p.errorf(start, "unterminated string")
		}
		c := p.peek()
		switch c {
		case quote:
			p.off++
			return b.String(), nil
		case '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			p.off++
		}
	}
}

// escape reads one backslash escape and writes what it stands for.
func (p *parser) escape(b *strings.Builder) error {
	at := p.off
	p.off++ // '\\'
	if p.eof() {
		return nil // str reports the unterminated string
	}
	c := p.peek()
	p.off++
	if v, ok := simpleEscapes[c]; ok {
		b.WriteByte(v)
		return nil
	}
	switch c {
	case '\n':
		return nil // line continuation
	case 'x':
		return p.hexEscape(b, at, 2)
	case 'u':
		return p.hexEscape(b, at, 4)
	case 'U':
		return p.hexEscape(b, at, 8)
	}
	if '0' <= c && c <= '7' {
		p.octalEscape(b, c)
		return nil
	}
	p.off = at
	return p.errorf(at, "unknown escape \\%c", c)
}

// hexEscape reads the n hex digits of \x, \u or \U and writes the code point.
func (p *parser) hexEscape(b *strings.Builder, at, n int) error {
	if len(p.spec)-p.off < n {
		return p.errorf(at, "truncated escape %s", p.spec[at:])
	}
	digits := p.spec[p.off : p.off+n]
	v, err := strconv.ParseUint(digits, 16, 32)
	if err != nil || strings.ContainsAny(digits, "+-_") {
		return p.errorf(at, "bad escape %s", p.spec[at:p.off+n])
	}
	r := rune(v)
	if !utf8.ValidRune(r) {
		return p.errorf(at, "escape %s is not a valid code point", p.spec[at:p.off+n])
	}
	p.off += n
	b.WriteRune(r)
	return nil
}

// octalEscape reads up to two more octal digits after first.
func (p *parser) octalEscape(b *strings.Builder, first byte) {
	v := rune(first - '0')
	for i := 0; i < 2 && !p.eof() && '0' <= p.peek() && p.peek() <= '7'; i++ {
		v = v*8 + rune(p.peek()-'0')
		p.off++
	}
	b.WriteRune(v)
}

// number reads an int or a float. A number with a '.' or an exponent is a
// float; ints may have a 0x, 0o or 0b prefix, and both may separate digits
// with '_' as Python does.
func (p *parser) number() (abi.Arg, error) {
	start := p.off
	tok := p.numberToken()
	body := strings.TrimLeft(tok, "+-")
	if len(tok)-len(body) > 1 || body == "" {
		return abi.Arg{}, p.errorf(start, "invalid number %s", tok)
	}
	if isFloat(body) {
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return abi.Arg{}, p.numberError(start, tok, "float", err)
		}
		return abi.Arg{Type: abi.ArgFloat, F: f}, nil
	}
	if len(body) > 1 && body[0] == '0' && strings.Trim(body, "0_") != "" && !strings.ContainsAny(body[1:2], "xXoObB") {
		return abi.Arg{}, p.errorf(start, "invalid number %s: leading zeros are not allowed (write 0o%s for octal)", tok, strings.TrimLeft(body, "0_"))
	}
	i, err := strconv.ParseInt(tok, 0, 64)
	if err != nil {
		return abi.Arg{}, p.numberError(start, tok, "int", err)
	}
	return abi.Arg{Type: abi.ArgInt, I: i}, nil
}

// numberToken reads leading signs, then digits, letters, '_' and '.', and a sign that
// follows an exponent's 'e'.
func (p *parser) numberToken() string {
	start := p.off
	for !p.eof() && (p.peek() == '+' || p.peek() == '-') {
		p.off++
	}
	for !p.eof() {
		c := p.peek()
		ok := c == '_' || c == '.' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if (c == '+' || c == '-') && p.off > start && isExp(p.spec[p.off-1]) {
			ok = true
		}
		if !ok {
			break
		}
		p.off++
	}
	return p.spec[start:p.off]
}

func isExp(c byte) bool { return c == 'e' || c == 'E' }

// isFloat reports whether a number without its sign is a float literal.
func isFloat(body string) bool {
	if len(body) > 1 && body[0] == '0' && strings.ContainsAny(body[1:2], "xXoObB") {
		return false
	}
	return strings.ContainsAny(body, ".eE")
}

func (p *parser) numberError(start int, tok, kind string, err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return p.errorf(start, "%s %s out of range", kind, tok)
	}
	return p.errorf(start, "invalid number %s", tok)
}
