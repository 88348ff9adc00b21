package handles

import (
	"fmt"
	"sync"
	"testing"
)

func TestHandlesStartAtOneAndAreNeverReused(t *testing.T) {
	var tab Table[string]
	a, b := tab.Add("a"), tab.Add("b")
	if a != 1 || b != 2 {
		t.Fatalf("handles %d, %d; want 1, 2", a, b)
	}
	if v, ok := tab.Remove(a); !ok || v != "a" {
		t.Fatalf("Remove(%d) = %q, %t", a, v, ok)
	}
	if c := tab.Add("c"); c != 3 {
		t.Errorf("handle after a removal = %d, want 3", c)
	}
}

func TestUnknownHandlesFindNothing(t *testing.T) {
	var tab Table[int]
	h := tab.Add(7)
	tab.Remove(h)
	for _, handle := range []int{0, -1, h, h + 1} {
		if v, ok := tab.Get(handle); ok {
			t.Errorf("Get(%d) = %d, true; want nothing", handle, v)
		}
		if _, ok := tab.Remove(handle); ok {
			t.Errorf("Remove(%d) found a value", handle)
		}
	}
}

func TestConcurrentRemovalGivesTheValueToExactlyOne(t *testing.T) {
	var tab Table[string]
	const n = 200
	hs := make([]int, n)
	for i := range hs {
		hs[i] = tab.Add(fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, h := range hs {
				if _, ok := tab.Remove(h); ok {
					mu.Lock()
					got[h]++
					mu.Unlock()
				}
				tab.Get(h)
			}
		}()
	}
	wg.Wait()
	for _, h := range hs {
		if got[h] != 1 {
			t.Fatalf("handle %d removed %d times, want once", h, got[h])
		}
	}
	for h, v := range tab.All() {
		t.Errorf("All() yields %d: %q after removing all", h, v)
	}
}

func TestConcurrentAddsGetDistinctHandles(t *testing.T) {
	var tab Table[int]
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]bool{}
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				h := tab.Add(g*100 + i)
				mu.Lock()
				if seen[h] {
					t.Errorf("handle %d issued twice", h)
				}
				seen[h] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	n := 0
	for h, v := range tab.All() {
		if got, _ := tab.Get(h); got != v {
			t.Errorf("All() yields %d: %d, Get says %d", h, v, got)
		}
		n++
	}
	if n != 400 {
		t.Errorf("All() yields %d values, want 400", n)
	}
}

func ExampleTable() {
	var clients Table[string]
	h := clients.Add("https://api.example.com/graphql")
	endpoint, ok := clients.Get(h)
	fmt.Println(h, endpoint, ok)
	clients.Remove(h)
	_, ok = clients.Get(h)
	fmt.Println(ok)
	// Output:
	// 1 https://api.example.com/graphql true
	// false
}
