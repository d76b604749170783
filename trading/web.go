package trading

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/templates"
)

// Web plumbing shared by every package's handlers: who is signed in, how a
// page is rendered, how an error is shown.

const (
	// SessionCookie holds the browser session token.
	SessionCookie = "ggzy_session"
	ctxAccount    = "ggzy.account"
	ctxToken      = "ggzy.token"
)

// Web carries what handlers need to render.
type Web struct {
	Svc    *Service
	Pages  *templates.Renderer
	Log    *slog.Logger
	Secure bool // cookies only over HTTPS
	// AdminWarnings are configuration problems administrators see at the
	// top of every page (an unconfigured deposit bank); nobody else does.
	AdminWarnings []string
}

// CurrentAccount is the signed-in account, or nil.
func CurrentAccount(c echo.Context) *Account {
	a, _ := c.Get(ctxAccount).(*Account)
	return a
}

// ActorOf is the audit actor of the request.
func ActorOf(c echo.Context) Actor {
	a := Actor{Username: "anonymous", Role: "anonymous", IP: c.RealIP()}
	if acc := CurrentAccount(c); acc != nil {
		a.AccountID, a.Username, a.Role = acc.ID, acc.Username, acc.Role
	}
	return a
}

// IsAPI tells API requests (JSON errors, bearer tokens) from pages.
func IsAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

// LoadSession is middleware for pages: it attaches the account of a valid
// session cookie, if any. An expired or revoked cookie is simply dropped.
func (w *Web) LoadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" {
			acc, err := w.Svc.SessionAccount(c.Request().Context(), SessionWeb, ck.Value)
			switch {
			case err == nil:
				c.Set(ctxAccount, acc)
				c.Set(ctxToken, ck.Value)
			case errors.Is(err, ErrUnauthorized):
				w.clearCookie(c)
			default:
				return err
			}
		}
		return next(c)
	}
}

// LoadBearer is middleware for /api/v1: it attaches the account of a valid
// `Authorization: Bearer` token. The API never reads the session cookie, so
// it needs no CSRF protection.
func (w *Web) LoadBearer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if h == "" {
			return next(c)
		}
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return Unauthorized("Authorization 头须为 “Bearer 令牌”")
		}
		acc, err := w.Svc.SessionAccount(c.Request().Context(), SessionAPI, strings.TrimSpace(token))
		if err != nil {
			return err
		}
		c.Set(ctxAccount, acc)
		c.Set(ctxToken, strings.TrimSpace(token))
		return next(c)
	}
}

// RequireRole lets through only signed-in accounts of the given roles.
func RequireRole(roles ...Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			acc := CurrentAccount(c)
			if acc == nil {
				if !IsAPI(c) && c.Request().Method == http.MethodGet {
					return c.Redirect(http.StatusSeeOther, "/login?next="+c.Request().URL.RequestURI())
				}
				return Unauthorized("请先登录")
			}
			if len(roles) == 0 {
				return next(c)
			}
			for _, r := range roles {
				if acc.Role == r {
					return next(c)
				}
			}
			return Forbidden("您的账号（" + acc.Role.Name() + "）无权访问此页面或接口")
		}
	}
}

func (w *Web) setCookie(c echo.Context, token string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: w.Secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

func (w *Web) clearCookie(c echo.Context) { w.setCookie(c, "", -1) }

// Page renders a page in the layout with the common data filled in.
func (w *Web) Page(c echo.Context, status int, name, title string, data any) error {
	p := templates.Page{Title: title, Data: data, Path: c.Request().URL.Path}
	if tok, ok := c.Get("csrf").(string); ok {
		p.CSRF = tok
	}
	if acc := CurrentAccount(c); acc != nil {
		p.User = &templates.User{ID: acc.ID, Name: acc.DisplayName, Username: acc.Username,
			Role: string(acc.Role), RoleName: acc.Role.Name()}
		if acc.Role == RoleAdmin {
			p.Warnings = w.AdminWarnings
		}
		n, err := w.Svc.UnreadCount(c.Request().Context(), acc.ID)
		if err != nil {
			return err
		}
		p.User.Unread = n
	}
	if ck, err := c.Cookie("ggzy_flash"); err == nil {
		p.Flash = flashDecode(ck.Value)
		c.SetCookie(&http.Cookie{Name: "ggzy_flash", Path: "/", MaxAge: -1})
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return w.Pages.Render(c.Response(), name, p)
}

// Flash leaves a one-time message for the next page.
func Flash(c echo.Context, msg string) {
	c.SetCookie(&http.Cookie{Name: "ggzy_flash", Value: flashEncode(msg), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong, on which field, under which rule.
type ErrorDetail struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	Field      string          `json:"field,omitempty"`
	Rule       string          `json:"rule,omitempty"`
	Violations []ViolationJSON `json:"violations,omitempty"`
}

// ViolationJSON is one broken rule in an API error.
type ViolationJSON struct {
	Rule        string `json:"rule"`
	Requirement string `json:"requirement"`
	Actual      string `json:"actual"`
	Source      string `json:"source,omitempty"`
	Field       string `json:"field,omitempty"`
}

// kindStatus is the one table from kinds of error to HTTP statuses.
var kindStatus = map[Kind]int{
	KindInvalid:          http.StatusBadRequest,
	KindUnauthorized:     http.StatusUnauthorized,
	KindForbidden:        http.StatusForbidden,
	KindNotFound:         http.StatusNotFound,
	KindMethodNotAllowed: http.StatusMethodNotAllowed,
	KindConflict:         http.StatusConflict,
	KindTooLarge:         http.StatusRequestEntityTooLarge,
	KindRuleBroken:       http.StatusUnprocessableEntity, // every broken rule, whatever the rule
	KindUnprocessable:    http.StatusUnprocessableEntity,
	KindRateLimited:      http.StatusTooManyRequests,
	KindUnavailable:      http.StatusServiceUnavailable,
	KindInternal:         http.StatusInternalServerError,
}

// Status is the HTTP status of the error's kind.
func (e *Error) Status() int {
	if s, ok := kindStatus[e.Kind]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// kindOfStatus is the kind of one of Echo's own errors (route not found,
// 405, body limit, CSRF, rate limit).
func kindOfStatus(status int) Kind {
	switch status {
	case http.StatusUnauthorized:
		return KindUnauthorized
	case http.StatusForbidden:
		return KindForbidden
	case http.StatusNotFound:
		return KindNotFound
	case http.StatusMethodNotAllowed:
		return KindMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return KindTooLarge
	case http.StatusTooManyRequests:
		return KindRateLimited
	}
	if status < 500 {
		return KindInvalid
	}
	return KindInternal
}

// AsError turns any error into a presentable *Error: domain errors keep
// their kind, Echo's own errors (404 route, 405, 413, CSRF, rate limit)
// get a kind and a Chinese message, and anything else is internal (500),
// its cause logged but not shown.
func AsError(err error) *Error {
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		e := &Error{Kind: kindOfStatus(he.Code), Err: err}
		e.Code = string(e.Kind)
		switch he.Code {
		case http.StatusNotFound:
			e.Message = "页面或接口不存在"
		case http.StatusMethodNotAllowed:
			e.Message = "不支持该请求方法"
		case http.StatusRequestEntityTooLarge:
			e.Message = "请求内容超过大小限制"
		case http.StatusTooManyRequests:
			e.Message = "请求过于频繁，请稍后再试"
		case http.StatusForbidden:
			e.Message = "表单已过期或来源无效（CSRF 校验失败），请刷新页面后重试"
			e.Code = "csrf"
		case http.StatusBadRequest:
			e.Message = "请求格式不正确"
			if strings.Contains(fmt.Sprint(he.Message), "csrf") {
				e.Message, e.Code = "缺少表单令牌（CSRF），请刷新页面后重试", "csrf"
			}
		case http.StatusUnauthorized:
			e.Message = "请先登录"
		default:
			if he.Code < 500 {
				e.Message = fmt.Sprint(he.Message)
			}
		}
		if e.Message != "" {
			return e
		}
	}
	return &Error{Kind: KindInternal, Code: string(KindInternal), Message: "服务器内部错误，请稍后再试；如持续出现请联系交易中心", Err: err}
}

// ErrorHandler is the one central Echo error handler: a JSON body for the
// API, a zh-CN page for the browser. Only 5xx are logged as errors.
func (w *Web) ErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := AsError(err)
	status := e.Status()
	if status >= 500 {
		w.Log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized && !IsAPI(c) {
		w.clearCookie(c)
	}
	if IsAPI(c) || strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "application/json") && !strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/html") {
		body := ErrorBody{Error: ErrorDetail{Code: e.Code, Message: e.Message, Field: e.Field, Rule: e.Rule}}
		for _, v := range e.Violations {
			body.Error.Violations = append(body.Error.Violations, ViolationJSON{v.Rule, v.Requirement, v.Actual, v.Source, v.Field})
		}
		_ = c.JSON(status, body)
		return
	}
	heading := ErrorHeading(e)
	msg := e.Message
	if e.Field != "" { // the page names the field in Chinese; the JSON above keeps the path
		msg += "（字段：" + FieldLabelIn(e.Category, e.Field) + "）"
	}
	if rerr := w.Page(c, status, "error", heading, map[string]any{"Heading": heading, "Message": msg, "Rule": e.Rule, "Status": status}); rerr != nil {
		w.Log.Error("render error page", "err", rerr)
	}
}

// BindJSON decodes a JSON request body strictly: unknown fields and
// trailing data are refused with a 400 naming the problem.
func BindJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return Invalid(ute.Field, "字段类型不正确，应为 %s", ute.Type.String())
		}
		if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return Invalid(strings.Trim(msg, `"`), "不认识的字段")
		}
		return Invalid("body", "请求体不是有效的 JSON：%v", err)
	}
	if dec.More() {
		return Invalid("body", "请求体在 JSON 之后还有多余内容")
	}
	return nil
}
