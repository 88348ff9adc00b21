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
// Every Await shares one settle function, bound to the wait's number with
// Function.prototype.bind, so a wait costs no js.Func.
func Await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	if err := Init(); err != nil {
		return safejs.Value{}, err
	}
	id, ch, err := waits.add()
	if err != nil {
		return safejs.Value{}, err
	}
	defer waits.remove(id)
	onFulfilled, err := waits.settle.Value().Call("bind", nil, id, true)
	if err != nil {
		return safejs.Value{}, err
	}
	onRejected, err := waits.settle.Value().Call("bind", nil, id, false)
	if err != nil {
		return safejs.Value{}, err
	}
	promise, err := builtins.promise.Call("resolve", p)
	if err == nil {
		_, err = promise.Call("then", onFulfilled, onRejected)
	}
	if err != nil {
		return safejs.Value{}, fmt.Errorf("%w: %s", ErrRejected, "not a promise that can be awaited")
	}
	select {
	case s := <-ch:
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

// waitList numbers the Awaits under way.
type waitList struct {
	mu      sync.Mutex
	last    int
	pending map[int]chan settlement
	settle  *Func // settle(id, ok, value), bound per wait
}

var waits waitList

func (w *waitList) add() (int, chan settlement, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.settle == nil {
		f, err := FuncOf(settleWait, func(error) any { return nil })
		if err != nil {
			return 0, nil, err
		}
		w.settle, w.pending = f, map[int]chan settlement{}
	}
	w.last++
	ch := make(chan settlement, 1)
	w.pending[w.last] = ch
	return w.last, ch, nil
}

func (w *waitList) remove(id int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.pending, id)
}

// pendingCount is how many Awaits are waiting, for Stats.
func (w *waitList) pendingCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// settleWait is the JS callback every Await's promise settles through:
// settle(id, ok, value). A wait that gave up (its context ended) is gone
// from the list, and its late settlement is dropped.
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
	ch := waits.pending[id]
	delete(waits.pending, id)
	waits.mu.Unlock()
	if ch != nil {
		ch <- settlement{value: args[2], ok: ok}
	}
	return nil, nil
}
