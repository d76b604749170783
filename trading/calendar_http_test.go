package trading

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/templates"
)

// calendarServer serves CalendarRoutes with sessions (no CSRF middleware:
// the router adds it) and returns a cookie of a signed-in admin.
func calendarServer(t *testing.T) (*Service, *echo.Echo, *http.Cookie) {
	t.Helper()
	s, _ := newTestService(t)
	pages, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	w := &Web{Svc: s, Pages: pages, Log: s.Log}
	e := echo.New()
	e.HTTPErrorHandler = w.ErrorHandler
	e.Use(w.LoadSession)
	w.CalendarRoutes(e)
	newCalendarAdmin(t, s, "caladmin")
	token, _, err := s.Login(context.Background(), SessionWeb, "caladmin", "secret123", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return s, e, &http.Cookie{Name: SessionCookie, Value: token}
}

func calendarDo(t *testing.T, e *echo.Echo, method, path string, form url.Values, ck *http.Cookie) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	}
	if ck != nil {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestCalendarHTTP(t *testing.T) {
	t.Parallel()
	_, e, admin := calendarServer(t)

	// The rule book is public and warns about 2027.
	code, body, _ := calendarDo(t, e, "GET", "/rules", nil, nil)
	if code != 200 || !strings.Contains(body, "E1") || !strings.Contains(body, "招标投标法第二十四条") ||
		!strings.Contains(body, `id="confidence-note"`) || !strings.Contains(body, "尚未录入2027年工作日历") {
		t.Fatalf("/rules = %d\n%s", code, body)
	}
	code, body, _ = calendarDo(t, e, "GET", "/rules?category=land", nil, nil)
	if code != 200 || !strings.Contains(body, "L7") || strings.Contains(body, "<td>E1</td>") {
		t.Fatalf("/rules?category=land = %d", code)
	}
	if code, _, _ = calendarDo(t, e, "GET", "/rules?category=x", nil, nil); code != 400 {
		t.Fatalf("/rules?category=x = %d, want 400", code)
	}

	// The admin page is for admins only.
	if code, _, h := calendarDo(t, e, "GET", "/admin/calendar", nil, nil); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Fatalf("anonymous GET /admin/calendar = %d", code)
	}
	if code, _, _ = calendarDo(t, e, "POST", "/admin/calendar", url.Values{"year": {"2027"}, "csv": {cal2027}}, nil); code != 401 {
		t.Fatalf("anonymous POST = %d, want 401", code)
	}
	code, body, _ = calendarDo(t, e, "GET", "/admin/calendar", nil, admin)
	if code != 200 || !strings.Contains(body, `id="calendar-missing"`) || !strings.Contains(body, `value="2027"`) ||
		!strings.Contains(body, `id="year-2026"`) {
		t.Fatalf("GET /admin/calendar = %d\n%s", code, body)
	}

	// A refused save shows the error and the submitted text, escaped, with
	// the status kept.
	bad := "date,kind,holiday\n2027-02-30,off,<script>alert(1)</script>\n"
	code, body, _ = calendarDo(t, e, "POST", "/admin/calendar", url.Values{"year": {"2027"}, "csv": {bad}}, admin)
	if code != 400 || !strings.Contains(body, "第2行") || !strings.Contains(body, "2027-02-30,off,&lt;script&gt;") ||
		strings.Contains(body, "<script>alert") {
		t.Fatalf("bad POST = %d\n%s", code, body)
	}
	if code, body, _ = calendarDo(t, e, "POST", "/admin/calendar", url.Values{"year": {"20x7"}, "csv": {cal2027}}, admin); code != 400 || !strings.Contains(body, "年份") {
		t.Fatalf("bad year = %d", code)
	}

	code, _, h := calendarDo(t, e, "POST", "/admin/calendar", url.Values{"year": {"2027"}, "csv": {cal2027}}, admin)
	if code != http.StatusSeeOther || h.Get("Location") != "/admin/calendar" || !strings.Contains(h.Get("Set-Cookie"), "ggzy_flash") {
		t.Fatalf("good POST = %d %v", code, h)
	}
	code, body, _ = calendarDo(t, e, "GET", "/rules", nil, nil)
	if code != 200 || strings.Contains(body, "尚未录入") || !strings.Contains(body, "<td>2027</td><td>管理员维护</td>") {
		t.Fatalf("/rules after saving = %d\n%s", code, body)
	}
}
