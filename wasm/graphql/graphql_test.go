package graphql

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name    string
		req     Request
		want    string
		wantErr error
	}{
		{"query only", Request{Query: "{ me { id } }"}, `{"query":"{ me { id } }"}`, nil},
		{"variables kept as sent", Request{Query: "q", Variables: []byte(`{"a":[1,{"b":null}]}`)}, `{"query":"q","variables":{"a":[1,{"b":null}]}}`, nil},
		{"null variables are none", Request{Query: "q", Variables: []byte("null")}, `{"query":"q"}`, nil},
		{"operation name", Request{Query: "query A { a } query B { b }", OperationName: "B"}, `{"query":"query A { a } query B { b }","operationName":"B"}`, nil},
		{"quotes and newlines escaped", Request{Query: "{\n  a(s: \"x\")\n}"}, `{"query":"{\n  a(s: \"x\")\n}"}`, nil},
		{"variables an array", Request{Query: "q", Variables: []byte(`[1]`)}, "", ErrInvalidVariables},
		{"variables not JSON", Request{Query: "q", Variables: []byte(`{a:1}`)}, "", ErrInvalidVariables},
		{"variables trailing garbage", Request{Query: "q", Variables: []byte(`{"a":1}}`)}, "", ErrInvalidVariables},
		{"variables nested too deeply", Request{Query: "q", Variables: []byte(`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`)}, "", ErrInvalidVariables},
		{"control characters and U+2028 escaped", Request{Query: "a\x01\u2028b"}, `{"query":"a\u0001\u2028b"}`, nil},
		{"invalid UTF-8 replaced", Request{Query: "a\xffb"}, `{"query":"a\ufffdb"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.Encode()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Encode() error = %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("Encode() = %s, want %s", got, tt.want)
			}
			if err == nil && !json.Valid(got) {
				t.Errorf("Encode() produced invalid JSON %s", got)
			}
		})
	}
}

// The seed's Unauthorized answer, byte for byte.
const seedUnauthorized = `{
  "errors": [
    {
      "message": "Unauthorized",
      "locations": [
        {
          "line": 2,
          "column": 3
        }
      ],
      "customer_facing": false
    }
  ]
}`

func TestParseResponseReadsSeedUnauthorized(t *testing.T) {
	r, err := ParseResponse([]byte(seedUnauthorized))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Unauthorized(nil) {
		t.Fatal("Unauthorized() = false for the seed's answer")
	}
	f := false
	want := []Error{{Message: "Unauthorized", Locations: []Location{{2, 3}}, CustomerFacing: &f}}
	if got := r.Errors(); !reflect.DeepEqual(got, want) {
		t.Errorf("Errors() = %+v, want %+v", got, want)
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(r.ErrorsJSON()), &raw); err != nil || raw[0]["customer_facing"] != false {
		t.Errorf("ErrorsJSON() = %s, want the list as sent", r.ErrorsJSON())
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name             string
		body             string
		wantErr          error
		wantErrors       bool
		wantUnauthorized bool
	}{
		{"data only", `{"data":{"me":{"id":"1"}}}`, nil, false, false},
		{"partial data with errors", `{"data":{"a":1,"b":null},"errors":[{"message":"boom","path":["b"]}]}`, nil, true, false},
		{"empty errors list", `{"data":{},"errors":[]}`, nil, false, false},
		{"unauthorized among others", `{"errors":[{"message":"nope"},{"message":"Unauthorized"}]}`, nil, true, true},
		{"unauthorized with data null", `{"data":null,"errors":[{"message":"Unauthorized"}]}`, nil, true, true},
		{"unauthorized field error with data", `{"data":{"me":{"id":"1"},"restricted":null},"errors":[{"message":"Unauthorized","path":["restricted"]}]}`, nil, true, true},
		{"Apollo's code", `{"data":{"me":null},"errors":[{"message":"You must be logged in","extensions":{"code":"UNAUTHENTICATED"}}]}`, nil, true, true},
		{"another code", `{"errors":[{"message":"no","extensions":{"code":"FORBIDDEN"}}]}`, nil, true, false},
		{"deep nesting", `{"errors":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, ErrBadResponse, false, false},
		{"nesting at the bound", `{"data":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, nil, false, false},
		{"message only looks alike", `{"errors":[{"message":"Unauthorized access"}]}`, nil, true, false},
		{"empty", ``, ErrBadResponse, false, false},
		{"truncated", `{"data":{"me":{"id":"1"`, ErrBadResponse, false, false},
		{"not an object", `[1,2]`, ErrBadResponse, false, false},
		{"html", `<html>oops</html>`, ErrBadResponse, false, false},
		{"neither data nor errors", `{"hello":"world"}`, ErrBadResponse, false, false},
		{"errors not a list", `{"errors":"bad"}`, ErrBadResponse, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseResponse() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := r.HasErrors(); got != tt.wantErrors {
				t.Errorf("HasErrors() = %t, want %t", got, tt.wantErrors)
			}
			if got := r.Unauthorized(DefaultRefusalCodes); got != tt.wantUnauthorized {
				t.Errorf("Unauthorized() = %t, want %t", got, tt.wantUnauthorized)
			}
		})
	}
}

func TestErrorsKeepPathAndExtensions(t *testing.T) {
	r, err := ParseResponse([]byte(`{"data":null,"errors":[{"message":"m","path":["items",3,"name"],"extensions":{"code":"X"},"customer_facing":true},"odd"]}`))
	if err != nil {
		t.Fatal(err)
	}
	tr := true
	want := []Error{
		{Message: "m", Path: []any{"items", 3, "name"}, Extensions: `{"code":"X"}`, CustomerFacing: &tr},
		{Message: `"odd"`},
	}
	if got := r.Errors(); !reflect.DeepEqual(got, want) {
		t.Errorf("Errors() = %+v, want %+v", got, want)
	}
}

func TestDataField(t *testing.T) {
	r, err := ParseResponse([]byte(`{"data":{"loginUser":{"id":"1"},"nothing":null,"a.b":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"loginUser": `{"id":"1"}`, "nothing": "", "missing": "", "a.b": "2"} {
		if got := r.DataField(name); got != want {
			t.Errorf("DataField(%q) = %q, want %q", name, got, want)
		}
	}
}

func ExampleParseResponse() {
	r, err := ParseResponse([]byte(`{"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Unauthorized(DefaultRefusalCodes), r.Errors()[0].Locations)
	// Output: true [{2 3}]
}

func FuzzParseResponse(f *testing.F) {
	for _, seed := range []string{seedUnauthorized, `{"data":{"me":null}}`, `{"data":`, ``, `[]`, `{"errors":[1,"x",{"locations":[{"line":"a"}]}]}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseResponse(body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, e := range r.Errors() {
			_ = e.Error()
		}
		_ = r.Unauthorized(DefaultRefusalCodes)
		_ = r.DataField("loginUser")
		if r.HasErrors() && !json.Valid([]byte(r.ErrorsJSON())) {
			t.Fatalf("ErrorsJSON() = %q is not JSON", r.ErrorsJSON())
		}
	})
}

func FuzzEncode(f *testing.F) {
	f.Add("{ me { id } }", `{"a":1}`, "")
	f.Add("q\x00\xff", `null`, "Op")
	f.Fuzz(func(t *testing.T, query, vars, op string) {
		body, err := Request{Query: query, Variables: []byte(vars), OperationName: op}.Encode()
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("Encode() = %q is not JSON", body)
		}
		var got struct {
			Query         string `json:"query"`
			OperationName string `json:"operationName"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		var want string
		quoted, _ := json.Marshal(query)
		_ = json.Unmarshal(quoted, &want)
		if got.Query != want {
			t.Fatalf("the body %q does not carry the query %q", body, query)
		}
		if utf8.ValidString(op) && got.OperationName != op {
			t.Fatalf("the body %q does not carry the operation name %q", body, op)
		}
	})
}

// AppendString must quote exactly as encoding/json does (with HTML
// escaping off), for strings and byte slices alike.
func FuzzAppendStringAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"\\\n\r\t\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "é😀<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want strings.Builder
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		w := strings.TrimSuffix(want.String(), "\n")
		if got := string(AppendString(nil, s)); got != w {
			t.Fatalf("AppendString(%q) = %s, encoding/json says %s", s, got, w)
		}
		if got := string(AppendBytes([]byte("x"), []byte(s))); got != "x"+w {
			t.Fatalf("AppendBytes(%q) = %s, want x%s", s, got, w)
		}
	})
}

// FuzzJudgeAgreesWithParseResponse holds Judge, fed the body in pieces, to
// ParseResponse and Unauthorized on the whole body.
func FuzzJudgeAgreesWithParseResponse(f *testing.F) {
	for _, seed := range []string{seedUnauthorized, `{"data":{"me":null}}`, `{"data":`, ``, `[]`, `{"errors":[1,"x",{"locations":[{"line":"a"}]}]}`,
		`{"errors":[{"message":"Unauthorized","message":"x"}]}`, `{"errors":[{"message":"x","message":"Unauthorized"}],"data":null}`,
		`{"errors":[{"message":"Unauthorized"}],"errors":[]}`, `{"data":{},"data":null,"errors":[{"m\u0065ssage":"Un\u0061uthorized"}]}`,
		`{"errors":[[{"message":"Unauthorized"}]]}`, `{"errors":{"a":{"message":"Unauthorized"}}}`, `{"errors":null}`,
		`{"errors":[{"message":"x","extensions":{"code":"UNAUTHENTICATED"}}]}`,
		`{"errors":[{"extensions":{"code":"UNAUTHENTICATED","code":1}}]}`, `{"errors":[{"extensions":{"code":"UNAUTHENTICATED"},"extensions":{}}]}`,
		`{"errors":[{"extensions":{"code":"UNAUTHENT\u0049CATED","x":{"code":"no"}}}]}`} {
		f.Add([]byte(seed), uint8(3))
	}
	f.Fuzz(func(t *testing.T, body []byte, size uint8) {
		r, want := ParseResponse(body)
		var j Judge
		for i := 0; i < len(body); i += max(1, int(size)) {
			j.Write(body[i:min(len(body), i+max(1, int(size)))])
		}
		unauthorized, err := j.End()
		if (err == nil) != (want == nil) {
			t.Fatalf("Judge(%q): %v, ParseResponse says %v", body, err, want)
		}
		if want == nil && unauthorized != r.Unauthorized(DefaultRefusalCodes) {
			t.Fatalf("Judge(%q) unauthorized = %t, Unauthorized() = %t", body, unauthorized, r.Unauthorized(DefaultRefusalCodes))
		}
	})
}

func TestJudge(t *testing.T) {
	for body, want := range map[string]bool{
		seedUnauthorized: true,
		`{"data":{"me":{"id":"1"},"restricted":null},"errors":[{"message":"Unauthorized","path":["restricted"]}]}`: true,
		`{"data":{"me":{"id":"1"}},"errors":[{"message":"boom","path":["x"]}]}`:                                    false,
		`{"errors":[{"message":"Unauthorized","message":"x"}]}`:                                                    false,
		`{"errors":[{"message":"x","message":"Unauthorized"}],"data":null}`:                                        true,
		`{"errors":[{"message":"Unauthorized access"}]}`:                                                           false,
		`{"errors":[{"message":"Log in","extensions":{"code":"UNAUTHENTICATED"}}]}`:                                true,
		`{"errors":[{"message":"Log in","extensions":{"code":"UNAUTHENTICATED"},"extensions":null}]}`:              false,
		`{"errors":[{"message":"Log in","extensions":{"x":{"code":"UNAUTHENTICATED"}}}]}`:                          false,
	} {
		var j Judge
		for i := 0; i < len(body); i += 5 {
			j.Write([]byte(body[i:min(len(body), i+5)]))
		}
		if got, err := j.End(); got != want || err != nil {
			t.Errorf("Judge(%s) = %t, %v; want %t", body, got, err, want)
		}
	}
	j := Judge{Codes: []string{"invalid-jwt"}}
	j.Write([]byte(`{"errors":[{"message":"Could not verify JWT","extensions":{"code":"invalid-jwt"}}]}`))
	if got, err := j.End(); !got || err != nil {
		t.Errorf("Judge with Hasura's code = %t, %v; want true", got, err)
	}
	var empty Judge
	if _, err := empty.End(); !errors.Is(err, ErrBadResponse) {
		t.Errorf("an empty body: %v, want ErrBadResponse", err)
	}
}
