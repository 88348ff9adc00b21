package jsonscan

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// Stream checks JSON text that arrives in pieces, as Object checks a whole
// text, while keeping a few words of state and never the text: a body can
// be judged as it passes through, on its way somewhere else. It tells
// OnValue about the values nested at most VisitDepth levels deep, so that a
// caller can watch a few paths of a large document (the top-level members,
// the messages of an errors list) without holding it.
//
// Write the pieces in order, then call End; the first error ends the scan.
type Stream struct {
	// MaxDepth bounds nesting as in Object (at most the package's MaxDepth).
	MaxDepth int
	// VisitDepth is the deepest value OnValue hears about: 0 for the
	// top-level value only, 1 for its members, and so on.
	VisitDepth int
	// OnValue is called for each value at depth VisitDepth or less: a
	// container as it opens (and, with v.End set, as it closes), any other
	// value once it has ended. v is valid during the call only.
	OnValue func(v *Visit)

	err     error
	offset  int // bytes written so far, for error messages
	state   state
	depth   int
	objects [MaxDepth / 64]uint64
	started bool // the top-level value began
	object  bool // and it is an object
	visit   Visit
	// The string being read: its escape state, and its raw text (quotes
	// excluded) while it is short and wanted.
	escape   int // 0: none; 1: after a backslash; 2..5: hex digits of \u still due
	isKey    bool
	wanted   bool
	raw      [shortRaw]byte
	rawLen   int
	rawLong  bool
	name     [shortRaw]byte // the last member name read, raw
	nameLen  int
	nameLong bool
	// The literal being read (true, false, null) and how much of it is read.
	literal string
	matched int
}

// shortRaw is how many raw bytes of a string Stream keeps for comparisons:
// enough for any ASCII text of twelve characters however it is escaped
// (\uXXXX is six bytes a character).
const shortRaw = 80

// Kind is the kind of a visited value.
type Kind uint8

// Kinds of value.
const (
	KindObject Kind = iota + 1
	KindArray
	KindString
	KindNumber
	KindTrue
	KindFalse
	KindNull
)

// Visit is what Stream tells OnValue about one value.
type Visit struct {
	Kind Kind
	// Depth is how many containers enclose the value.
	Depth int
	// End is set when a container closes (it was visited as it opened).
	End bool
	// InObject says the value is a member of an object: NameIs compares
	// its name.
	InObject bool
	s        *Stream
}

// NameIs reports whether the member name of the value is ascii, once its
// escapes are resolved (false for the end of a container). ascii must be
// ASCII and at most twelve bytes.
func (v *Visit) NameIs(ascii string) bool {
	return v.InObject && !v.End && !v.s.nameLong && decodedIs(v.s.name[:v.s.nameLen], ascii)
}

// StringIs reports whether the value is a string whose text, once its
// escapes are resolved, is ascii. ascii must be ASCII and at most twelve
// bytes.
func (v *Visit) StringIs(ascii string) bool {
	return v.Kind == KindString && !v.s.rawLong && decodedIs(v.s.raw[:v.s.rawLen], ascii)
}

// decodedIs reports whether the raw string text q (no quotes; valid
// escapes) means ascii. A byte of q that is not ASCII, and any escape for
// a character that is not, cannot match.
func decodedIs(q []byte, ascii string) bool {
	n := 0
	for i := 0; i < len(q); n++ {
		if n >= len(ascii) {
			return false
		}
		c := q[i]
		if c == '\\' {
			switch q[i+1] {
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'u':
				r := hexRune(q[i+2 : i+6])
				if r >= utf8.RuneSelf {
					return false
				}
				c = byte(r)
				i += 4
			default: // '"', '\\', '/'
				c = q[i+1]
			}
			i += 2
		} else {
			i++
		}
		if c != ascii[n] {
			return false
		}
	}
	return n == len(ascii)
}

// What the scan expects next.
type state uint8

const (
	stValue        state = iota // a value
	stFirst                     // an array's first value, or its end
	stFirstKey                  // an object's first member name, or its end
	stKey                       // a member name
	stColon                     // the colon after a member name
	stAfter                     // a comma, or the end of the container; or, at the top, nothing
	stString                    // inside a string
	stLiteral                   // inside true, false or null
	stNumSign                   // after a minus: a digit
	stNumZero                   // after a leading zero: '.', 'e', or the end
	stNumInt                    // in the integer's digits
	stNumDot                    // after '.': a digit
	stNumFrac                   // in the fraction's digits
	stNumExp                    // after 'e': a sign or a digit
	stNumExpSign                // after the exponent's sign: a digit
	stNumExpDigits              // in the exponent's digits
)

// Write scans the next piece of the text. It returns the scan's error, if
// the text is already known to be wrong (ErrSyntax, ErrTooDeep).
func (s *Stream) Write(p []byte) error {
	for i := 0; i < len(p) && s.err == nil; {
		i = s.step(p, i)
	}
	s.offset += len(p)
	return s.err
}

// End says the text is complete, and returns what Object would for the
// whole of it: nil, or an error wrapping ErrSyntax, ErrTooDeep or
// ErrNotObject.
func (s *Stream) End() error {
	if s.err != nil {
		return s.err
	}
	switch s.state {
	case stNumZero, stNumInt, stNumFrac, stNumExpDigits:
		s.endScalar(KindNumber) // a number ends with the text
	}
	switch {
	case s.err != nil:
		return s.err
	case !s.started || s.depth > 0 || s.state != stAfter:
		return s.fail(0, "the text ends inside a value")
	case !s.object:
		return ErrNotObject
	}
	return nil
}

func (s *Stream) fail(i int, what string) error {
	if s.err == nil {
		s.err = fmt.Errorf("%w: %s at offset %d", ErrSyntax, what, s.offset+i)
	}
	return s.err
}

// step reads from p[i] on and returns where it stopped.
func (s *Stream) step(p []byte, i int) int {
	switch s.state {
	case stString:
		return s.stringPart(p, i)
	case stLiteral:
		for ; i < len(p) && s.matched < len(s.literal); i++ {
			if p[i] != s.literal[s.matched] {
				s.fail(i, "a literal is misspelled")
				return i
			}
			s.matched++
		}
		if s.matched == len(s.literal) {
			kind := KindNull
			switch s.literal[0] {
			case 't':
				kind = KindTrue
			case 'f':
				kind = KindFalse
			}
			s.endScalar(kind)
		}
		return i
	case stNumSign, stNumZero, stNumInt, stNumDot, stNumFrac, stNumExp, stNumExpSign, stNumExpDigits:
		return s.numberPart(p, i)
	}
	c := p[i]
	if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
		return i + 1
	}
	switch s.state {
	case stFirst:
		if c == ']' {
			s.close(i)
			return i + 1
		}
		return s.value(p, i)
	case stValue:
		return s.value(p, i)
	case stFirstKey:
		if c == '}' {
			s.close(i)
			return i + 1
		}
		return s.key(i, c)
	case stKey:
		return s.key(i, c)
	case stColon:
		if c != ':' {
			s.fail(i, "a ':' is missing")
			return i
		}
		s.state = stValue
		return i + 1
	}
	// stAfter
	if s.depth == 0 {
		s.fail(i, "text follows the value")
		return i
	}
	inObject := s.inObject()
	switch {
	case c == ',' && inObject:
		s.state = stKey
	case c == ',':
		s.state = stValue
	case inObject && c == '}' || !inObject && c == ']':
		s.close(i)
	default:
		s.fail(i, "a ',' or the end of the array or object is missing")
		return i
	}
	return i + 1
}

func (s *Stream) key(i int, c byte) int {
	if c != '"' {
		s.fail(i, "a member name is missing")
		return i
	}
	s.beginString(true, s.depth <= s.VisitDepth)
	return i + 1
}

// value starts the value whose first byte is p[i].
func (s *Stream) value(p []byte, i int) int {
	c := p[i]
	if !s.started {
		s.started, s.object = true, c == '{'
	}
	switch {
	case c == '{' || c == '[':
		if s.depth >= min(s.MaxDepth, MaxDepth) {
			s.err = fmt.Errorf("%w: more than %d levels at offset %d", ErrTooDeep, s.MaxDepth, s.offset+i)
			return i
		}
		kind := KindArray
		if c == '{' {
			kind = KindObject
		}
		s.tell(kind, false)
		word, bit := s.depth/64, uint(s.depth%64)
		if c == '{' {
			s.objects[word] |= 1 << bit
			s.state = stFirstKey
		} else {
			s.objects[word] &^= 1 << bit
			s.state = stFirst
		}
		s.depth++
	case c == '"':
		s.beginString(false, s.depth <= s.VisitDepth)
	case c == '-':
		s.state = stNumSign
	case c == '0':
		s.state = stNumZero
	case '1' <= c && c <= '9':
		s.state = stNumInt
	case c == 't':
		s.literal, s.matched, s.state = "true", 1, stLiteral
	case c == 'f':
		s.literal, s.matched, s.state = "false", 1, stLiteral
	case c == 'n':
		s.literal, s.matched, s.state = "null", 1, stLiteral
	default:
		s.fail(i, fmt.Sprintf("%q cannot start a value", c))
		return i
	}
	return i + 1
}

// close ends the innermost container, whose closing bracket is at p[i].
func (s *Stream) close(i int) {
	s.depth--
	kind := KindArray
	if s.objects[s.depth/64]&(1<<uint(s.depth%64)) != 0 {
		kind = KindObject
	}
	s.tell(kind, true)
	s.state = stAfter
}

func (s *Stream) inObject() bool {
	d := s.depth - 1
	return s.objects[d/64]&(1<<uint(d%64)) != 0
}

// endScalar ends a string, number or literal value.
func (s *Stream) endScalar(kind Kind) {
	s.tell(kind, false)
	s.state = stAfter
}

// tell calls OnValue for the value of kind at the current depth, if it is
// shallow enough.
func (s *Stream) tell(kind Kind, end bool) {
	if s.OnValue == nil || s.depth > s.VisitDepth {
		return
	}
	s.visit = Visit{Kind: kind, Depth: s.depth, End: end, InObject: s.depth > 0 && s.inObject(), s: s}
	s.OnValue(&s.visit)
}

func (s *Stream) beginString(isKey, wanted bool) {
	s.state, s.escape, s.isKey, s.wanted = stString, 0, isKey, wanted
	s.rawLen, s.rawLong = 0, false
}

// stringPart reads string text from p[i] on, up to and including the
// closing quote if it is in p.
func (s *Stream) stringPart(p []byte, i int) int {
	for i < len(p) {
		if s.escape > 0 {
			i = s.escapePart(p, i)
			if s.err != nil {
				return i
			}
			continue
		}
		start := i
		for i+8 <= len(p) && plain(binary.LittleEndian.Uint64(p[i:])) {
			i += 8
		}
		for i < len(p) && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20 {
			i++
		}
		s.keep(p[start:i])
		if i == len(p) {
			return i
		}
		switch c := p[i]; {
		case c == '"':
			s.endString()
			return i + 1
		case c == '\\':
			s.keep(p[i : i+1])
			s.escape = 1
			i++
		default:
			s.fail(i, "a string holds a control character")
			return i
		}
	}
	return i
}

// escapePart reads the rest of an escape sequence.
func (s *Stream) escapePart(p []byte, i int) int {
	c := p[i]
	if s.escape == 1 {
		switch c {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s.escape = 0
		case 'u':
			s.escape = 2
		default:
			s.fail(i, "a string holds a bad escape")
			return i
		}
	} else {
		if !isHex(c) {
			s.fail(i, "a string holds a bad escape")
			return i
		}
		if s.escape++; s.escape == 6 {
			s.escape = 0
		}
	}
	s.keep(p[i : i+1])
	return i + 1
}

// keep adds b to the raw text of the string, while it is short and wanted.
func (s *Stream) keep(b []byte) {
	if !s.wanted || s.rawLong {
		return
	}
	if s.rawLen+len(b) > len(s.raw) {
		s.rawLong = true
		return
	}
	s.rawLen += copy(s.raw[s.rawLen:], b)
}

func (s *Stream) endString() {
	if s.isKey {
		s.name, s.nameLen, s.nameLong = s.raw, s.rawLen, s.rawLong || !s.wanted
		s.state = stColon
		return
	}
	s.endScalar(KindString)
}

// numberPart reads number text from p[i] on; a byte that cannot continue
// the number ends it (if it may end there) and is read again as what
// follows.
func (s *Stream) numberPart(p []byte, i int) int {
	for ; i < len(p); i++ {
		c := p[i]
		digit := '0' <= c && c <= '9'
		switch s.state {
		case stNumSign:
			switch {
			case c == '0':
				s.state = stNumZero
			case digit:
				s.state = stNumInt
			default:
				s.fail(i, "a number is malformed")
				return i
			}
			continue
		case stNumDot:
			if !digit {
				s.fail(i, "a number is malformed")
				return i
			}
			s.state = stNumFrac
			continue
		case stNumExp:
			switch {
			case c == '+' || c == '-':
				s.state = stNumExpSign
			case digit:
				s.state = stNumExpDigits
			default:
				s.fail(i, "a number is malformed")
				return i
			}
			continue
		case stNumExpSign:
			if !digit {
				s.fail(i, "a number is malformed")
				return i
			}
			s.state = stNumExpDigits
			continue
		case stNumInt, stNumFrac, stNumExpDigits:
			if digit {
				continue
			}
		}
		// stNumZero, or the end of a run of digits.
		switch {
		case c == '.' && (s.state == stNumZero || s.state == stNumInt):
			s.state = stNumDot
		case (c == 'e' || c == 'E') && s.state != stNumExpDigits:
			s.state = stNumExp
		default:
			s.endScalar(KindNumber)
			return i
		}
	}
	return i
}
