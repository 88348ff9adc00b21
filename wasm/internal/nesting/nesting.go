// Package nesting bounds how deeply JSON text nests, without parsing it.
//
// The JSON reader the module uses (gjson) recurses once per level of
// nesting. In WebAssembly the engine's call stack is small: a 10 KB body of
// nested arrays overflows it, and a stack overflow there is a JavaScript
// RangeError that unwinds through the Go runtime instead of returning an
// error. So every body and token from the network is measured here first,
// by a loop that does not recurse.
//
// It is pure Go: it must not import syscall/js or net/http.
package nesting

import "bytes"

// Within reports whether the arrays and objects in the JSON text b nest at
// most max levels deep. Brackets inside strings do not count. It does not
// check that b is valid JSON; a parser does that afterwards.
func Within(b []byte, max int) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := closingQuote(b, i+1)
			if end < 0 {
				return true // an unterminated string nests nothing more
			}
			i = end
		case '[', '{':
			depth++
			if depth > max {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}

// closingQuote returns the index of the quote that ends the string whose
// text starts at b[from], or -1. Most of a large body is string text, so it
// jumps from quote to quote and counts the backslashes before each.
func closingQuote(b []byte, from int) int {
	for {
		q := bytes.IndexByte(b[from:], '"')
		if q < 0 {
			return -1
		}
		q += from
		escapes := 0
		for j := q - 1; j >= from && b[j] == '\\'; j-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q
		}
		from = q + 1
	}
}
