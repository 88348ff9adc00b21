package graphql

import (
	"encoding/json"
	"errors"
	"fmt"
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

// judgeOf feeds body to a Judge in pieces of size bytes.
func judgeOf(j Judge, body []byte, size int) (Verdict, error) {
	size = max(size, 1)
	for i := 0; i < len(body); i += size {
		j.Write(body[i:min(len(body), i+size)])
	}
	return j.End()
}

func TestJudgeReadsTheSeedsUnauthorized(t *testing.T) {
	got, err := judgeOf(Judge{}, []byte(seedUnauthorized), 7)
	want := Verdict{Errors: true, Unauthorized: true, Message: "Unauthorized"}
	if err != nil || got != want {
		t.Fatalf("Judge() = %+v, %v; want %+v", got, err, want)
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		judge   Judge
		want    Verdict
		wantErr error
	}{
		{"data only", `{"data":{"me":{"id":"1"}}}`, Judge{}, Verdict{}, nil},
		{"partial data with errors", `{"data":{"a":1,"b":null},"errors":[{"message":"boom","path":["b"]}]}`, Judge{}, Verdict{Errors: true, Message: "boom"}, nil},
		{"empty errors list", `{"data":{},"errors":[]}`, Judge{}, Verdict{}, nil},
		{"errors null", `{"data":{},"errors":null}`, Judge{}, Verdict{}, nil},
		{"unauthorized among others", `{"errors":[{"message":"nope"},{"message":"Unauthorized"}]}`, Judge{}, Verdict{Errors: true, Unauthorized: true, Message: "nope"}, nil},
		{"a nulled field", `{"data":{"me":null},"errors":[{"message":"Unauthorized","path":["me"]}]}`, Judge{}, Verdict{Errors: true, Unauthorized: true, Message: "Unauthorized"}, nil},
		{"Apollo's code", `{"errors":[{"message":"Log in","extensions":{"code":"UNAUTHENTICATED"}}]}`, Judge{}, Verdict{Errors: true, Unauthorized: true, Message: "Log in"}, nil},
		{"another code", `{"errors":[{"message":"no","extensions":{"code":"FORBIDDEN"}}]}`, Judge{}, Verdict{Errors: true, Message: "no"}, nil},
		{"Hasura's code, named", `{"errors":[{"extensions":{"code":"invalid-jwt"},"message":"Could not verify JWT"}]}`, Judge{Codes: []string{"invalid-jwt"}}, Verdict{Errors: true, Unauthorized: true, Message: "Could not verify JWT"}, nil},
		{"the default code, when others are named", `{"errors":[{"message":"x","extensions":{"code":"UNAUTHENTICATED"}}]}`, Judge{Codes: []string{"invalid-jwt"}}, Verdict{Errors: true, Message: "x"}, nil},
		{"a code not in extensions", `{"errors":[{"message":"x","code":"UNAUTHENTICATED","extensions":{"x":{"code":"UNAUTHENTICATED"}}}]}`, Judge{}, Verdict{Errors: true, Message: "x"}, nil},
		{"the last message of an entry counts", `{"errors":[{"message":"Unauthorized","message":"x"}]}`, Judge{}, Verdict{Errors: true, Message: "x"}, nil},
		{"the last errors counts", `{"errors":[{"message":"Unauthorized"}],"errors":[],"data":null}`, Judge{}, Verdict{}, nil},
		{"escaped names and text", `{"errors":[{"m\u0065ssage":"Un\u0061uthorized"}]}`, Judge{}, Verdict{Errors: true, Unauthorized: true, Message: "Unauthorized"}, nil},
		{"message only looks alike", `{"errors":[{"message":"Unauthorized access"}]}`, Judge{}, Verdict{Errors: true, Message: "Unauthorized access"}, nil},
		{"an entry that is not an object", `{"errors":["Unauthorized",{"message":"m"}]}`, Judge{}, Verdict{Errors: true}, nil},
		{"the field, present", `{"data":{"loginUser":{"id":"1"}}}`, Judge{Field: "loginUser"}, Verdict{Field: true}, nil},
		{"the field, null", `{"data":{"loginUser":null},"errors":[{"message":"bad password"}]}`, Judge{Field: "loginUser"}, Verdict{Errors: true, Message: "bad password"}, nil},
		{"the field, deeper", `{"data":{"x":{"loginUser":1}}}`, Judge{Field: "loginUser"}, Verdict{}, nil},
		{"the field, in the last data", `{"data":{"loginUser":1},"data":null}`, Judge{Field: "loginUser"}, Verdict{}, nil},
		{"deep nesting", `{"errors":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, Judge{}, Verdict{}, ErrBadResponse},
		{"nesting at the bound", `{"data":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, Judge{}, Verdict{}, nil},
		{"empty", ``, Judge{}, Verdict{}, ErrBadResponse},
		{"truncated", `{"data":{"me":{"id":"1"`, Judge{}, Verdict{}, ErrBadResponse},
		{"not an object", `[1,2]`, Judge{}, Verdict{}, ErrBadResponse},
		{"html", `<html>oops</html>`, Judge{}, Verdict{}, ErrBadResponse},
		{"neither data nor errors", `{"hello":"world"}`, Judge{}, Verdict{}, ErrBadResponse},
		{"errors not a list", `{"errors":"bad"}`, Judge{}, Verdict{}, ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{1, 3, 1 << 20} {
				got, err := judgeOf(tt.judge, []byte(tt.body), size)
				if !errors.Is(err, tt.wantErr) || got != tt.want {
					t.Fatalf("in pieces of %d: Judge() = %+v, %v; want %+v, %v", size, got, err, tt.want, tt.wantErr)
				}
			}
		})
	}
}

func ExampleJudge() {
	j := Judge{Field: "loginUser"}
	j.Write([]byte(`{"data":{"loginUser":null},"errors":[{"mess`))
	j.Write([]byte(`age":"Unauthorized","locations":[{"line":2,"column":3}]}]}`))
	v, err := j.End()
	fmt.Println(v.Errors, v.Unauthorized, v.Field, v.Message, err)
	// Output: true true false Unauthorized <nil>
}

// reference says what Judge must say of body, read with encoding/json (in
// tests only): as JSON.parse reads it, the last of a repeated name counts.
func reference(body []byte, codes []string, field string) (Verdict, bool) {
	if !json.Valid(body) || depth(body) > MaxDepth {
		return Verdict{}, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil || top == nil {
		return Verdict{}, false
	}
	data, hasData := top["data"]
	errs, hasErrors := top["errors"]
	if !hasData && !hasErrors {
		return Verdict{}, false
	}
	var v Verdict
	var list []json.RawMessage
	if hasErrors && json.Unmarshal(errs, &list) != nil {
		return Verdict{}, false
	}
	for i, raw := range list {
		v.Errors = true
		var e struct {
			Message    json.RawMessage `json:"message"`
			Extensions json.RawMessage `json:"extensions"`
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil || fields == nil {
			continue
		}
		e.Message, e.Extensions = fields["message"], fields["extensions"]
		var message string
		isText := json.Unmarshal(e.Message, &message) == nil && len(e.Message) > 0 && e.Message[0] == '"'
		if i == 0 && isText && len(e.Message)-2 <= 256 { // jsonscan.Visit.Text's bound
			v.Message = message
		}
		if isText && message == UnauthorizedMessage {
			v.Unauthorized = true
		}
		var ext map[string]json.RawMessage
		var code string
		if json.Unmarshal(e.Extensions, &ext) == nil && ext != nil && len(ext["code"]) > 0 && ext["code"][0] == '"' && json.Unmarshal(ext["code"], &code) == nil {
			for _, c := range codes {
				v.Unauthorized = v.Unauthorized || code == c
			}
		}
	}
	var members map[string]json.RawMessage
	if field != "" && json.Unmarshal(data, &members) == nil && members != nil {
		raw, ok := members[field]
		v.Field = ok && string(raw) != "null"
	}
	return v, true
}

// depth is how deeply arrays and objects nest in valid JSON text.
func depth(b []byte) int {
	d, most, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			d++
			most = max(most, d)
		case c == ']' || c == '}':
			d--
		}
	}
	return most
}

// FuzzJudgeAgreesWithEncodingJSON holds Judge, fed the body in pieces, to
// what encoding/json reads of the whole body.
func FuzzJudgeAgreesWithEncodingJSON(f *testing.F) {
	for _, seed := range []string{seedUnauthorized, `{"data":{"me":null}}`, `{"data":`, ``, `[]`, `{"errors":[1,"x",{"locations":[{"line":"a"}]}]}`,
		`{"errors":[{"message":"Unauthorized","message":"x"}]}`, `{"errors":[{"message":"x","message":"Unauthorized"}],"data":null}`,
		`{"errors":[{"message":"Unauthorized"}],"errors":[]}`, `{"data":{},"data":null,"errors":[{"m\u0065ssage":"Un\u0061uthorized"}]}`,
		`{"errors":[[{"message":"Unauthorized"}]]}`, `{"errors":{"a":{"message":"Unauthorized"}}}`, `{"errors":null}`,
		`{"errors":[{"message":"x","extensions":{"code":"UNAUTHENTICATED"}}]}`, `{"data":{"loginUser":{"id":"1"}}}`,
		`{"errors":[{"extensions":{"code":"UNAUTHENTICATED","code":1}}]}`, `{"errors":[{"extensions":{"code":"UNAUTHENTICATED"},"extensions":{}}]}`,
		`{"data":{"loginUser":null,"loginUser":2}}`} {
		f.Add([]byte(seed), uint8(3))
	}
	codes := []string{"UNAUTHENTICATED", "invalid-jwt"}
	f.Fuzz(func(t *testing.T, body []byte, size uint8) {
		want, ok := reference(body, codes, "loginUser")
		got, err := judgeOf(Judge{Codes: codes, Field: "loginUser"}, body, int(size))
		if (err == nil) != ok {
			t.Fatalf("Judge(%q): %v; encoding/json says valid = %t", body, err, ok)
		}
		if ok && !utf8.Valid(body) {
			return // encoding/json replaces invalid UTF-8 where Judge compares bytes
		}
		if ok && got != want {
			t.Fatalf("Judge(%q) = %+v; encoding/json says %+v", body, got, want)
		}
	})
}
