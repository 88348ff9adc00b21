package fault

import (
	"errors"
	"testing"
)

var (
	errKind  = errors.New("kind")
	errCause = errors.New("cause")
)

func TestErrorsCarryTheirKindsAndText(t *testing.T) {
	tests := []struct {
		err   error
		text  string
		kinds []error
	}{
		{New(errKind, "what happened"), "kind: what happened", []error{errKind}},
		{New(errKind, ""), "kind", []error{errKind}},
		{Wrap(errKind, "reading", errCause), "kind: reading: cause", []error{errKind, errCause}},
		{Wrap(errKind, "", New(errCause, "deep")), "kind: cause: deep", []error{errKind, errCause}},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.text {
			t.Errorf("Error() = %q, want %q", got, tt.text)
		}
		for _, k := range tt.kinds {
			if !errors.Is(tt.err, k) {
				t.Errorf("%q is not %v", tt.err, k)
			}
		}
	}
	if errors.Is(New(errKind, "x"), errCause) {
		t.Error("an error without a cause matches another kind")
	}
}
