// Package jsonscan is the module's JSON reader. It checks JSON text from
// the network in one pass that does not recurse: that it is one valid JSON
// object (RFC 8259), that it nests at most a given depth, and where the
// members of that object are (Object, CheckObject); or the same for a text
// that arrives in pieces (Stream). Then Value reads the parts the client
// needs (data, errors, claims) in place.
//
// Why not a general JSON library. encoding/json decodes by reflection and
// is the largest package a Go program can link for this; gjson, which the
// module used before, links encoding/json anyway (through the pretty-print
// modifier it registers at init): the two cost 148 KB of the module's
// brotli size. And both recurse once per level of nesting: in WebAssembly
// the engine's call stack is small (a 10 KB body of nested arrays
// overflows it, and a stack overflow there is a JavaScript RangeError that
// unwinds through the Go runtime instead of returning an error). The check
// here skips string contents eight bytes at a time, which is most of a
// large body.
//
// Like encoding/json.Valid it does not check that strings hold valid UTF-8.
// It is pure Go: it must not import syscall/js or net/http.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting a scan can follow.
const MaxDepth = 512

// Errors of Object. Details (what, and where) are wrapped behind them.
var (
	ErrSyntax    = errors.New("not valid JSON")
	ErrTooDeep   = errors.New("nested too deeply")
	ErrNotObject = errors.New("not a JSON object")
)

// Member is one member of an object: its name, unescaped, and the raw text
// of its value, a slice of the scanned text.
type Member struct {
	Name  string
	Value []byte
}

// Object checks that b is exactly one JSON value, surrounded by nothing but
// white space, that arrays and objects nest in it at most maxDepth levels
// (MaxDepth at most), and that it is an object; and returns the object's members in the order
// they appear (a repeated name appears twice: JSON.parse keeps the last).
// Otherwise it returns an error wrapping ErrSyntax, ErrTooDeep or
// ErrNotObject.
func Object(b []byte, maxDepth int) ([]Member, error) {
	s := scanner{b: b, max: maxDepth, pending: -1, collect: true}
	if err := s.object(); err != nil {
		return nil, err
	}
	return s.members, nil
}

// CheckObject is Object without the members. It makes no allocation when b
// is valid, so a secret in b (a password in a login's variables) is never
// copied.
func CheckObject(b []byte, maxDepth int) error {
	s := scanner{b: b, max: maxDepth, pending: -1}
	return s.object()
}

func (s *scanner) object() error {
	b := s.b
	i := s.space(0)
	if _, err := s.value(i); err != nil {
		return err
	}
	if i < len(b) && b[i] != '{' {
		return ErrNotObject
	}
	return nil
}

// scanner walks b with an explicit stack of the containers it is in: one
// bit per level, set for an object. (A bit set rather than a slice: a
// slice stored in the scanner would make it, and a secret it points into,
// escape to the heap.)
type scanner struct {
	b       []byte
	max     int
	depth   int
	objects [MaxDepth / 64]uint64
	collect bool // keep the top-level members
	members []Member
	pending int // where the value of the top-level member being read starts, or -1
	name    string
}

func (s *scanner) fail(i int, what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrSyntax, what, i)
}

// value reads the whole value starting at or after i and returns the
// offset just past it; then nothing but white space may follow.
func (s *scanner) value(i int) (int, error) {
	b := s.b
	for {
		i = s.space(i)
		if i >= len(b) {
			return 0, s.fail(i, "a value is missing")
		}
		var err error
		switch c := b[i]; {
		case c == '{' || c == '[':
			if s.depth >= min(s.max, MaxDepth) {
				return 0, fmt.Errorf("%w: more than %d levels at offset %d", ErrTooDeep, s.max, i)
			}
			s.push(c == '{')
			if i, err = s.open(i + 1); err != nil {
				return 0, err
			}
			if i < 0 { // the container is empty and closed: a value ended
				i = -i
				break
			}
			continue // read the first element's value
		case c == '"':
			if i = stringEnd(b, i); i < 0 {
				return 0, s.fail(-i, "a string is unterminated or holds a control character or a bad escape")
			}
		case c == '-' || '0' <= c && c <= '9':
			if i = numberEnd(b, i); i < 0 {
				return 0, s.fail(-i, "a number is malformed")
			}
		case c == 't':
			i, err = s.literal(i, "true")
		case c == 'f':
			i, err = s.literal(i, "false")
		case c == 'n':
			i, err = s.literal(i, "null")
		default:
			return 0, s.fail(i, fmt.Sprintf("%q cannot start a value", c))
		}
		if err != nil {
			return 0, err
		}
		// A value ended at i: close what it completes, or go on to the
		// next element.
		for {
			if s.depth == 0 {
				if i = s.space(i); i != len(b) {
					return 0, s.fail(i, "text follows the value")
				}
				return i, nil
			}
			s.member(i)
			i = s.space(i)
			if i >= len(b) {
				return 0, s.fail(i, "the text ends inside an array or object")
			}
			inObject := s.inObject()
			if b[i] == ',' {
				if inObject {
					if i, err = s.key(i + 1); err != nil {
						return 0, err
					}
				} else {
					i++
				}
				break
			}
			if inObject && b[i] == '}' || !inObject && b[i] == ']' {
				s.depth--
				i++
				continue
			}
			return 0, s.fail(i, "a ',' or the end of the array or object is missing")
		}
	}
}

// open reads past the opening bracket of the container just pushed: to the
// start of the first value (after the first key, in an object), or, for an
// empty container, past its closing bracket, returned negated.
func (s *scanner) open(i int) (int, error) {
	i = s.space(i)
	if i >= len(s.b) {
		return 0, s.fail(i, "the text ends inside an array or object")
	}
	inObject := s.inObject()
	if inObject && s.b[i] == '}' || !inObject && s.b[i] == ']' {
		s.depth--
		return -(i + 1), nil
	}
	if inObject {
		return s.key(i)
	}
	return i, nil
}

// push enters a container one level deeper.
func (s *scanner) push(object bool) {
	word, bit := s.depth/64, uint(s.depth%64)
	if object {
		s.objects[word] |= 1 << bit
	} else {
		s.objects[word] &^= 1 << bit
	}
	s.depth++
}

// inObject reports whether the innermost open container is an object.
func (s *scanner) inObject() bool {
	d := s.depth - 1
	return s.objects[d/64]&(1<<uint(d%64)) != 0
}

// key reads a member's name and the colon after it, and returns where its
// value starts. A name in the top-level object is kept.
func (s *scanner) key(i int) (int, error) {
	i = s.space(i)
	if i >= len(s.b) || s.b[i] != '"' {
		return 0, s.fail(i, "a member name is missing")
	}
	end := stringEnd(s.b, i)
	if end < 0 {
		return 0, s.fail(-end, "a member name is malformed")
	}
	if s.collect && s.depth == 1 {
		s.name = unquote(s.b[i:end])
	}
	i = s.space(end)
	if i >= len(s.b) || s.b[i] != ':' {
		return 0, s.fail(i, "a ':' is missing")
	}
	i = s.space(i + 1)
	if s.collect && s.depth == 1 {
		s.pending = i
	}
	return i, nil
}

// member records the top-level member whose value ends at i, if the value
// that just ended was one.
func (s *scanner) member(i int) {
	if s.depth == 1 && s.pending >= 0 {
		s.members = append(s.members, Member{Name: s.name, Value: s.b[s.pending:i]})
		s.pending = -1
	}
}

func (s *scanner) literal(i int, word string) (int, error) {
	if len(s.b)-i < len(word) || string(s.b[i:i+len(word)]) != word {
		return 0, s.fail(i, "a literal is misspelled")
	}
	return i + len(word), nil
}

func (s *scanner) space(i int) int {
	for i < len(s.b) {
		switch s.b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Eight-byte words with every byte set to one value, for SWAR tests.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain reports whether none of the eight bytes of w ends or escapes a
// string or is a control character. (Each test is the classic "has a byte
// less than n": no false negatives, which is what matters here.)
func plain(w uint64) bool {
	control := (w - ones*0x20) &^ w & highs
	quote := w ^ (ones * '"')
	quote = (quote - ones) &^ quote & highs
	backslash := w ^ (ones * '\\')
	backslash = (backslash - ones) &^ backslash & highs
	return control|quote|backslash == 0
}

// stringEnd returns the offset just past the string whose opening quote is
// at b[i], or minus where it goes wrong.
func stringEnd(b []byte, i int) int {
	i++
	for {
		for i+8 <= len(b) && plain(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			return -i
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(b) {
				return -i
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return -i
				}
				i += 6
			default:
				return -i
			}
		case c < 0x20:
			return -i
		default:
			i++
		}
	}
}

// numberEnd returns the offset just past the number starting at b[i], or
// minus where it goes wrong.
func numberEnd(b []byte, i int) int {
	digits := func(i int) int {
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(i + 1)
	default:
		return -i
	}
	if i < len(b) && b[i] == '.' {
		start := i + 1
		if i = digits(start); i == start {
			return -i
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		if i = digits(start); i == start {
			return -i
		}
	}
	return i
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// unquote returns the text of a valid JSON string literal, quotes
// included, with its escapes resolved; invalid UTF-8 and lone surrogates
// become U+FFFD, as in encoding/json.
func unquote(q []byte) string {
	q = q[1 : len(q)-1]
	if utf8.Valid(q) && !bytes.ContainsRune(q, '\\') {
		return string(q)
	}
	out := make([]byte, 0, len(q))
	for i := 0; i < len(q); {
		if q[i] != '\\' {
			r, size := utf8.DecodeRune(q[i:])
			out = utf8.AppendRune(out, r) // RuneError for a bad byte
			i += size
			continue
		}
		switch c := q[i+1]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hexRune(q[i+2 : i+6])
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+12 <= len(q) && q[i+6] == '\\' && q[i+7] == 'u' {
					r2 = hexRune(q[i+8 : i+12])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default: // '"', '\\', '/'
			out = append(out, c)
		}
		i += 2
	}
	return string(out)
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
