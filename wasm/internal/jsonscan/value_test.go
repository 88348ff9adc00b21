package jsonscan

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// tree reads v whole through Value's methods, as encoding/json decodes into
// any with UseNumber (numbers as float64 here; the last of a repeated name).
func tree(v Value) any {
	switch v.Kind() {
	case KindObject:
		m := map[string]any{}
		for name, member := range v.Members() {
			m[name] = tree(member)
		}
		return m
	case KindArray:
		l := []any{}
		for e := range v.Elements() {
			l = append(l, tree(e))
		}
		return l
	case KindString:
		if s, ok := v.Text(); ok {
			return s
		}
		return "no text"
	case KindNumber:
		f, ok := v.Float()
		if !ok {
			return "out of range"
		}
		return f
	case KindTrue, KindFalse:
		b, _ := v.Bool()
		return b
	case KindNull:
		return nil
	}
	return "no kind"
}

// fromJSON is encoding/json's reading of b, numbers made float64.
func fromJSON(t *testing.T, b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		t.Fatal(err)
	}
	var norm func(any) any
	norm = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				x[k] = norm(v)
			}
		case []any:
			for i, v := range x {
				x[i] = norm(v)
			}
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil || math.IsInf(f, 0) {
				return "out of range"
			}
			return f
		}
		return x
	}
	return norm(x)
}

func TestValue(t *testing.T) {
	body := []byte(` {"data": {"me": {"id": "1", "n": -1.5e2, "ok": true, "no": false, "x": null}},
		"errors": [{"message": "Un\u0061uthorized", "path": ["a", 0], "message": "last"}, "odd", [1, [2]]],
		"errors": [] } `)
	members, err := Object(body, 8)
	if err != nil {
		t.Fatal(err)
	}
	doc := Value(bytes.TrimSpace(body))
	if got, want := tree(doc), fromJSON(t, body); !reflect.DeepEqual(got, want) {
		t.Fatalf("read %v, encoding/json reads %v", got, want)
	}
	if e := doc.Get("errors"); string(e) != "[]" || string(Value(members[1].Value)) == "[]" {
		t.Errorf("Get(errors) = %s: the last of a repeated name counts", e)
	}
	first := Value(members[1].Value)
	var entries []Value
	for e := range first.Elements() {
		entries = append(entries, e)
	}
	if len(entries) != 3 {
		t.Fatalf("%d elements", len(entries))
	}
	if s, _ := entries[0].Get("message").Text(); s != "last" {
		t.Errorf("message = %q", s)
	}
	if s, ok := entries[1].Text(); s != "odd" || !ok {
		t.Errorf("Text() = %q, %t", s, ok)
	}
	if _, ok := entries[2].Text(); ok {
		t.Error("Text() of an array succeeded")
	}
	if f, ok := doc.Get("data").Get("me").Get("n").Float(); f != -150 || !ok {
		t.Errorf("Float() = %v, %t", f, ok)
	}
	if b, ok := doc.Get("data").Get("me").Get("ok").Bool(); !b || !ok {
		t.Errorf("Bool() = %t, %t", b, ok)
	}
	if v := doc.Get("missing"); v.Kind() != 0 || v.Get("x") != nil {
		t.Errorf("Get(missing) = %q", v)
	}
}

func TestValueNeverPanicsOnUncheckedText(t *testing.T) {
	for _, s := range []string{`{`, `{"a"`, `{"a":`, `{"a":1,`, `[`, `[1,`, `"`, `{"a":[}`, `{"a":"\`, `[tru`, `-`, `{"a" 1}`} {
		v := Value(s)
		_ = tree(v)
		_ = v.Get("a")
	}
	for _, s := range []string{`"a\"`, `"\u12"`, `"\u12`, `"\`, `"abc`, `"a"b"`} {
		if got, ok := Value(s).Text(); ok {
			t.Errorf("Value(%s).Text() = %q, true; want false", s, got)
		}
	}
	for _, s := range []string{`Infinity`, `-Inf`, `NaN`, `0x1p3`, `1_0`, `01`, `1.`, `-`, `1e`} {
		if got, ok := Value(s).Float(); ok {
			t.Errorf("Value(%s).Float() = %v, true; want false", s, got)
		}
	}
	for _, s := range []string{`tru`, `truex`, `fals`, `false `, `nul`} {
		if got, ok := Value(s).Bool(); ok {
			t.Errorf("Value(%s).Bool() = %v, true; want false", s, got)
		}
	}
	if k := Value(`<html>`).Kind(); k != 0 {
		t.Errorf("Value(<html>).Kind() = %v, want 0", k)
	}
}

// FuzzValueAgreesWithEncodingJSON holds Value's readings of any checked
// text to encoding/json's.
func FuzzValueAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",{"b":null}],"a":true}`, `{"\ud83d\ude00":"\ud800","c":"\u00e9\n"}`,
		`{"n":[0,-0.0,1e400,-12.5E-3]}`, `{"s":"a\"b\\c\/d"}`, "{\"a\":\"\xff\"}", `{ "a" : [ ] , "b" : { } }`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if CheckObject(b, 64) != nil {
			_ = tree(Value(b)) // nonsense, but no panic
			return
		}
		got := tree(Value(bytes.Trim(b, " \t\r\n")))
		if want := fromJSON(t, b); !reflect.DeepEqual(got, want) {
			t.Fatalf("Value(%q) reads %#v, encoding/json %#v", b, got, want)
		}
	})
}

func BenchmarkValue(b *testing.B) {
	entry := Value(`{"message":"Unauthorized","locations":[{"line":2,"column":3}],"path":["me"],` +
		`"extensions":{"code":"UNAUTHENTICATED"},"customer_facing":false}`)
	list := Value(`[` + strings.Repeat(`{"id":"1","name":"an item","done":true,"tags":["a","b"]},`, 1<<20/56) + `{}]`)
	b.Run("get/small", func(b *testing.B) {
		b.SetBytes(int64(len(entry)))
		for b.Loop() {
			if s, ok := entry.Get("extensions").Get("code").Text(); !ok || s != "UNAUTHENTICATED" {
				b.Fatal(s)
			}
		}
	})
	b.Run("elements/1MB", func(b *testing.B) {
		b.SetBytes(int64(len(list)))
		for b.Loop() {
			n := 0
			for e := range list.Elements() {
				if e.Get("id").Kind() == KindString {
					n++
				}
			}
			if n != 1<<20/56 {
				b.Fatal(n)
			}
		}
	})
}
