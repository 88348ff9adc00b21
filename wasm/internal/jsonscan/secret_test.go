package jsonscan

import "testing"

func TestAppendTextAgreesWithText(t *testing.T) {
	for _, raw := range []string{`"plain"`, `"p\u00e4ss\"w\\ord\n"`, `"\ud83d\ude00 \ud800"`, `""`, `42`, `{"a":1}`, `"unterminated`} {
		v := Value(raw)
		want, wantOK := v.Text()
		buf := make([]byte, 0, len(raw))
		got, ok := v.AppendText(buf)
		if ok != wantOK || string(got) != want {
			t.Errorf("AppendText(%s) = %q, %t; Text says %q, %t", raw, got, ok, want, wantOK)
		}
		if ok && len(got) > 0 && &got[0] != &buf[:1][0] {
			t.Errorf("AppendText(%s) made another copy", raw)
		}
	}
}
