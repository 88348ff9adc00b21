package api

import (
	"errors"
	"fmt"
	"sync/atomic"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// Defaults of Limits, used for its fields left zero. They leave room for
// every query the demo, the tests and the benchmarks send: the deepest
// field of the schema is at depth 3, the largest blob they ask for is
// 10 MiB, and no query of theirs is longer than a few KB.
const (
	// DefaultMaxQueryBytes is the default of Limits.QueryBytes.
	DefaultMaxQueryBytes = 64 << 10
	// DefaultMaxDepth is the default of Limits.Depth: the schema's deepest
	// field is at depth 3; the rest is room for introspection.
	DefaultMaxDepth = 15
	// DefaultMaxSelections is the default of Limits.Selections.
	DefaultMaxSelections = 5000
	// DefaultMaxOverlapPairs is the default of Limits.OverlapPairs.
	DefaultMaxOverlapPairs = 10000
	// DefaultMaxAnswerBytes is the default of Limits.AnswerBytes: one blob
	// of MaxBlobBytes fits, and the answer stays under the 32 MiB the
	// client accepts by default.
	DefaultMaxAnswerBytes = 16 << 20
)

// Limits bound what one /graphql request can cost the server, with or
// without a token. A request over a limit is answered 200 with a GraphQL
// error and nothing else runs; the answer budget alone lets the fields
// that fit run, and fails the others. A zero field takes its default, the
// DefaultMax… constant of the same name; New refuses negative ones.
type Limits struct {
	// QueryBytes is the longest query document accepted, in bytes, checked
	// before the document is parsed. POST bodies are also bounded by
	// MaxBodyBytes.
	QueryBytes int
	// Depth is the deepest nesting of fields an operation may have: in
	// { me { id } }, id is at depth 2. Fragments add no depth of their own.
	Depth int
	// Selections is the most selections (fields, fragment spreads and
	// inline fragments, counted after spreading fragments) an operation
	// may expand to, checked before any resolver runs. It bounds the number
	// of fields, aliases included, an answer can hold.
	Selections int
	// OverlapPairs is the most pairs of selections with the same response
	// name that validation compares ("fields can be merged"). The work is
	// quadratic in the number of repeats of one name: 8000 repeats of
	// me { id } make 32 million pairs.
	OverlapPairs int
	// AnswerBytes is the budget of each request's answer, in bytes: blob
	// draws the length of its string, items an upper bound of the JSON of
	// the nodes it returns, before making them. A field that finds the
	// budget short fails with a field error and takes nothing. Every other
	// field answers at most a few hundred bytes, and Selections bounds
	// their number.
	AnswerBytes int
}

// withDefaults returns l with its zero fields set to their defaults, or an
// error naming a negative one.
func (l Limits) withDefaults() (Limits, error) {
	for _, f := range []struct {
		name  string
		value *int
		def   int
	}{
		{"QueryBytes", &l.QueryBytes, DefaultMaxQueryBytes},
		{"Depth", &l.Depth, DefaultMaxDepth},
		{"Selections", &l.Selections, DefaultMaxSelections},
		{"OverlapPairs", &l.OverlapPairs, DefaultMaxOverlapPairs},
		{"AnswerBytes", &l.AnswerBytes, DefaultMaxAnswerBytes},
	} {
		switch {
		case *f.value < 0:
			return l, fmt.Errorf("limit %s is %d: use a positive number, or 0 for the default %d", f.name, *f.value, f.def)
		case *f.value == 0:
			*f.value = f.def
		}
	}
	return l, nil
}

// schemaOptions are the engine's own limits, the same for every schema:
// the public one validates the same untrusted queries as the others.
func (l Limits) schemaOptions() []graphql.SchemaOpt {
	return []graphql.SchemaOpt{
		graphql.MaxQueryLength(l.QueryBytes),
		graphql.MaxDepth(l.Depth),
		graphql.MaxSelections(l.Selections),
		graphql.OverlapValidationLimit(l.OverlapPairs),
	}
}

// queryTooLong is the error for a query longer than l.QueryBytes, or nil.
// The engine checks the same limit, but its message does not say what to do.
func (l Limits) queryTooLong(query string) *gqlerrors.QueryError {
	if len(query) <= l.QueryBytes {
		return nil
	}
	return &gqlerrors.QueryError{Message: fmt.Sprintf(
		"the query is %d bytes long, more than the limit of %d: send a shorter query, or split it into several requests",
		len(query), l.QueryBytes)}
}

// Rules the engine names in the errors of its validation limits.
const (
	ruleOverlapLimit = "OverlapValidationLimitExceeded"
	ruleDepthLimit   = "MaxDepthExceeded"
)

// explain rewrites, in place, the engine's errors for its limits so that
// they tell the client what to do; it leaves other errors as they are.
func (l Limits) explain(errs []*gqlerrors.QueryError) {
	for _, e := range errs {
		switch {
		case e.Rule == ruleOverlapLimit:
			e.Message = fmt.Sprintf("the query repeats fields under one name too often to validate (more than %d pairs to compare): "+
				"ask for each field once in a selection set, or give the repeats distinct aliases", l.OverlapPairs)
		case e.Rule == ruleDepthLimit:
			e.Message += ": nest fields less deeply"
		case errors.Is(e, graphql.ErrTooManySelections):
			e.Message = fmt.Sprintf("the query expands to more than %d selections: ask for fewer fields, "+
				"or split the query into several requests", l.Selections)
		}
	}
}

// answerBudget is the number of bytes a request's answer may still take.
// Resolvers running in parallel draw from it.
type answerBudget struct {
	limit int64
	left  atomic.Int64
}

func newAnswerBudget(limit int) *answerBudget {
	b := &answerBudget{limit: int64(limit)}
	b.left.Store(int64(limit))
	return b
}

// spend takes n bytes from the budget, or fails and takes nothing when
// fewer than n are left. A nil budget has no limit.
func (b *answerBudget) spend(n int64) error {
	if b == nil {
		return nil
	}
	for {
		left := b.left.Load()
		if n > left {
			return fmt.Errorf("the answer would be larger than the limit of %d bytes: "+
				"ask for less in one request (fewer or smaller blob fields, smaller items pages)", b.limit)
		}
		if b.left.CompareAndSwap(left, left-n) {
			return nil
		}
	}
}

// jsonNodeOverhead is the most a node of items adds to the answer besides
// its text: {"id":"","name":""}, a comma, and a little more.
const jsonNodeOverhead = 32

// itemAnswerBytes is an upper bound of the JSON of it as a node of items
// with both its fields: six bytes per byte of text (the longest escape,
// \u00XX) plus the punctuation.
func itemAnswerBytes(it item) int64 {
	return int64(6*(len(it.id)+len(it.name)) + jsonNodeOverhead)
}
