// Package jsonscan is the module's JSON reader, with one grammar: Stream, a
// state machine that checks JSON text (RFC 8259) as it arrives in pieces,
// keeping a few words of state and never the text, and tells its caller
// where the values it asked about begin and end. Everything else is built
// on it: Object and CheckObject feed it a whole text to check that it is
// one object nested at most a given depth (and where its members are), and
// Value's readers feed it the part of a checked text they read (data,
// errors, claims) and slice what it reports out of that text, in place.
//
// Why not a general JSON library. encoding/json decodes by reflection and
// is the largest package a Go program can link for this; gjson, which the
// module used before, links encoding/json anyway (through the pretty-print
// modifier it registers at init): the two cost 148 KB of the module's
// brotli size. And both recurse once per level of nesting: in WebAssembly
// the engine's call stack is small (a 10 KB body of nested arrays
// overflows it, and a stack overflow there is a JavaScript RangeError that
// unwinds through the Go runtime instead of returning an error). Stream
// does not recurse, and skips string contents eight bytes at a time, which
// is most of a large body.
//
// Like encoding/json.Valid it does not check that strings hold valid UTF-8.
// It is pure Go: it must not import syscall/js, net/http or encoding/json
// (but in tests).
package jsonscan

import (
	"bytes"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting a scan can follow.
const MaxDepth = 512

// Errors of Object, CheckObject and Stream. Details (what, and where) are
// wrapped behind them.
var (
	ErrSyntax    = errors.New("not valid JSON")
	ErrTooDeep   = errors.New("nested too deeply")
	ErrNotObject = errors.New("not a JSON object")
)

// Member is one member of an object: its name, unescaped, and the raw text
// of its value, a slice of the scanned text.
type Member struct {
	Name  string // unescaped
	Value []byte // raw, a slice of the text
}

// Object checks that b is exactly one JSON value, surrounded by nothing but
// white space, that arrays and objects nest in it at most maxDepth levels
// (MaxDepth at most), and that it is an object; and returns the object's
// members in the order they appear (a repeated name appears twice:
// JSON.parse keeps the last). Otherwise it returns an error wrapping
// ErrSyntax, ErrTooDeep or ErrNotObject.
func Object(b []byte, maxDepth int) ([]Member, error) {
	s := Stream{MaxDepth: maxDepth, VisitDepth: 1}
	var members []Member
	var name string
	start := 0
	for s.scan(b, true) {
		v := &s.visit
		if v.Depth == 0 || !v.InObject {
			continue // the top-level value, or an element of a top-level array
		}
		if !v.End {
			name, start = unquote(b[s.nameStart:s.nameStop]), v.Start
		}
		if v.End || v.Kind > KindArray {
			members = append(members, Member{Name: name, Value: b[start:v.Stop]})
		}
	}
	if err := s.verdict(); err != nil {
		return nil, err
	}
	return members, nil
}

// CheckObject is Object without the members. It makes no allocation when b
// is valid, so a secret in b (a password in a login's variables) is never
// copied.
func CheckObject(b []byte, maxDepth int) error {
	s := Stream{MaxDepth: maxDepth, VisitDepth: -1}
	for s.scan(b, true) {
	}
	return s.verdict()
}

// unquote returns the text of a valid JSON string literal, quotes
// included, with its escapes resolved; invalid UTF-8 and lone surrogates
// become U+FFFD, as in encoding/json.
func unquote(q []byte) string {
	return decode(q[1 : len(q)-1])
}

// decode is unquote for the text between the quotes.
func decode(q []byte) string {
	if utf8.Valid(q) && bytes.IndexByte(q, '\\') < 0 {
		return string(q)
	}
	out := make([]byte, 0, len(q))
	for i := 0; i < len(q); {
		r, size := nextRune(q, i)
		out = utf8.AppendRune(out, r)
		i += size
	}
	return string(out)
}

// decodedIs reports whether the text between the quotes of a valid JSON
// string literal, q, means s once its escapes are resolved (as decode
// reads it), without making a copy.
func decodedIs(q []byte, s string) bool {
	for i := 0; i < len(q); {
		if c := q[i]; c < utf8.RuneSelf && c != '\\' {
			if len(s) == 0 || s[0] != c {
				return false
			}
			i, s = i+1, s[1:]
			continue
		}
		r, size := nextRune(q, i)
		want, n := utf8.DecodeRuneInString(s)
		if n == 0 || r != want || want == utf8.RuneError && n == 1 { // a bad byte of s matches nothing
			return false
		}
		i, s = i+size, s[n:]
	}
	return len(s) == 0
}

// nextRune decodes the character at q[i] of a valid string's text, escape
// or not, and says how many bytes it takes.
func nextRune(q []byte, i int) (rune, int) {
	if q[i] != '\\' {
		return utf8.DecodeRune(q[i:]) // RuneError for a bad byte
	}
	switch c := q[i+1]; c {
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r := hexRune(q[i+2 : i+6])
		if !utf16.IsSurrogate(r) {
			return r, 6
		}
		if i+12 <= len(q) && q[i+6] == '\\' && q[i+7] == 'u' {
			if pair := utf16.DecodeRune(r, hexRune(q[i+8:i+12])); pair != utf8.RuneError {
				return pair, 12
			}
		}
		return utf8.RuneError, 6 // a lone surrogate
	default: // '"', '\\', '/'
		return rune(c), 2
	}
}

func hexRune(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c <= '9':
			r = r<<4 | rune(c-'0')
		case c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			r = r<<4 | rune(c-'a'+10)
		}
	}
	return r
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
