package trading

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"
)

// Routes registers the pages and API of accounts, sessions and the audit
// log. Pages go on e (session cookie, CSRF); API routes on api (bearer).
func (w *Web) Routes(e *echo.Echo, api *echo.Group, loginLimit echo.MiddlewareFunc) {
	e.GET("/signup", w.signupForm)
	e.POST("/signup", w.signup)
	e.GET("/login", w.loginForm)
	e.POST("/login", w.login, loginLimit)
	e.POST("/logout", w.logout, RequireRole())
	e.GET("/account", w.account, RequireRole())
	admin := e.Group("/admin", RequireRole(RoleAdmin))
	admin.GET("/users", w.adminUsers)
	admin.POST("/users", w.adminCreateUser)
	admin.POST("/users/:id/disable", w.adminSetDisabled(true))
	admin.POST("/users/:id/enable", w.adminSetDisabled(false))
	// Supervisors only: the log names who registered for what, which
	// nobody else may learn before a deadline (K4/K5).
	e.GET("/supervisor/audit", w.auditPage, RequireRole(RoleSupervisor))

	api.POST("/auth/login", w.apiLogin, loginLimit)
	api.POST("/auth/logout", w.apiLogout, RequireRole())
	api.GET("/me", w.apiMe, RequireRole())
	api.POST("/bidders", w.apiSignup)
	api.GET("/audit", w.apiAudit, RequireRole(RoleSupervisor))
}

type signupData struct {
	Form  SignUp
	Error *Error
}

func (w *Web) signupForm(c echo.Context) error {
	return w.Page(c, http.StatusOK, "signup", "投标人注册", signupData{Form: SignUp{Kind: BidderEnterprise}})
}

func (w *Web) signup(c echo.Context) error {
	var in SignUp
	if err := c.Bind(&in); err != nil {
		return Invalid("body", "表单格式不正确")
	}
	in.AllowChecksumFailure = false // only the admin API/CLI may override
	if _, err := w.Svc.SignUpBidder(c.Request().Context(), ActorOf(c), in); err != nil {
		var de *Error
		if errors.As(err, &de) && de.Status() < 500 {
			in.Password = ""
			return w.Page(c, de.Status(), "signup", "投标人注册", signupData{Form: in, Error: de})
		}
		return err
	}
	return w.startSession(c, in.Username, in.Password, "/account", "注册成功，欢迎使用公共资源交易平台。")
}

type loginData struct {
	Username, Next string
	Error          *Error
}

func (w *Web) loginForm(c echo.Context) error {
	if CurrentAccount(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/account")
	}
	return w.Page(c, http.StatusOK, "login", "登录", loginData{Next: safeNext(c.QueryParam("next"))})
}

func (w *Web) login(c echo.Context) error {
	username, next := c.FormValue("username"), safeNext(c.FormValue("next"))
	err := w.startSession(c, username, c.FormValue("password"), next, "")
	var de *Error
	if errors.As(err, &de) && de.Status() < 500 {
		return w.Page(c, de.Status(), "login", "登录", loginData{Username: username, Next: next, Error: de})
	}
	return err
}

func (w *Web) startSession(c echo.Context, username, password, next, flash string) error {
	token, _, err := w.Svc.Login(c.Request().Context(), SessionWeb, username, password, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	w.setCookie(c, token, int(w.Svc.WebSessionTTL.Seconds()))
	if flash != "" {
		Flash(c, flash)
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// safeNext keeps redirects on this site: a path with no scheme, no host,
// no backslash and no control character or space (a browser drops a tab,
// so "/\t/evil" would become "//evil").
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") || strings.IndexFunc(next, func(r rune) bool {
		return r <= ' ' || r == 0x7f || unicode.IsSpace(r)
	}) >= 0 {
		return "/account"
	}
	return next
}

func (w *Web) logout(c echo.Context) error {
	if tok, ok := c.Get(ctxToken).(string); ok {
		if err := w.Svc.Logout(c.Request().Context(), ActorOf(c), tok); err != nil {
			return err
		}
	}
	w.clearCookie(c)
	Flash(c, "您已退出登录。")
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (w *Web) account(c echo.Context) error {
	acc, err := w.Svc.Account(c.Request().Context(), CurrentAccount(c).ID)
	if err != nil {
		return err
	}
	return w.Page(c, http.StatusOK, "account", "我的账户", map[string]any{"Account": acc})
}

type roleOption struct{ Value, Name string }

func (w *Web) adminUsers(c echo.Context) error {
	return w.renderAdminUsers(c, http.StatusOK, nil)
}

func (w *Web) renderAdminUsers(c echo.Context, status int, formErr *Error) error {
	const perPage = 20
	page, err := PageParam(c)
	if err != nil {
		return err
	}
	role := Role(c.QueryParam("role"))
	if role != "" && !role.Valid() {
		return Invalid("role", "未知角色")
	}
	accounts, total, err := w.Svc.ListAccounts(c.Request().Context(), role, (page-1)*perPage, perPage)
	if err != nil {
		return err
	}
	pager := NumberedPager(c, page, perPage, total)
	var roles []roleOption
	for _, r := range Roles {
		roles = append(roles, roleOption{string(r), r.Name()})
	}
	return w.Page(c, status, "admin_users", "账号管理", map[string]any{
		"Accounts": accounts, "Total": total, "Pager": pager, "Role": string(role), "Roles": roles, "Error": formErr})
}

func (w *Web) adminCreateUser(c echo.Context) error {
	var in NewAccount
	if err := c.Bind(&in); err != nil {
		return Invalid("body", "表单格式不正确")
	}
	acc, err := w.Svc.CreateAccount(c.Request().Context(), ActorOf(c), in)
	var de *Error
	if errors.As(err, &de) && de.Status() < 500 {
		return w.renderAdminUsers(c, de.Status(), de)
	}
	if err != nil {
		return err
	}
	Flash(c, fmt.Sprintf("已创建%s账号 %s。", acc.Role.Name(), acc.Username))
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}

func (w *Web) adminSetDisabled(disabled bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := IDParam(c)
		if err != nil {
			return err
		}
		if err := w.Svc.SetDisabled(c.Request().Context(), ActorOf(c), id, disabled); err != nil {
			return err
		}
		Flash(c, map[bool]string{true: "账号已停用，其登录会话已全部失效。", false: "账号已启用。"}[disabled])
		return c.Redirect(http.StatusSeeOther, "/admin/users")
	}
}

// auditFilter reads the audit filters from the query string.
func auditFilter(c echo.Context) (AuditFilter, string, string, error) {
	f := AuditFilter{Action: c.QueryParam("action"), ObjectType: c.QueryParam("object_type"),
		ObjectID: c.QueryParam("object_id"), Actor: c.QueryParam("actor"), Limit: 50}
	from, to := c.QueryParam("from"), c.QueryParam("to")
	var err error
	if from != "" {
		if f.From, err = time.ParseInLocation("2006-01-02", from, Shanghai); err != nil {
			return f, from, to, Invalid("from", "日期格式应为 YYYY-MM-DD")
		}
	}
	if to != "" {
		t, err := time.ParseInLocation("2006-01-02", to, Shanghai)
		if err != nil {
			return f, from, to, Invalid("to", "日期格式应为 YYYY-MM-DD")
		}
		f.To = t.AddDate(0, 0, 1)
	}
	if b := c.QueryParam("before"); b != "" {
		if f.BeforeID, err = strconv.ParseInt(b, 10, 64); err != nil || f.BeforeID < 1 {
			return f, from, to, Invalid("before", "须为正整数")
		}
	}
	if l := c.QueryParam("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit < 1 || f.Limit > 200 {
			return f, from, to, Invalid("limit", "须为1至200的整数")
		}
	}
	return f, from, to, nil
}

func (w *Web) auditPage(c echo.Context) error {
	f, from, to, err := auditFilter(c)
	if err != nil {
		return err
	}
	events, err := w.Svc.BrowseAudit(c.Request().Context(), ActorOf(c), f)
	if err != nil {
		return err
	}
	next := ""
	if len(events) == f.Limit {
		next = strconv.FormatInt(events[len(events)-1].ID, 10)
	}
	pager := CursorPager(c, "before", f.BeforeID > 0, next)
	return w.Page(c, http.StatusOK, "audit", "审计日志", map[string]any{
		"Events": events, "Filter": f, "From": from, "To": to, "Pager": pager, "ObjectTypes": LabelOptions(LabelObject)})
}

// API

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// TokenResponse is the answer to an API login.
type TokenResponse struct {
	Token     string    `json:"token"`
	TokenType string    `json:"token_type"`
	ExpiresAt time.Time `json:"expires_at"`
	Account   *Account  `json:"account"`
}

func (w *Web) apiLogin(c echo.Context) error {
	var in loginRequest
	if err := BindJSON(c, &in); err != nil {
		return err
	}
	if in.Username == "" {
		return Invalid("username", "请填写用户名")
	}
	if in.Password == "" {
		return Invalid("password", "请填写密码")
	}
	token, acc, err := w.Svc.Login(c.Request().Context(), SessionAPI, in.Username, in.Password, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, TokenResponse{Token: token, TokenType: "Bearer",
		ExpiresAt: w.Svc.Clock.Now().Add(w.Svc.APITokenTTL), Account: acc})
}

func (w *Web) apiLogout(c echo.Context) error {
	tok, _ := c.Get(ctxToken).(string)
	if err := w.Svc.Logout(c.Request().Context(), ActorOf(c), tok); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (w *Web) apiMe(c echo.Context) error {
	acc, err := w.Svc.Account(c.Request().Context(), CurrentAccount(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, acc)
}

func (w *Web) apiSignup(c echo.Context) error {
	var in SignUp
	if err := BindJSON(c, &in); err != nil {
		return err
	}
	acc, err := w.Svc.SignUpBidder(c.Request().Context(), ActorOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, acc)
}

func (w *Web) apiAudit(c echo.Context) error {
	f, _, _, err := auditFilter(c)
	if err != nil {
		return err
	}
	events, err := w.Svc.BrowseAudit(c.Request().Context(), ActorOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": events})
}

func flashEncode(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func flashDecode(s string) string {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return ""
	}
	return string(b)
}
