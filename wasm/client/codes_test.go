package client

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCodeCopiesMatchTheGoList holds the JavaScript copies of Codes to it:
// the set AuthError checks codes against, and the TypeScript union.
func TestCodeCopiesMatchTheGoList(t *testing.T) {
	want := make([]string, len(Codes))
	for i, c := range Codes {
		want[i] = string(c)
	}
	for _, tc := range []struct {
		file  string
		block *regexp.Regexp
	}{
		{"../../web/gqlauth.js", regexp.MustCompile(`(?s)const CODES = new Set\(\[(.*?)\]\);`)},
		{"../../web/gqlauth.d.ts", regexp.MustCompile(`(?s)export type AuthErrorCode =(.*?);`)},
	} {
		src, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		m := tc.block.FindSubmatch(src)
		if m == nil {
			t.Fatalf("%s: the list of codes is not where the test looks for it", tc.file)
		}
		var got []string
		for _, q := range regexp.MustCompile(`'([A-Z_]+)'`).FindAllStringSubmatch(string(m[1]), -1) {
			got = append(got, q[1])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s lists %s,\nthe Go list is %s", tc.file, strings.Join(got, ", "), strings.Join(want, ", "))
		}
	}
}

func TestEveryCodeIsListed(t *testing.T) {
	for _, c := range codes {
		if !slices.Contains(Codes, c.code) {
			t.Errorf("%s is used but not in Codes", c.code)
		}
	}
	if !slices.Contains(Codes, CodeInternal) {
		t.Error("CodeInternal is not in Codes")
	}
}
