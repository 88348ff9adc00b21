// Package fault makes the module's errors: a sentinel that errors.Is finds,
// the detail that says what went wrong, and, optionally, the error behind
// it, whose sentinels errors.Is finds too. It is what fmt.Errorf("%w: %s")
// and fmt.Errorf("%w: %w") gave, without package fmt, which would add 0.7 MB
// to the module.
//
// It is pure Go: it must not import syscall/js, net/http or fmt.
package fault

// New returns an error of kind whose text is "kind: detail".
func New(kind error, detail string) error {
	return &failure{kind: kind, detail: detail}
}

// Wrap returns an error of kind, and of cause's kinds, whose text is
// "kind: detail: cause", or "kind: cause" when detail is empty.
func Wrap(kind error, detail string, cause error) error {
	return &failure{kind: kind, detail: detail, cause: cause}
}

type failure struct {
	kind   error
	detail string
	cause  error
}

func (f *failure) Error() string {
	s := f.kind.Error()
	if f.detail != "" {
		s += ": " + f.detail
	}
	if f.cause != nil {
		s += ": " + f.cause.Error()
	}
	return s
}

func (f *failure) Unwrap() []error {
	if f.cause == nil {
		return []error{f.kind}
	}
	return []error{f.kind, f.cause}
}
