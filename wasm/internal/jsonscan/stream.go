package jsonscan

import (
	"math/bits"
	"strconv"

	"github.com/gqlauth/gqlauth/wasm/internal/fault"
)

// Stream checks JSON text that arrives in pieces, as Object checks a whole
// text, while keeping a few words of state and never the text: a body can
// be judged as it passes through, on its way somewhere else. It tells
// OnValue about the values nested at most VisitDepth levels deep, so that a
// caller can watch a few paths of a large document (the top-level members,
// the messages of an errors list) without holding it; each visit says
// where the value is in the text written so far, for a caller that keeps
// the text.
//
// Write the pieces in order, then call End; the first error ends the scan.
// Write and End make no allocation (but for the error).
type Stream struct {
	// MaxDepth bounds nesting as in Object (at most the package's MaxDepth).
	MaxDepth int
	// VisitDepth is the deepest value OnValue hears about: 0 for the
	// top-level value only, 1 for its members, and so on; none if negative.
	VisitDepth int
	// OnValue is called for each value at depth VisitDepth or less: a
	// container as it opens (and, with v.End set, as it closes), any other
	// value once it has ended. v is valid during the call only.
	OnValue func(v *Visit)

	err     error
	offset  int   // where the piece being scanned starts in the text
	pos     int   // how far into that piece the scan is
	state   state // what comes next
	depth   int   // how many containers are open
	inner   bool  // the innermost open container is an object
	objects [MaxDepth / 64]uint64
	object  bool // the top-level value is an object
	visit   Visit
	start   int // where the string, number or literal being read starts in the text
	// Where the last member name read starts and ends in the text, quotes
	// included.
	nameStart, nameStop int
	escape              int    // bytes of the escape sequence being read already read (1 to 5)
	literal             string // being read: true, false or null
	matched             int    // how much of it is read
	// With OnValue set, the raw text (quotes excluded) of the string, and
	// of the member name, read last at a depth that is visited.
	raw, name kept
}

// shortRaw is how many raw bytes of a string (escapes as written, quotes
// excluded) Stream keeps for NameIs, StringIs and Text.
const shortRaw = 256

// kept is the start of a string's raw text.
type kept struct {
	b    [shortRaw]byte
	n    int
	long bool // the text is longer than b, or not kept at all
}

func (k *kept) add(p []byte) {
	if k.long {
		return
	}
	if k.n+len(p) > len(k.b) {
		k.long = true
		return
	}
	k.n += copy(k.b[k.n:], p)
}

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

// kindOf is the kind of the value that c starts, or 0 if c starts none.
func kindOf(c byte) Kind {
	switch {
	case c == '{':
		return KindObject
	case c == '[':
		return KindArray
	case c == '"':
		return KindString
	case c == '-' || '0' <= c && c <= '9':
		return KindNumber
	case c == 't':
		return KindTrue
	case c == 'f':
		return KindFalse
	case c == 'n':
		return KindNull
	}
	return 0
}

// Visit is what Stream tells OnValue about one value.
type Visit struct {
	// Kind is the kind of the value.
	Kind Kind
	// Depth is how many containers enclose the value.
	Depth int
	// End is set when a container closes (it was visited as it opened).
	End bool
	// InObject says the value is a member of an object: NameIs compares
	// its name.
	InObject bool
	// Start and Stop are where what was just read starts and ends (just
	// past its last byte), as offsets in the text written so far: a whole
	// string, number, true, false or null; a container's opening bracket
	// as it opens, its closing bracket as it closes. A container is the
	// text from the Start of its opening visit to the Stop of its closing
	// one.
	Start, Stop int
	s           *Stream
}

// NameIs reports whether the member name of the value is name, once its
// escapes are resolved (false for the end of a container). A name whose
// raw text, escapes as written, is longer than 256 bytes is never equal.
func (v *Visit) NameIs(name string) bool {
	return v.InObject && !v.End && !v.s.name.long && decodedIs(v.s.name.b[:v.s.name.n], name)
}

// StringIs reports whether the value is a string whose text, once its
// escapes are resolved, is text. A string whose raw text, escapes as
// written, is longer than 256 bytes is never equal.
func (v *Visit) StringIs(text string) bool {
	return v.Kind == KindString && !v.s.raw.long && decodedIs(v.s.raw.b[:v.s.raw.n], text)
}

// Text returns the text of a string value, its escapes resolved (invalid
// UTF-8 and lone surrogates become U+FFFD), when its raw text, escapes as
// written and quotes excluded, is at most 256 bytes; ok is false for a
// longer string and for any other kind of value (a member's name is not
// its value).
func (v *Visit) Text() (text string, ok bool) {
	if v.Kind != KindString || v.s.raw.long {
		return "", false
	}
	return decode(v.s.raw.b[:v.s.raw.n]), true
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
	stString                    // inside a string value
	stName                      // inside a member name
	stEscape                    // inside an escape sequence of a string value
	stNameEscape                // inside an escape sequence of a member name
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
	s.pos = 0
	for s.scan(p, false) {
		s.tell()
	}
	s.offset += len(p)
	return s.err
}

// End says the text is complete, and returns what Object would for the
// whole of it: nil, or an error wrapping ErrSyntax, ErrTooDeep or
// ErrNotObject.
func (s *Stream) End() error {
	s.pos = 0
	if s.scan(nil, true) { // a number that ends the text
		s.tell()
	}
	return s.verdict()
}

func (s *Stream) tell() {
	if s.OnValue != nil {
		s.visit.s = s
		s.OnValue(&s.visit)
	}
}

// verdict is End's answer once the whole text is scanned.
func (s *Stream) verdict() error {
	switch {
	case s.err != nil:
		return s.err
	case s.depth == 0 && s.state == stValue:
		return s.fail(s.pos, "a value is missing")
	case s.depth > 0 || s.state != stAfter:
		return s.fail(s.pos, "the text ends inside a value")
	case !s.object:
		return ErrNotObject
	}
	return nil
}

// fail records the scan's error, at p[i] of the piece being scanned.
func (s *Stream) fail(i int, what string) error {
	if s.err == nil {
		s.err = fault.New(ErrSyntax, what+" at offset "+strconv.Itoa(s.offset+i))
	}
	return s.err
}

// see makes the value just read, of kind, the visit.
func (s *Stream) see(kind Kind, depth int, end, inObject bool, start, stop int) {
	s.visit = Visit{Kind: kind, Depth: depth, End: end, InObject: inObject, Start: start, Stop: stop}
}

// Eight-byte words with every byte set to one value, for SWAR tests.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specials marks, with its high bit, each of the eight bytes of w (read
// little-endian) that ends or escapes a string or is a control character;
// a few bytes after the first marked one may be marked wrongly, never one
// before it. (Each test is the classic "has a byte less than n".)
func specials(w uint64) uint64 {
	control := (w - ones*0x20) &^ w & highs
	quote := w ^ (ones * '"')
	quote = (quote - ones) &^ quote & highs
	backslash := w ^ (ones * '\\')
	backslash = (backslash - ones) &^ backslash & highs
	return control | quote | backslash
}

// specialAt returns where the first byte from p[i] on that ends or escapes
// a string, or is a control character, is; len(p) if there is none. It
// reads eight bytes at a time.
//
// scan calls it for a run of more than eight plain bytes, which is rare
// but may be long: it is not inlined, so that its loop keeps its few
// variables in registers (scan has too many).
//
//go:noinline
func specialAt(p []byte, i int) int {
	q := p[i:]
	for len(q) >= 16 {
		m, n := specials(le64(q)), specials(le64(q[8:]))
		if m|n != 0 {
			if m == 0 {
				return len(p) - len(q) + 8 + bits.TrailingZeros64(n)/8
			}
			return len(p) - len(q) + bits.TrailingZeros64(m)/8
		}
		q = q[16:]
	}
	i = len(p) - len(q)
	for i < len(p) && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20 {
		i++
	}
	return i
}

// escapeLen returns the length of the escape sequence at the start of q (a
// backslash), 0 if q ends before it does (and is right so far), or -1 if it
// is not one.
func escapeLen(q []byte) int {
	if len(q) < 2 {
		return 0
	}
	switch q[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		for k := 2; k < 6; k++ {
			if k == len(q) {
				return 0
			}
			if !isHex(q[k]) {
				return -1
			}
		}
		return 6
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// scan reads p, the piece of the text that starts at s.offset, from
// p[s.pos] on. It stops just after a value due a visit (then s.visit is
// that visit, and it returns true), at the end of p, or at the scan's first
// error (s.err). With last set, p ends the text: a number that runs to its
// end ends there.
//
// It is the loop that every byte of every text passes through, so it is
// written for speed: its state is in locals; where one token usually
// follows another (a name, its colon and its value; a value, and a comma
// or a closing bracket) it goes on without going back to the switch; and it
// finds the end of a string eight bytes at a time.
func (s *Stream) scan(p []byte, last bool) bool {
	if s.err != nil {
		return false
	}
	var (
		i        = s.pos
		st       = s.state
		depth    = s.depth
		inObject = s.inner // the innermost open container is an object
		base     = s.offset
		visits   = s.VisitDepth
		keep     = s.OnValue != nil // keep visited strings' text for NameIs, StringIs and Text
		kind     Kind               // of the value that just ended
		visited  = false
	)
loop:
	for i < len(p) {
		c := p[i]
		if c <= ' ' && st <= stAfter && isSpace(c) { // white space between tokens
			for i++; i < len(p) && isSpace(p[i]); i++ {
			}
			continue
		}
		switch st {
		case stValue, stFirst, stFirstKey, stKey:
			if c != '"' {
				switch {
				case st >= stFirstKey:
					if c == '}' && st == stFirstKey {
						goto close
					}
					s.fail(i, "a member name is missing")
					break loop
				case c == '{' || c == '[':
					if depth >= min(s.MaxDepth, MaxDepth) {
						s.err = fault.New(ErrTooDeep, "more than "+strconv.Itoa(min(s.MaxDepth, MaxDepth))+" levels at offset "+strconv.Itoa(base+i))
						break loop
					}
					if depth <= visits {
						s.see(kindOf(c), depth, false, depth > 0 && inObject, base+i, base+i+1)
						visited = true
					}
					word, bit := depth/64, uint(depth%64)
					if c == '{' {
						s.object = s.object || depth == 0
						s.objects[word] |= 1 << bit
						st = stFirstKey
					} else {
						s.objects[word] &^= 1 << bit
						st = stFirst
					}
					inObject = c == '{'
					depth++
					i++
					if visited {
						break loop
					}
				case c == '-' || '0' <= c && c <= '9':
					st = stNumInt
					if c == '-' {
						st = stNumSign
					} else if c == '0' {
						st = stNumZero
					}
					s.start = base + i
					i++
				case c == 't' || c == 'f' || c == 'n':
					s.start = base + i
					if len(p)-i >= 5 || len(p)-i == 4 && c != 'f' { // the common case, in one piece
						n := 4
						switch {
						case c == 't' && string(p[i:i+4]) == "true", c == 'n' && string(p[i:i+4]) == "null":
						case c == 'f' && string(p[i:i+5]) == "false":
							n = 5
						default:
							n = 0
						}
						if n > 0 {
							i += n
							kind = kindOf(c)
							goto ended
						}
					}
					st, s.matched, s.literal = stLiteral, 0, "null"
					if c == 't' {
						s.literal = "true"
					} else if c == 'f' {
						s.literal = "false"
					}
				case c == ']' && st == stFirst:
					goto close
				case c == ']' || c == '}':
					s.fail(i, "a value is missing")
					break loop
				default:
					s.fail(i, strconv.QuoteRune(rune(c))+" cannot start a value")
					break loop
				}
				continue
			}
			if st >= stFirstKey {
				st = stName
				s.nameStart = base + i
				if keep {
					s.name.n, s.name.long = 0, depth > visits
				}
			} else {
				st = stString
				s.start = base + i
				if keep {
					s.raw.n, s.raw.long = 0, depth > visits
				}
			}
			i++
			fallthrough

		case stString, stName:
			from := i
			for {
				if i+8 > len(p) {
					for i < len(p) && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20 {
						i++
					}
				} else if m := specials(le64(p[i:])); m != 0 {
					i += bits.TrailingZeros64(m) / 8
				} else {
					i = specialAt(p, i+8)
				}
				if i == len(p) || p[i] != '\\' {
					break
				}
				n := escapeLen(p[i:])
				if n < 0 {
					s.fail(i, "a string holds a bad escape")
					break loop
				}
				if n == 0 { // the piece ends inside the escape
					s.escape = len(p) - i
					st += stEscape - stString
					i = len(p)
					break
				}
				i += n
			}
			if keep && depth <= visits {
				if st == stName || st == stNameEscape {
					s.name.add(p[from:i])
				} else {
					s.raw.add(p[from:i])
				}
			}
			if i == len(p) {
				break loop
			}
			if p[i] != '"' {
				s.fail(i, "a string holds a control character")
				break loop
			}
			i++
			if st == stString {
				kind = KindString
				goto ended
			}
			s.nameStop = base + i
			st = stColon
			if i < len(p) && p[i] == ':' {
				st = stValue
				i++
			}

		case stColon:
			if c != ':' {
				s.fail(i, "a ':' is missing")
				break loop
			}
			st = stValue
			i++

		case stAfter:
			switch {
			case depth == 0:
				s.fail(i, "text follows the value")
				break loop
			case c == ',' || c == '}' && inObject || c == ']' && !inObject:
				goto after
			}
			s.fail(i, "a ',' or the end of the array or object is missing")
			break loop

		case stNumInt, stNumFrac, stNumExpDigits:
			for i < len(p) && '0' <= p[i] && p[i] <= '9' {
				i++
			}
			if i == len(p) {
				break loop
			}
			c = p[i]
			if c == '.' && st == stNumInt {
				st = stNumDot
				i++
				continue
			}
			if (c == 'e' || c == 'E') && st != stNumExpDigits {
				st = stNumExp
				i++
				continue
			}
			kind = KindNumber
			goto ended

		case stNumZero:
			switch c {
			case '.':
				st = stNumDot
			case 'e', 'E':
				st = stNumExp
			default:
				kind = KindNumber
				goto ended
			}
			i++

		case stNumSign, stNumDot, stNumExp, stNumExpSign:
			switch {
			case c == '0' && st == stNumSign:
				st = stNumZero
			case '0' <= c && c <= '9' && st == stNumSign:
				st = stNumInt
			case '0' <= c && c <= '9' && st == stNumDot:
				st = stNumFrac
			case '0' <= c && c <= '9' && st != stNumDot:
				st = stNumExpDigits
			case (c == '+' || c == '-') && st == stNumExp:
				st = stNumExpSign
			default:
				s.fail(i, "a number is malformed")
				break loop
			}
			i++

		case stEscape, stNameEscape:
			if s.escape == 1 {
				switch c {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					s.escape = 5 // done, below
				case 'u':
				default:
					s.fail(i, "a string holds a bad escape")
					break loop
				}
			} else if !isHex(c) {
				s.fail(i, "a string holds a bad escape")
				break loop
			}
			if keep && depth <= visits {
				if st == stNameEscape {
					s.name.add(p[i : i+1])
				} else {
					s.raw.add(p[i : i+1])
				}
			}
			i++
			if s.escape++; s.escape == 6 {
				st -= stEscape - stString
			}

		case stLiteral:
			if c != s.literal[s.matched] {
				s.fail(i, "a literal is misspelled")
				break loop
			}
			i++
			if s.matched++; s.matched == len(s.literal) {
				kind = kindOf(s.literal[0])
				goto ended
			}
		}
		continue

	ended: // a string, number or literal, of kind, ended just before p[i]
		st = stAfter
		if depth <= visits {
			s.see(kind, depth, false, depth > 0 && inObject, s.start, base+i)
			visited = true
			break loop
		}
	after: // a value ended just before p[i]: a comma, or the end of its container?
		if i < len(p) && depth > 0 {
			switch c = p[i]; {
			case c == ',':
				st = stValue
				if inObject {
					st = stKey
				}
				i++
			case c == '}' && inObject || c == ']' && !inObject:
				goto close
			}
		}
		continue

	close: // c, at p[i], closes the innermost open container
		depth--
		kind = KindArray
		if inObject {
			kind = KindObject
		}
		inObject = depth > 0 && s.objects[(depth-1)/64]&(1<<uint((depth-1)%64)) != 0
		st = stAfter
		i++
		if depth <= visits {
			s.see(kind, depth, true, inObject, base+i-1, base+i)
			visited = true
			break loop
		}
		goto after
	}
	if last && !visited && i == len(p) && s.err == nil {
		switch st {
		case stNumZero, stNumInt, stNumFrac, stNumExpDigits: // a number ends with the text
			st = stAfter
			if depth <= visits {
				s.see(KindNumber, depth, false, depth > 0 && inObject, s.start, base+i)
				visited = true
			}
		}
	}
	s.pos, s.state, s.depth, s.inner = i, st, depth, inObject
	return visited
}

// le64 reads the first eight bytes of b as a little-endian word (what
// encoding/binary does, without its reflection, which would grow the
// module); the compiler makes it one load.
func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
