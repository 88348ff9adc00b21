package jsonscan

import (
	"iter"
	"strconv"
)

// Value is the raw text of one JSON value, white space trimmed: a member's
// value from Object, or a whole text that CheckObject passed. Its methods
// read it with a Stream, without recursion and without copying it (but for
// decoded strings). On text that was not checked they may return nonsense
// (they stop where the text goes wrong), but they never panic.
type Value []byte

// Kind returns the kind of v, as its first byte says, or 0 for an empty
// Value (absent) or one whose first byte starts no JSON value.
func (v Value) Kind() Kind {
	if len(v) == 0 {
		return 0
	}
	return kindOf(v[0])
}

// Members yields the members of an object, in order, names unescaped (a
// repeated name is yielded each time: JSON.parse keeps the last). It yields
// nothing for any other kind.
func (v Value) Members() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		if v.Kind() != KindObject {
			return
		}
		s := Stream{MaxDepth: MaxDepth, VisitDepth: 1}
		var name string
		start := 0
		for s.scan(v, true) {
			m := &s.visit
			if m.Depth == 0 {
				continue
			}
			if !m.End {
				name, start = unquote(v[s.nameStart:s.nameStop]), m.Start
			}
			if (m.End || m.Kind > KindArray) && !yield(name, v[start:m.Stop]) {
				return
			}
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
		s := Stream{MaxDepth: MaxDepth, VisitDepth: 1}
		start := 0
		for s.scan(v, true) {
			e := &s.visit
			if e.Depth == 0 {
				continue
			}
			if !e.End {
				start = e.Start
			}
			if (e.End || e.Kind > KindArray) && !yield(v[start:e.Stop]) {
				return
			}
		}
	}
}

// Get returns the value of the last member of an object named name, as
// JSON.parse reads it, or an empty Value. It compares names without
// unescaping them into copies.
func (v Value) Get(name string) Value {
	if v.Kind() != KindObject {
		return nil
	}
	s := Stream{MaxDepth: MaxDepth, VisitDepth: 1}
	var found Value
	start, named := 0, false
	for s.scan(v, true) {
		m := &s.visit
		if m.Depth == 0 {
			continue
		}
		if !m.End {
			named, start = decodedIs(v[s.nameStart+1:s.nameStop-1], name), m.Start
		}
		if (m.End || m.Kind > KindArray) && named {
			found = v[start:m.Stop]
		}
	}
	return found
}

// Text returns the text of a string, unescaped; ok is false for any other
// kind. Invalid UTF-8 and lone surrogates become U+FFFD.
func (v Value) Text() (s string, ok bool) {
	if !v.isOne(KindString) {
		return "", false
	}
	return unquote(v), true
}

// Float returns a number's value; ok is false for any other kind (or a
// number out of float64's range).
func (v Value) Float() (f float64, ok bool) {
	if !v.isOne(KindNumber) {
		return 0, false // not JSON's grammar (ParseFloat's is wider: Inf, hex)
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

// Bool returns the value of true or false; ok is false for any other kind.
func (v Value) Bool() (b, ok bool) {
	switch {
	case v.isOne(KindTrue):
		return true, true
	case v.isOne(KindFalse):
		return false, true
	}
	return false, false
}

// isOne reports whether v is exactly one value, of kind (a string, number
// or literal).
func (v Value) isOne(kind Kind) bool {
	if v.Kind() != kind {
		return false
	}
	s := Stream{MaxDepth: MaxDepth, VisitDepth: 0}
	return s.scan(v, true) && s.visit.Stop == len(v)
}
