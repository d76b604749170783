package supervision

import (
	"net/http"

	"github.com/ggzy/ggzy/trading"

	"github.com/labstack/echo/v4"
)

// Handlers serve on-site supervision's pages and API.
type Handlers struct{ *trading.Web }

func (w *Handlers) supervision() *Service { return &Service{w.Svc} }

// Routes registers on-site supervision (统一现场监督): the
// supervisors' dashboard, project timelines, and suspension, with their API.
func (w *Handlers) Routes(e *echo.Echo, api *echo.Group) {
	sup := e.Group("/supervise", trading.RequireRole(trading.RoleSupervisor))
	sup.GET("", w.dashboardPage)
	sup.GET("/projects/:code", w.timelinePage)
	sup.POST("/projects/:code/suspend", w.suspendStep(true))
	sup.POST("/projects/:code/resume", w.suspendStep(false))

	api.GET("/supervision/dashboard", w.apiDashboard, trading.RequireRole(trading.RoleSupervisor))
	api.GET("/supervision/projects/:code", w.apiTimeline, trading.RequireRole(trading.RoleSupervisor))
	api.POST("/projects/:code/suspend", w.apiSuspend(true), trading.RequireRole(trading.RoleSupervisor))
	api.POST("/projects/:code/resume", w.apiSuspend(false), trading.RequireRole(trading.RoleSupervisor))
}

func (w *Handlers) dashboardPage(c echo.Context) error {
	d, err := w.supervision().Dashboard(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	return w.Page(c, http.StatusOK, "supervise", "现场监督", d)
}

func (w *Handlers) renderTimeline(c echo.Context, status int, formErr *trading.Error, reason string) error {
	t, err := w.supervision().Timeline(c.Request().Context(), trading.ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	return w.Page(c, status, "supervise_project", "项目监督："+t.Project.Title, map[string]any{
		"Project": t.Project, "Timeline": t, "Error": formErr, "Reason": reason, "KindNames": timelineKinds})
}

// timelineKinds names the kinds of timeline events in Chinese.
var timelineKinds = map[string]string{"announcement": "公告", "registration": "报名", "document": "文件", "deposit": "保证金",
	"refund": "退还", "forfeiture": "没收", "alert": "预警", "result": "结果", "audit": "审计"}

func (w *Handlers) timelinePage(c echo.Context) error {
	return w.renderTimeline(c, http.StatusOK, nil, "")
}

func (w *Handlers) suspendStep(suspend bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, a, code, reason := c.Request().Context(), trading.ActorOf(c), c.Param("code"), c.FormValue("reason")
		var err error
		msg := "项目已暂停，报名、上传文件和结果录入将被拒绝。"
		if suspend {
			_, err = Suspend(ctx, w.Svc, a, code, reason)
		} else {
			_, err = Resume(ctx, w.Svc, a, code, reason)
			msg = "项目已恢复。"
		}
		if de := trading.FormError(err); de != nil {
			return w.renderTimeline(c, de.Status(), de, reason)
		}
		if err != nil {
			return err
		}
		trading.Flash(c, msg)
		return c.Redirect(http.StatusSeeOther, "/supervise/projects/"+code)
	}
}

// API

// TimelineJSON is a project's supervision timeline in the API.
type TimelineJSON struct {
	Project   trading.ProjectJSON     `json:"project"`
	Events    []trading.TimelineEvent `json:"events"`
	Truncated bool                    `json:"truncated,omitempty"`
}

func (w *Handlers) apiDashboard(c echo.Context) error {
	d, err := w.supervision().Dashboard(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (w *Handlers) apiTimeline(c echo.Context) error {
	t, err := w.supervision().Timeline(c.Request().Context(), trading.ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, TimelineJSON{Project: t.Project.JSON(), Events: t.Events, Truncated: t.Truncated})
}

type suspendRequest struct {
	Reason string `json:"reason"`
}

func (w *Handlers) apiSuspend(suspend bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in suspendRequest
		if c.Request().ContentLength != 0 {
			if err := trading.BindJSON(c, &in); err != nil {
				return err
			}
		}
		ctx, a, code := c.Request().Context(), trading.ActorOf(c), c.Param("code")
		var p *trading.Project
		var err error
		if suspend {
			p, err = Suspend(ctx, w.Svc, a, code, in.Reason)
		} else {
			p, err = Resume(ctx, w.Svc, a, code, in.Reason)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p.JSON())
	}
}
