package bidding

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// HallHTTP serves the opening hall's pages and steps.
type HallHTTP struct {
	Svc  *Service
	Web  *trading.Web
	Live *live.Hub // nil: no live stream (admin commands)
}

// Routes registers the hall's pages, and its API for bidders' own tools.
func (h *HallHTTP) Routes(e *echo.Echo, api *echo.Group) {
	api.GET("/lots/:id/hall", h.apiHall, trading.RequireRole())
	api.GET("/lots/:id/hall/header", h.header, trading.RequireRole(trading.RoleBidder))
	api.POST("/lots/:id/hall/key", h.key, trading.RequireRole(trading.RoleBidder))
	api.PUT("/lots/:id/hall/backup/:part", h.backup, trading.RequireRole(trading.RoleBidder))
	anyone := trading.RequireRole()
	bidder, agent := trading.RequireRole(trading.RoleBidder), trading.RequireRole(trading.RoleAgent)
	e.GET("/lots/:id/hall", h.page, anyone)
	if h.Live != nil {
		// Events carry seats until the reveal, names and prices after it:
		// what every participant may see (EB5).
		e.GET("/lots/:id/hall/events", h.Live.Stream(func(c echo.Context) (string, error) {
			id, err := trading.IDParam(c)
			return HallTopic(id), err
		}), anyone)
	}
	e.GET("/lots/:id/hall/header", h.header, bidder)
	e.POST("/lots/:id/hall/open", h.open, agent)
	e.POST("/lots/:id/hall/signin", h.step(func(c echo.Context, id int64) error {
		return h.Svc.SignIn(c.Request().Context(), trading.ActorOf(c), id)
	}, "已签到。"), bidder)
	e.POST("/lots/:id/hall/key", h.key, bidder)
	e.PUT("/lots/:id/hall/backup/:part", h.backup, bidder)
	e.POST("/lots/:id/hall/close", h.step(func(c echo.Context, id int64) error {
		form, _ := c.FormParams()
		reasons := map[string]string{}
		for _, line := range strings.Split(c.FormValue("reasons"), "\n") {
			if seat, why, ok := strings.Cut(strings.ReplaceAll(line, "＝", "="), "="); ok {
				reasons[strings.TrimSpace(seat)] = strings.TrimSpace(why)
			}
		}
		for k, v := range form {
			if seat, ok := strings.CutPrefix(k, "reason_"); ok && len(v) > 0 {
				reasons[seat] = v[0]
			}
		}
		return h.Svc.CloseWindow(c.Request().Context(), trading.ActorOf(c), id, reasons)
	}, "解密结束，已唱标。"), agent)
	e.POST("/lots/:id/hall/pause", h.step(func(c echo.Context, id int64) error {
		ext, _ := strconv.Atoi(c.FormValue("extend_minutes"))
		return h.Svc.PauseHall(c.Request().Context(), trading.ActorOf(c), id, c.FormValue("action") == "pause", ext, c.FormValue("reason"))
	}, "已记录。"), agent)
	e.POST("/lots/:id/hall/confirm", h.step(func(c echo.Context, id int64) error {
		return h.Svc.Confirm(c.Request().Context(), trading.ActorOf(c), id)
	}, "已确认开标结果。"), bidder)
	e.POST("/lots/:id/hall/objections", h.step(func(c echo.Context, id int64) error {
		_, err := h.Svc.Object(c.Request().Context(), trading.ActorOf(c), id, c.FormValue("text"))
		return err
	}, "异议已提出，请等待主持人当场答复。"), bidder)
	e.POST("/lots/:id/hall/objections/:oid/answer", h.step(func(c echo.Context, id int64) error {
		oid, err := strconv.ParseInt(c.Param("oid"), 10, 64)
		if err != nil {
			return trading.Invalid("oid", "异议编号不正确")
		}
		return h.Svc.Answer(c.Request().Context(), trading.ActorOf(c), id, oid, c.FormValue("answer"))
	}, "已答复。"), agent)
	e.POST("/lots/:id/hall/conclude", h.step(func(c echo.Context, id int64) error {
		_, err := h.Svc.Conclude(c.Request().Context(), trading.ActorOf(c), id)
		return err
	}, "开标结束，开标记录已生成并存档。"), agent)
	e.GET("/lots/:id/opening-record", h.record)
	e.POST("/lots/:id/hall/opening-announcement", h.regenerate, agent)
	api.POST("/lots/:id/hall/opening-announcement", h.apiRegenerate, agent)
}

// regenerate is the host's 重新生成开标记录公告 (hall_announcement.go).
func (h *HallHTTP) regenerate(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	_, created, err := h.Svc.RegenerateOpeningAnnouncement(c.Request().Context(), trading.ActorOf(c), id)
	msg := "开标记录公告已经生成，无需重新生成。"
	switch de := trading.FormError(err); {
	case err != nil && de == nil:
		return err
	case err != nil:
		msg = "开标记录公告仍未能生成：" + de.Message
	case created:
		msg = "开标记录公告已重新生成，并已提交监督审核。"
	}
	trading.Flash(c, msg)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/lots/%d/hall", id))
}

func (h *HallHTTP) apiRegenerate(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	n, created, err := h.Svc.RegenerateOpeningAnnouncement(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, map[string]any{"lot_id": id, "announcement_id": n, "created": created})
}

type hallPage struct {
	*HallView
	Signals []Signal
	Role    string
	Error   string
}

func (h *HallHTTP) apiHall(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	v, err := h.Svc.Hall(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"lot_id": id, "opening": v.Opening, "pending": v.Pending, "mine": v.Mine,
		"bids": v.Bids, "objections": v.Objections, "live_seq": v.Seq, "now": v.Now})
}

func (h *HallHTTP) page(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	a := trading.ActorOf(c)
	v, err := h.Svc.Hall(c.Request().Context(), a, id)
	if err != nil {
		return err
	}
	pg := hallPage{HallView: v, Role: string(a.Role)}
	if a.Role == trading.RoleSupervisor && v.Opening != nil {
		if pg.Signals, err = h.Svc.CollusionSignals(c.Request().Context(), a, id); err != nil {
			return err
		}
	}
	return h.Web.Page(c, http.StatusOK, "hall", "开标大厅", pg)
}

// step runs a form step and goes back to the hall with its message.
func (h *HallHTTP) step(f func(c echo.Context, id int64) error, ok string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := trading.IDParam(c)
		if err != nil {
			return err
		}
		if err := f(c, id); err != nil {
			if de := trading.FormError(err); de != nil {
				trading.Flash(c, de.Message)
				return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/lots/%d/hall", id))
			}
			return err
		}
		trading.Flash(c, ok)
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/lots/%d/hall", id))
	}
}

func (h *HallHTTP) open(c echo.Context) error {
	return h.step(func(c echo.Context, id int64) error {
		m, _ := strconv.Atoi(c.FormValue("window_minutes"))
		_, err := h.Svc.OpenHall(c.Request().Context(), trading.ActorOf(c), id, m)
		return err
	}, "开标大厅已开启。")(c)
}

func (h *HallHTTP) header(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	hd, err := h.Svc.HallHeader(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, hd)
}

type keyRequest struct {
	Token string `json:"token"`
}

func (h *HallHTTP) key(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	var in keyRequest
	if err := trading.BindJSON(c, &in); err != nil {
		return err
	}
	if err := h.Svc.Decrypt(c.Request().Context(), trading.ActorOf(c), id, in.Token); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *HallHTTP) backup(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	part, err := intParam(c, "part", 0, MaxBidFiles)
	if err != nil {
		return err
	}
	var body io.Reader = c.Request().Body
	if err := h.Svc.SubmitBackup(c.Request().Context(), trading.ActorOf(c), id, int(part), c.QueryParam("nonce"), body); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *HallHTTP) record(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	r, digest, err := h.Svc.OpeningRecord(c.Request().Context(), id)
	if err != nil {
		return err
	}
	defer r.Close()
	c.Response().Header().Set("X-Content-SHA256", digest)
	c.Response().Header().Set("Content-Disposition", ContentDisposition(fmt.Sprintf("开标记录-%d.md", id)))
	return c.Stream(http.StatusOK, "text/markdown; charset=utf-8", r)
}
