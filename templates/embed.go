// Package templates holds the server-rendered pages (html/template, zh-CN),
// their layout and partials, and the static assets, all embedded in the
// binary. Static files are served at checksummed URLs so they can be cached
// forever and still change on upgrade.
package templates

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

//go:embed *.html static
var files embed.FS

// Shanghai is the zone pages show times in.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// User is what the layout needs of the signed-in account.
type User struct {
	ID       int64
	Name     string
	Username string
	Role     string
	RoleName string
	Unread   int64 // the person's own unread notifications
}

// Page is the data of every page: the common parts the layout needs and
// the page's own Data.
type Page struct {
	Title string
	User  *User
	CSRF  string
	Flash string
	Path  string
	Data  any
	// Warnings are configuration problems shown to administrators.
	Warnings []string
	// InlineCSS replaces the stylesheet link and the scripts: a document
	// printed to PDF loads nothing.
	InlineCSS template.CSS
}

// Renderer renders pages by name ("login" renders login.html in the layout).
type Renderer struct {
	pages  map[string]*template.Template
	assets map[string]asset // by logical name, e.g. "app.css"
	byPath map[string]asset // by hashed file name, e.g. "app.3f2a9c1b.css"
}

type asset struct {
	hashed string
	body   []byte
	ctype  string
}

// New parses every page with the layout and partials. extra adds or
// replaces page functions: cmd passes trading.TemplateFuncs (label, field,
// actions), which this package cannot import; without it codes show as is.
func New(extra ...template.FuncMap) (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}, assets: map[string]asset{}, byPath: map[string]asset{}}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		a := asset{hashed: strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:4]) + ext, body: b,
			ctype: mime.TypeByExtension(ext)}
		r.assets[name], r.byPath[a.hashed] = a, a
		return nil
	})
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := r.assets[name]
			if !ok {
				return "", fmt.Errorf("no static asset %q", name)
			}
			return "/static/" + a.hashed, nil
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(Shanghai).Format("2006-01-02 15:04")
		},
		"seconds": func(t time.Time) string { return t.In(Shanghai).Format("2006-01-02 15:04:05") },
		"add":     func(a, b int) int { return a + b },
		// catIn: is category cat one of the space-separated list (a form
		// field's data-cats)? The server hides the others, so the form
		// shows one category's fields without script too.
		"catIn":     func(list, cat string) bool { return slices.Contains(strings.Fields(list), cat) },
		"yuan":      yuan,
		"countdown": countdown,
		// trusted marks HTML the platform rendered itself from a safe
		// Markdown subset (trading.RenderMarkdown); never user input as is.
		"trusted": func(s string) template.HTML { return template.HTML(s) },
		"localinput": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.In(Shanghai).Format("2006-01-02T15:04")
		},
		// label, field and actions are placeholders for trading's table.
		"label":         func(kind string, code any) string { return fmt.Sprint(code) },
		"field":         func(path string) string { return path },
		"fieldIn":       func(cat any, path string) string { return path },
		"fieldAnchor":   func(path string) string { return path },
		"violationHref": func(code string, t any, field string) string { return "#" + field },
		"actions":       func() []struct{ Value, Name string } { return nil },
		// sentence ends a reason someone typed with exactly one 。, whether
		// or not they typed one ("暂停：……。" never "。。").
		"sentence": func(s string) string { return strings.TrimRight(strings.TrimSpace(s), "。.；;，, ") + "。" },
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict needs pairs")
			}
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m, nil
		},
	}
	for _, m := range extra {
		for k, f := range m {
			funcs[k] = f
		}
	}
	entries, err := fs.Glob(files, "*.html")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e == "layout.html" || strings.HasPrefix(e, "_") {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "layout.html", "_*.html", e)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", e, err)
		}
		r.pages[strings.TrimSuffix(e, ".html")] = t
	}
	return r, nil
}

// Render writes the named page. It renders into a buffer first so that a
// template error becomes a clean 500 instead of half a page.
func (r *Renderer) Render(w io.Writer, name string, data any) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// CSS is the platform's stylesheet, for documents printed to PDF.
func (r *Renderer) CSS() template.CSS { return template.CSS(r.assets["app.css"].body) }

// Has reports whether a page exists.
func (r *Renderer) Has(name string) bool { _, ok := r.pages[name]; return ok }

// ServeStatic serves a checksummed static file; the name never changes
// content, so it may be cached for a year.
func (r *Renderer) ServeStatic(w http.ResponseWriter, req *http.Request, hashed string) {
	a, ok := r.byPath[hashed]
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(a.body)
}

// countdown says how long until a deadline, e.g. "剩余 3天4小时".
func countdown(now, deadline time.Time) string {
	if deadline.IsZero() {
		return ""
	}
	d := deadline.Sub(now)
	if d <= 0 {
		return "已截止"
	}
	days, hours, mins := int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60
	switch {
	case days > 0:
		return fmt.Sprintf("剩余 %d天%d小时", days, hours)
	case hours > 0:
		return fmt.Sprintf("剩余 %d小时%d分", hours, mins)
	}
	return fmt.Sprintf("剩余 %d分钟", max(mins, 1))
}

// yuan shows an amount of money with thousands separators and 2 decimals.
func yuan(v any) string {
	switch x := v.(type) {
	case decimal.Decimal:
		return Yuan(x) + " 元"
	case *decimal.Decimal:
		if x == nil {
			return ""
		}
		return Yuan(*x) + " 元"
	}
	return fmt.Sprint(v)
}

// Yuan writes an amount as people read it, on pages and in the announcements the
// platform writes: thousands grouped, two decimals, "2,246,380.96". It is
// the one such formatter (trading.Yuan is this); the API and the files for
// banks keep the plain "2246380.96".
func Yuan(d decimal.Decimal) string {
	s := d.StringFixed(2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac
}

// AssetPath returns the checksummed URL of a static file.
func (r *Renderer) AssetPath(name string) string { return "/static/" + r.assets[name].hashed }
