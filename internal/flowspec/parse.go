package flowspec

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// DefaultFlow is the flow a run target names when its spec is empty, as in
// Bytewax, where `module` means `module:flow`.
const DefaultFlow = "flow"

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("flowspec: syntax error")

// SyntaxError says what is wrong with a spec and where.
type SyntaxError struct {
	Spec   string // the spec as given
	Column int    // 1-based, in characters
	Msg    string // what is wrong
}

// Error reads like "flow spec get_flow('a: unterminated string at column 10".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("flow spec %s: %s at column %d", e.Spec, e.Msg, e.Column)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Parse reads a flow spec: a flow name, or a call of a flow factory with
// literal arguments (see the package documentation). An empty spec names
// DefaultFlow. A name without parentheses and a call without arguments
// both return nil args.
func Parse(spec string) (name string, args []abi.Arg, err error) {
	p := &parser{spec: spec}
	p.skipSpace()
	if p.eof() {
		return DefaultFlow, nil, nil
	}
	if name, err = p.name(); err != nil {
		return "", nil, err
	}
	p.skipSpace()
	if p.eof() {
		return name, nil, nil
	}
	if p.peek() != '(' {
		return "", nil, p.errorf(p.off, "unexpected %s after the flow name", p.quoteNext())
	}
	if args, err = p.args(); err != nil {
		return "", nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return "", nil, p.errorf(p.off, "unexpected %s after ')'", p.quoteNext())
	}
	return name, args, nil
}

// parser walks a spec byte by byte; offsets are byte offsets into spec.
type parser struct {
	spec string
	off  int
}

func (p *parser) eof() bool  { return p.off >= len(p.spec) }
func (p *parser) peek() byte { return p.spec[p.off] }

// errorf builds a SyntaxError located at byte offset off.
func (p *parser) errorf(off int, format string, a ...any) error {
	col := utf8.RuneCountInString(p.spec[:off]) + 1
	return &SyntaxError{Spec: p.spec, Column: col, Msg: fmt.Sprintf(format, a...)}
}

// quoteNext describes the character at the current offset for messages.
func (p *parser) quoteNext() string {
	r, _ := utf8.DecodeRuneInString(p.spec[p.off:])
	return fmt.Sprintf("%q", r)
}

func (p *parser) skipSpace() {
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.spec[p.off:])
		if !unicode.IsSpace(r) {
			return
		}
		p.off += n
	}
}

// word reads a run of name characters: letters, digits, '_', '.', '-'.
func (p *parser) word() string {
	start := p.off
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.spec[p.off:])
		if !isNameRune(r) {
			break
		}
		p.off += n
	}
	return p.spec[start:p.off]
}

func isNameStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isNameRune(r rune) bool {
	return isNameStart(r) || unicode.IsDigit(r) || r == '.' || r == '-'
}

// name reads the flow name, which starts with a letter or '_'.
func (p *parser) name() (string, error) {
	r, _ := utf8.DecodeRuneInString(p.spec[p.off:])
	if !isNameStart(r) {
		return "", p.errorf(p.off, "expected a flow name, found %s", p.quoteNext())
	}
	return p.word(), nil
}

// args reads "(" [arg {"," arg} [","]] ")".
func (p *parser) args() ([]abi.Arg, error) {
	open := p.off
	p.off++ // '('
	var args []abi.Arg
	for {
		p.skipSpace()
		if p.eof() {
			return nil, p.errorf(open, "unclosed '('")
		}
		if p.peek() == ')' {
			p.off++
			return args, nil
		}
		a, err := p.value()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if err := p.separator(open); err != nil {
			return nil, err
		}
	}
}

// separator reads the ',' after an argument, or leaves the ')' that ends
// the list for args to consume.
func (p *parser) separator(open int) error {
	p.skipSpace()
	switch {
	case p.eof():
		return p.errorf(open, "unclosed '('")
	case p.peek() == ',':
		p.off++
		return nil
	case p.peek() == ')':
		return nil
	}
	return p.errorf(p.off, "expected ',' or ')', found %s", p.quoteNext())
}

// value reads one literal argument.
func (p *parser) value() (abi.Arg, error) {
	c := p.peek()
	switch {
	case c == '\'' || c == '"':
		s, err := p.str()
		return abi.Arg{Type: abi.ArgString, S: s}, err
	case c == '+' || c == '-' || c == '.' || ('0' <= c && c <= '9'):
		return p.number()
	}
	r, _ := utf8.DecodeRuneInString(p.spec[p.off:])
	if isNameStart(r) {
		return p.keyword()
	}
	return abi.Arg{}, p.errorf(p.off, "expected an argument, found %s", p.quoteNext())
}

// keyword reads true, false, True or False, and explains the usual
// mistakes: a keyword argument, or a string without quotes.
func (p *parser) keyword() (abi.Arg, error) {
	start := p.off
	w := p.word()
	switch w {
	case "true", "True":
		return abi.Arg{Type: abi.ArgBool, B: true}, nil
	case "false", "False":
		return abi.Arg{Type: abi.ArgBool}, nil
	}
	p.skipSpace()
	if !p.eof() && p.peek() == '=' {
		return abi.Arg{}, p.errorf(start, "keyword argument %s is not supported: pass arguments by position", w)
	}
	return abi.Arg{}, p.errorf(start, "unknown name %s: strings need quotes, bools are true or false", w)
}
