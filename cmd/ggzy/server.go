package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/ggzy/ggzy/trading/portal"

	"github.com/ggzy/ggzy/trading/supervision"

	"github.com/ggzy/ggzy/trading/report"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
)

//go:embed openapi.json
var openAPI []byte

// NewServer wires every route and middleware of the platform.
func NewServer(a *App) (*echo.Echo, error) {
	pages, err := templates.New(trading.TemplateFuncs())
	if err != nil {
		return nil, err
	}
	web := &trading.Web{Svc: a.Trading, Pages: pages, Log: a.Log, Secure: a.Cfg.SecureCookie}
	// Letters (中标通知书, 中标结果通知书, 成交确认书) are their own page,
	// with the stylesheet inline, printed by Chromium.
	a.Bidding.PrintLetter = func(ctx context.Context, l *bidding.Letter) ([]byte, error) {
		var html bytes.Buffer
		if err := pages.Render(&html, "letter", templates.Page{Title: l.Kind.Name(), Data: l, InlineCSS: pages.CSS()}); err != nil {
			return nil, err
		}
		return a.PDF.Print(ctx, html.Bytes())
	}
	if a.Deposits.BankName == "" {
		web.AdminWarnings = append(web.AdminWarnings, "保证金专户的开户银行未配置（GGZY_DEPOSIT_BANK）：投标人的缴款通知书上不显示开户银行，只提示向交易中心咨询。")
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = web.ErrorHandler
	// Amounts leave as strings with two decimals ("80000.00"), in every answer.
	e.JSONSerializer = trading.JSONSerializer{}
	// The client's address is the connection's, unless it comes through a
	// configured load balancer: a forged X-Forwarded-For must not dodge the
	// login limit or write a false IP into the audit log.
	e.IPExtractor = echo.ExtractIPDirect()
	if a.Cfg.TrustProxies != "" {
		var opts []echo.TrustOption
		for _, cidr := range strings.Split(a.Cfg.TrustProxies, ",") {
			_, n, err := net.ParseCIDR(strings.TrimSpace(cidr))
			if err != nil {
				return nil, fmt.Errorf("GGZY_TRUSTED_PROXIES: %w", err)
			}
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	isAPI := func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }
	isMachine := func(c echo.Context) bool {
		p := c.Request().URL.Path
		return isAPI(c) || p == "/healthz" || strings.HasPrefix(p, "/static/")
	}

	e.Use(middleware.Recover())
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            map[bool]int{true: 31536000, false: 0}[a.Cfg.SecureCookie],
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
		ReferrerPolicy:        "same-origin",
	}))
	// Requests are small, but for document uploads, which stream and
	// enforce their own limit (bidding.Service.MaxUpload).
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "2M", Skipper: isUpload}))
	// Uploads stream and enforce their own limit; still, nothing may read
	// more than the largest allowed file from them, whatever reads first.
	uploadCap := max(int64(a.Cfg.MaxUploadMB)<<20, 512<<20) + 1<<20
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if isUpload(c) {
				if c.Request().ContentLength > uploadCap {
					return trading.TooLarge("file", "上传内容超过 %d MB", uploadCap>>20)
				}
				c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, uploadCap)
			}
			return next(c)
		}
	})
	csrf := middleware.CSRFConfig{
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		CookieName:     "ggzy_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   a.Cfg.SecureCookie,
		CookieSameSite: http.SameSiteLaxMode,
	}
	forms := csrf
	forms.Skipper = func(c echo.Context) bool { return isMachine(c) || isUpload(c) }
	e.Use(middleware.CSRFWithConfig(forms))
	// An upload never has its body parsed as a form to find the token
	// (that would spool the file to disk before any check): the token comes
	// in the X-CSRF-Token header, or the browser's Sec-Fetch-Site proves the
	// request same-origin.
	uploads := csrf
	uploads.TokenLookup = "header:X-CSRF-Token"
	uploads.Skipper = func(c echo.Context) bool { return !isUpload(c) || isAPI(c) }
	e.Use(middleware.CSRFWithConfig(uploads))
	// NUL bytes and invalid UTF-8 are refused here, once, naming the field.
	e.Use(trading.CheckInput)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		withSession := web.LoadSession(next)
		return func(c echo.Context) error {
			if isMachine(c) {
				return next(c)
			}
			return withSession(c)
		}
	})

	loginLimit := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(float64(max(a.Cfg.LoginPerMin, 1)) / 60), Burst: max(a.Cfg.LoginPerMin, 1), ExpiresIn: 10 * time.Minute}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return trading.RateLimited("登录尝试过于频繁，请一分钟后再试")
		},
	})

	e.GET("/healthz", health(a))
	e.GET("/static/:file", func(c echo.Context) error {
		pages.ServeStatic(c.Response(), c.Request(), c.Param("file"))
		return nil
	})
	// The layout links the icon; browsers that ask for /favicon.ico anyway
	// are sent to its checksummed URL.
	e.GET("/favicon.ico", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, pages.AssetPath("favicon.svg"))
	})
	api := e.Group("/api/v1", web.LoadBearer)
	api.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", openAPI)
	})
	web.Routes(e, api, loginLimit)
	(&portal.Handlers{Web: web, Cache: portal.NewPageCache(a.Cfg.PublicCache)}).Routes(e, api)
	web.ProjectRoutes(e, api)
	web.CalendarRoutes(e)
	(&supervision.Handlers{Web: web}).Routes(e, api)
	if a.Live != nil {
		// The dashboard's live feed (Server-Sent Events; no gzip or cache
		// middleware may wrap these routes).
		e.GET("/supervise/events", a.Live.Stream(func(echo.Context) (string, error) { return trading.SupervisionTopic, nil }),
			trading.RequireRole(trading.RoleSupervisor))
	}
	(&bidding.Handler{Svc: a.Bidding, Web: web}).Routes(e, api)
	(&auction.Handler{Svc: a.Auction, Web: web, Live: a.Live}).Routes(e, api)
	(&bidding.DocumentsHTTP{Svc: a.Bidding, Web: web}).Routes(e, api)
	(&bidding.SealedHTTP{Svc: a.Bidding, Web: web}).Routes(e, api)
	(&bidding.HallHTTP{Svc: a.Bidding, Web: web, Live: a.Live}).Routes(e, api)
	dh := &deposits.Handler{Svc: a.Deposits, Web: web}
	dh.Routes(e, api)
	dh.RefundRoutes(e, api)
	dh.GuaranteeRoutes(e, api)
	(&report.Handlers{Web: web}).Routes(e, api)
	// Unknown /api/v1 paths answer JSON 404s through the error handler.
	api.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })
	return e, nil
}

// uploadPath matches the routes that stream documents.
var uploadPath = regexp.MustCompile(`^(/agent/lots/\d+/documents|/api/v1/lots/\d+/documents|/lots/\d+/materials|/supervisor/deposits/import|/api/v1/deposits/statements)$`)

// piecePath matches the routes that stream a piece of a sealed bid (PUT).
// and a backup copy handed in at the opening (EB14).
var piecePath = regexp.MustCompile(`^((/api/v1)?/bids/\d+/parts/\d+/pieces/\d+|(/api/v1)?/lots/\d+/hall/backup/\d+)$`)

func isUpload(c echo.Context) bool {
	r := c.Request()
	return (r.Method == http.MethodPost && uploadPath.MatchString(r.URL.Path)) ||
		(r.Method == http.MethodPut && piecePath.MatchString(r.URL.Path))
}

// health answers 200 when PostgreSQL and the object store both answer.
func health(a *App) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		defer cancel()
		out, status := map[string]string{"db": "ok", "storage": "ok"}, http.StatusOK
		if err := a.SQL.PingContext(ctx); err != nil {
			out["db"], status = "error: "+err.Error(), http.StatusServiceUnavailable
		}
		if err := a.Storage.Ping(ctx); err != nil {
			out["storage"], status = "error: "+err.Error(), http.StatusServiceUnavailable
		}
		return c.JSON(status, out)
	}
}
