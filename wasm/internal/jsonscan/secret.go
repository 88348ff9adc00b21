package jsonscan

import "unicode/utf8"

// AppendText appends the text of a string, unescaped, to dst and returns
// the extended buffer; ok is false for any other kind. Unlike Text it makes
// no Go string, so that a secret (a password) can be zeroed once used: give
// it a dst large enough (len(v) bytes) and it makes no other copy.
func (v Value) AppendText(dst []byte) (out []byte, ok bool) {
	if !v.isOne(KindString) {
		return dst, false
	}
	q := v[1 : len(v)-1]
	for i := 0; i < len(q); {
		r, size := nextRune(q, i)
		dst = utf8.AppendRune(dst, r)
		i += size
	}
	return dst, true
}
