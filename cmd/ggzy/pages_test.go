package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The layout links a favicon served, like every static file, at a
// checksummed URL; /favicon.ico leads there.
func TestFaviconAtAChecksummedURL(t *testing.T) {
	t.Parallel()
	_, srv := newTestServer(t, testConfig(t))
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`<link rel="icon" type="image/svg\+xml" href="(/static/favicon\.[0-9a-f]{8}\.svg)">`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("home page links no favicon")
	}
	icon := string(m[1])
	res, err = http.Get(srv.URL + icon)
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" ||
		!strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(string(svg), "<svg") {
		t.Fatalf("%s: %d %q %q %.40q", icon, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"), svg)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noFollow.Get(srv.URL + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != icon {
		t.Fatalf("/favicon.ico: %d → %q, want %s", res.StatusCode, res.Header.Get("Location"), icon)
	}
}
