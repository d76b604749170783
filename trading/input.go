package trading

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Text input is refused once, where it is decoded, before any handler or
// the database sees it: a NUL byte (PostgreSQL cannot store one, and no
// name or reason contains one) or bytes that are not UTF-8 (a GBK-encoded
// name would be stored as replacement characters and never match the
// bank's payer name, D2). The 400 names the field.

// CheckText refuses a NUL byte or invalid UTF-8 in the value of field.
func CheckText(field, s string) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "内容不是有效的 UTF-8 文本（请勿使用 GBK 等其他编码）")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Invalid(field, "内容含有空字符（NUL）")
	}
	return nil
}

// Clip is s cut to its first n characters (runes), for a column or a
// message that holds at most n.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// CheckInput is middleware (after routing, after the CSRF check) that
// applies CheckText to every path parameter, query parameter, form value
// (URL-encoded, or multipart once parsed) and JSON string (keys and values)
// of the request. Streamed multipart uploads are not read here: their
// readers check their small fields and the file name with CheckText.
func CheckInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := checkRequest(c); err != nil {
			return err
		}
		return next(c)
	}
}

func checkRequest(c echo.Context) error {
	names, values := c.ParamNames(), c.ParamValues()
	for i, name := range names {
		if i < len(values) {
			if err := CheckText(name, values[i]); err != nil {
				return err
			}
		}
	}
	if err := CheckText("url", c.Request().URL.RawQuery); err != nil {
		return err
	}
	if err := checkValues(c.QueryParams()); err != nil {
		return err
	}
	req := c.Request()
	if req.Body == nil || req.Method == http.MethodGet || req.Method == http.MethodHead {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	switch {
	case mt == "application/x-www-form-urlencoded":
		if err := req.ParseForm(); err != nil {
			return Invalid("body", "表单格式不正确")
		}
		return checkValues(req.PostForm)
	case mt == "multipart/form-data" && req.MultipartForm != nil:
		// A small form the CSRF check has already parsed; streaming uploads
		// are not parsed here (their readers call CheckText).
		return checkValues(req.MultipartForm.Value)
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return err // the body limit's 413, or a dropped connection
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		return checkJSONBody(body)
	}
	return nil
}

func checkValues(vs map[string][]string) error {
	keys := make([]string, 0, len(vs))
	for k := range vs {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same field is named whatever the map's order
	for _, k := range keys {
		if err := CheckText("parameter", k); err != nil {
			return err
		}
		for _, v := range vs[k] {
			if err := CheckText(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkJSONBody walks a JSON body and names the first string, key or value,
// that CheckText refuses ("lots[0].name"). A raw NUL byte inside a string
// makes the JSON invalid; it is looked for as an escaped one so that the
// field is still named. Bodies that are not JSON are left to the decoder.
func checkJSONBody(body []byte) error {
	if utf8.Valid(body) && bytes.IndexByte(body, 0) < 0 && !bytes.Contains(body, []byte(`\u0000`)) {
		return nil // the common case: nothing to find
	}
	walked := bytes.ReplaceAll(body, []byte{0}, []byte(`\u0000`))
	if err := walkJSON(walked, ""); err != nil {
		return err
	}
	if !utf8.Valid(body) {
		return Invalid("body", "请求体不是有效的 UTF-8 文本（请勿使用 GBK 等其他编码）")
	}
	if bytes.IndexByte(body, 0) >= 0 {
		return Invalid("body", "请求体含有空字符（NUL）")
	}
	return nil
}

func walkJSON(raw []byte, path string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	name := path
	if name == "" {
		name = "body"
	}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil // not JSON: the decoder says so
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			field := k
			if path != "" {
				field = path + "." + k
			}
			if err := CheckText(field, k); err != nil {
				return err
			}
			if err := walkJSON(m[k], field); err != nil {
				return err
			}
		}
	case '[':
		var a []json.RawMessage
		if json.Unmarshal(raw, &a) != nil {
			return nil
		}
		for i, v := range a {
			if err := walkJSON(v, name+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case '"':
		// The raw bytes, before unquoting turns invalid UTF-8 into U+FFFD.
		if !utf8.Valid(raw) {
			return CheckText(name, string(raw))
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		return CheckText(name, s)
	}
	return nil
}
