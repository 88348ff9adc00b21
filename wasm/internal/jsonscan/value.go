package jsonscan

import (
	"iter"
	"strconv"
)

// Value is the raw text of one JSON value, white space trimmed: a member's
// value from Object, or a whole text that CheckObject passed. Its methods
// read it without checking it again, without recursion and without
// copying it (but for decoded strings). On text that was not checked they
// may return nonsense, but they never panic.
type Value []byte

// Kind returns the kind of v, or 0 for an empty Value (absent).
func (v Value) Kind() Kind {
	if len(v) == 0 {
		return 0
	}
	switch v[0] {
	case '{':
		return KindObject
	case '[':
		return KindArray
	case '"':
		return KindString
	case 't':
		return KindTrue
	case 'f':
		return KindFalse
	case 'n':
		return KindNull
	}
	return KindNumber
}

// Members yields the members of an object, in order, names unescaped (a
// repeated name is yielded each time: JSON.parse keeps the last). It yields
// nothing for any other kind.
func (v Value) Members() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		if v.Kind() != KindObject {
			return
		}
		for i := skipSpace(v, 1); i < len(v) && v[i] == '"'; {
			end := stringEnd(v, i)
			if end < 0 {
				return
			}
			name := unquote(v[i:end])
			i = skipSpace(v, end)
			if i >= len(v) || v[i] != ':' {
				return
			}
			start := skipSpace(v, i+1)
			end = valueEnd(v, start)
			if end < 0 || !yield(name, v[start:end]) {
				return
			}
			if i = skipSpace(v, end); i >= len(v) || v[i] != ',' {
				return
			}
			i = skipSpace(v, i+1)
		}
	}
}

// Elements yields the elements of an array, in order; nothing for any
// other kind.
func (v Value) Elements() iter.Seq[Value] {
	return func(yield func(Value) bool) {
		if v.Kind() != KindArray {
			return
		}
		for i := skipSpace(v, 1); i < len(v) && v[i] != ']'; {
			end := valueEnd(v, i)
			if end < 0 || !yield(v[i:end]) {
				return
			}
			if i = skipSpace(v, end); i >= len(v) || v[i] != ',' {
				return
			}
			i = skipSpace(v, i+1)
		}
	}
}

// Get returns the value of the last member of an object named name, as
// JSON.parse reads it, or an empty Value.
func (v Value) Get(name string) Value {
	var found Value
	for n, m := range v.Members() {
		if n == name {
			found = m
		}
	}
	return found
}

// Text returns the text of a string, unescaped; ok is false for any other
// kind. Invalid UTF-8 and lone surrogates become U+FFFD.
func (v Value) Text() (s string, ok bool) {
	if v.Kind() != KindString || stringEnd(v, 0) != len(v) {
		return "", false
	}
	return unquote(v), true
}

// Float returns a number's value; ok is false for any other kind (or a
// number out of float64's range).
func (v Value) Float() (f float64, ok bool) {
	if v.Kind() != KindNumber || numberEnd(v, 0) != len(v) {
		return 0, false // not JSON's grammar (ParseFloat's is wider: Inf, hex)
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

// Bool returns the value of true or false; ok is false for any other kind.
func (v Value) Bool() (b, ok bool) {
	switch v.Kind() {
	case KindTrue:
		return true, true
	case KindFalse:
		return false, true
	}
	return false, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the offset just past the checked value starting at
// b[i], or -1 if it is not one. Containers are skipped by counting
// brackets outside strings: no recursion.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		if end := stringEnd(b, i); end > 0 {
			return end
		}
		return -1
	case c == '{' || c == '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end := stringEnd(b, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case c == 't' || c == 'n':
		return min(i+4, len(b))
	case c == 'f':
		return min(i+5, len(b))
	}
	if end := numberEnd(b, i); end > 0 {
		return end
	}
	return -1
}
