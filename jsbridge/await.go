//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// ErrRejected wraps the reason a Promise was rejected with, described as a
// string (the reason itself may be hostile and is not kept).
var ErrRejected = errors.New("promise rejected")

// Await waits for p (a Promise, a thenable or a plain value) to settle and
// returns its value. A rejection is an error wrapping ErrRejected. When ctx
// ends first (or has ended), Await returns context.Cause(ctx) at once; the
// Promise's later settlement, a rejection included, is handled and ignored.
// The goroutine blocks; JavaScript runs meanwhile.
//
// A wait costs one JavaScript call (p.then) and one call back into Go: it
// takes a numbered slot whose settle functions were bound once, when the
// slot was made, so no js.Func and no function is made per wait.
func Await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	if err := Init(); err != nil {
		return safejs.Value{}, err
	}
	w, err := waits.take()
	if err != nil {
		return safejs.Value{}, err
	}
	defer waits.give(w)
	// A native Promise settles once; anything else (a value, a thenable
	// that might call back twice) is made one first.
	promise := p
	if native, _ := p.InstanceOf(builtins.promise); !native {
		promise, err = builtins.promise.Call("resolve", p)
	}
	if err == nil {
		_, err = promise.Call("then", w.onFulfilled, w.onRejected)
	}
	if err != nil {
		return safejs.Value{}, fmt.Errorf("%w: %s", ErrRejected, "not a promise that can be awaited")
	}
	select {
	case s := <-w.ch:
		if !s.ok {
			return safejs.Value{}, fmt.Errorf("%w: %s", ErrRejected, Describe(s.value))
		}
		return s.value, nil
	case <-ctx.Done():
		return safejs.Value{}, context.Cause(ctx)
	}
}

type settlement struct {
	value safejs.Value
	ok    bool
}

// wait is one slot of the wait list: the functions a promise settles
// through (settle, bound once to the slot's number) and the channel the
// waiting goroutine reads. A slot is reused once its promise has settled.
// A wait that gave up (its context ended) retires its slot instead: the
// promise may still settle, and that late settlement must not reach the
// slot's next wait. The settlement then frees the slot.
type wait struct {
	id                      int
	onFulfilled, onRejected safejs.Value
	ch                      chan settlement
	settled                 bool // the promise settled (the value may be unread)
	retired                 bool
}

// waitList holds the slots: waiting, retired or free.
type waitList struct {
	mu      sync.Mutex
	slots   []*wait // by id
	free    []*wait
	waiting int
	settle  *Func // settle(id, ok, value), made by Init
}

var waits waitList

func (l *waitList) take() (*wait, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var w *wait
	if n := len(l.free); n > 0 {
		w, l.free = l.free[n-1], l.free[:n-1]
	} else {
		w = &wait{id: len(l.slots), ch: make(chan settlement, 1)}
		var err error
		if w.onFulfilled, err = l.settle.Value().Call("bind", nil, w.id, true); err != nil {
			return nil, err
		}
		if w.onRejected, err = l.settle.Value().Call("bind", nil, w.id, false); err != nil {
			return nil, err
		}
		l.slots = append(l.slots, w)
	}
	l.waiting++
	return w, nil
}

// give ends the wait on w: the slot is free again if its promise settled,
// retired until it does otherwise.
func (l *waitList) give(w *wait) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waiting--
	select {
	case <-w.ch: // settled, unread: the wait gave up just as it came
	default:
		if !w.settled {
			w.retired = true
			return
		}
	}
	w.settled = false
	l.free = append(l.free, w)
}

// pendingCount is how many Awaits are waiting, for Stats.
func (l *waitList) pendingCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiting
}

// settleWait is the JS callback every Await's promise settles through:
// settle(id, ok, value), bound per slot. It hands the settlement to the
// slot's wait, or, for a retired slot, drops it and frees the slot.
func settleWait(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 3 {
		return nil, nil
	}
	id, err := args[0].Int()
	if err != nil {
		return nil, nil
	}
	ok, _ := args[1].Bool()
	waits.mu.Lock()
	defer waits.mu.Unlock()
	if id < 0 || id >= len(waits.slots) {
		return nil, nil
	}
	w := waits.slots[id]
	switch {
	case w.retired:
		w.retired = false
		waits.free = append(waits.free, w)
	case !w.settled:
		w.settled = true
		w.ch <- settlement{value: args[2], ok: ok}
	}
	return nil, nil
}
