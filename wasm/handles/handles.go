// Package handles numbers the Go values JavaScript refers to. What crosses
// to JavaScript is a small positive integer, never a Go pointer and never a
// function made per value, and a handle that was removed (or never issued)
// finds nothing.
//
// It is pure Go: it must not import syscall/js or net/http.
package handles

import (
	"iter"
	"maps"
	"sync"
)

// Table maps handles to values. Handles start at 1 and are never reused. The
// zero Table is empty and ready to use; it is safe for concurrent use.
type Table[T any] struct {
	mu     sync.Mutex
	last   int
	values map[int]T
}

// Add stores v and returns its new handle.
func (t *Table[T]) Add(v T) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.values == nil {
		t.values = map[int]T{}
	}
	t.last++
	t.values[t.last] = v
	return t.last
}

// Get returns the value stored under h, and whether there is one.
func (t *Table[T]) Get(h int) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.values[h]
	return v, ok
}

// Remove deletes h and returns the value it held, and whether there was
// one: of several calls racing to remove a handle, exactly one gets it.
func (t *Table[T]) Remove(h int) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.values[h]
	delete(t.values, h)
	return v, ok
}

// All yields the handles and values stored when it is called, in no
// particular order. Changes made while it runs do not affect it.
func (t *Table[T]) All() iter.Seq2[int, T] {
	t.mu.Lock()
	snapshot := maps.Clone(t.values)
	t.mu.Unlock()
	return maps.All(snapshot)
}
