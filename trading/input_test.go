package trading

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckJSONBodyNamesTheField(t *testing.T) {
	t.Parallel()
	gbk := "\xb8\xa3\xd6\xdd" // 福州 in GBK
	tests := []struct {
		body, field string
	}{
		{`{"name":"福州市建设有限公司"}`, ""},
		{`{"name":"` + gbk + `"}`, "name"},
		{`{"name":"a\u0000b"}`, "name"},
		{"{\"name\":\"a\x00b\"}", "name"}, // a raw NUL: invalid JSON, yet the field is named
		{`{"lots":[{"name":"一标段"},{"name":"` + gbk + `"}]}`, "lots[1].name"},
		{`{"declarations":{"a\u0000":true}}`, "declarations.a\x00"},
		{`{"` + gbk + `":1}`, "body"}, // a key that is not UTF-8
		{`["x","` + gbk + `"]`, "body[1]"},
		{`{"note":"\ud800"}`, ""}, // a lone surrogate decodes to U+FFFD, which is text
	}
	for _, tt := range tests {
		err := checkJSONBody([]byte(tt.body))
		if tt.field == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.body, err)
			}
			continue
		}
		if de := AsError(err); err == nil || de.Kind != KindInvalid || de.Field != tt.field {
			t.Errorf("%q: want 400 naming %q, got %v", tt.body, tt.field, err)
		}
	}
}

// Whatever checkJSONBody lets through decodes to strings with no NUL and
// came as UTF-8.
func FuzzCheckJSONBody(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":["\u0000"]}`, "{\"a\":\"\xff\"}", `[{"k":{"x":"y"}}]`, `"s"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if checkJSONBody(body) != nil {
			return
		}
		if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
			t.Fatalf("let through %q", body)
		}
		var v any
		if json.Unmarshal(body, &v) == nil && hasNUL(v) {
			t.Fatalf("let through a NUL: %q", body)
		}
	})
}

func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	}
	return false
}
