package api

import (
	"testing"
	"time"
)

func TestRandomRangeCoversItsEnds(t *testing.T) {
	r, err := parseRange("10-20")
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := time.Hour, time.Duration(0)
	for range 2000 {
		d := r.pick()
		if d < 10*time.Millisecond || d > 20*time.Millisecond || d%time.Millisecond != 0 {
			t.Fatalf("pick() = %v, want whole milliseconds in [10ms, 20ms]", d)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo != 10*time.Millisecond || hi != 20*time.Millisecond {
		t.Errorf("2000 picks spread over [%v, %v], want [10ms, 20ms]", lo, hi)
	}
	if fixed, _ := parseRange("7"); fixed.pick() != 7*time.Millisecond {
		t.Errorf("parseRange(7).pick() = %v, want 7ms", fixed.pick())
	}
}

func TestReleaseLetsOnlyTheChosenRequestGo(t *testing.T) {
	l := newLedger(true)
	a, dropA := l.hold(HeldRequest{Seq: 1})
	b, dropB := l.hold(HeldRequest{Seq: 2})
	defer dropA()
	defer dropB()
	if n := l.release(2); n != 1 {
		t.Errorf("release(2) = %d, want 1", n)
	}
	select {
	case <-b:
	default:
		t.Error("request 2 was not released")
	}
	select {
	case <-a:
		t.Error("request 1 was released too")
	default:
	}
	if got := l.snapshot().Held; len(got) != 1 || got[0].Seq != 1 {
		t.Errorf("held = %+v, want request 1 only", got)
	}
	dropA()
	if got := l.snapshot().Held; len(got) != 0 {
		t.Errorf("after drop, held = %+v, want none", got)
	}
	if n := l.release(0); n != 0 {
		t.Errorf("release(0) with nothing held = %d", n)
	}
}
