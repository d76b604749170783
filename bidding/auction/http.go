package auction

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// Handler serves the live bidding pages and their API. Live is the
// instance's hub (trading/live); without it the pages render but do not
// update.
type Handler struct {
	Svc  *Service
	Web  *trading.Web
	Live *live.Hub
}

// Routes registers the pages, the streams and the API of online bidding.
func (h *Handler) Routes(e *echo.Echo, api *echo.Group) {
	e.GET("/auctions/:id", h.watchPage)                                            // public watch page
	e.GET("/auctions/:id/bid", h.bidPage, trading.RequireRole(trading.RoleBidder)) // bidder's quote page
	e.POST("/auctions/:id/quote", h.quote, trading.RequireRole(trading.RoleBidder))
	e.POST("/auctions/:id/wants-timed", h.wantsTimed, trading.RequireRole(trading.RoleBidder))
	e.GET("/auctions/:id/record", h.record)
	e.GET("/auctions/:id/confirmation", h.confirmation, trading.RequireRole()) // 成交确认书: buyer, agent, supervisors
	e.GET("/supervise/auctions/:id", h.supervisePage, trading.RequireRole(trading.RoleSupervisor))
	e.POST("/supervise/auctions/:id/suspend", h.suspend, trading.RequireRole(trading.RoleSupervisor))
	e.POST("/supervise/auctions/:id/resume", h.resume, trading.RequireRole(trading.RoleSupervisor))
	e.GET("/agent/auctions/:id/qualification", h.qualificationPage, trading.RequireRole(trading.RoleAgent)) // 资格后审
	e.POST("/agent/auctions/:id/qualification", h.qualify, trading.RequireRole(trading.RoleAgent))
	e.POST("/auctions/:id/priority", h.priority, trading.RequireRole(trading.RoleBidder)) // 优先购买权 (P7)
	if h.Live != nil {
		// Server-Sent Events: no gzip or cache middleware may wrap these.
		e.GET("/auctions/:id/live", h.Live.Stream(func(c echo.Context) (string, error) {
			id, err := trading.IDParam(c)
			if err != nil {
				return "", err
			}
			if _, err := h.Svc.Get(c.Request().Context(), id); err != nil {
				return "", err
			}
			return topic(id), nil
		}))
		e.GET("/supervise/auctions/:id/live", h.Live.Stream(func(c echo.Context) (string, error) {
			id, err := trading.IDParam(c)
			if err != nil {
				return "", err
			}
			return supTopic(id), nil
		}), trading.RequireRole(trading.RoleSupervisor))
	}
	api.GET("/lots/:id/auction", h.apiView)
	api.POST("/lots/:id/quotes", h.apiQuote, trading.RequireRole(trading.RoleBidder))
	api.POST("/lots/:id/auction/wants-timed", h.apiWantsTimed, trading.RequireRole(trading.RoleBidder))
	api.GET("/lots/:id/auction/record", h.record)
	api.POST("/lots/:id/auction/suspend", h.apiSuspend, trading.RequireRole(trading.RoleSupervisor))
	api.POST("/lots/:id/auction/resume", h.apiResume, trading.RequireRole(trading.RoleSupervisor))
	api.GET("/lots/:id/auction/candidate", h.apiCandidate, trading.RequireRole(trading.RoleAgent))
	api.POST("/lots/:id/auction/qualification", h.apiQualify, trading.RequireRole(trading.RoleAgent))
	api.POST("/lots/:id/auction/priority", h.apiPriority, trading.RequireRole(trading.RoleBidder))
}

// pageData is what auction.html renders.
type pageData struct {
	*View
	Bidder     bool
	Supervisor bool
	Identities []Identity
	K1         []string
	SupSeq     int64
	Initial    string // the quotes as JSON, for the chart
	Params     map[string]int
}

func (h *Handler) page(c echo.Context, a trading.Actor, bidder bool) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	v, err := h.Svc.View(c.Request().Context(), a, id)
	if err != nil {
		return err
	}
	return h.render(c, &pageData{View: v, Bidder: bidder})
}

func (h *Handler) render(c echo.Context, d *pageData) error {
	b, err := json.Marshal(d.Quotes)
	if err != nil {
		return err
	}
	d.Initial = string(b)
	title := "网上竞价 " + d.LotName
	name := "auction"
	if d.Supervisor {
		name, title = "auction_supervise", "竞价监管 "+d.LotName
	}
	return h.Web.Page(c, http.StatusOK, name, title, d)
}

func (h *Handler) watchPage(c echo.Context) error {
	return h.page(c, trading.Actor{}, false) // the public: no identity, whoever is signed in
}

func (h *Handler) bidPage(c echo.Context) error { return h.page(c, trading.ActorOf(c), true) }

func (h *Handler) supervisePage(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := trading.ActorOf(c)
	v, err := h.Svc.View(ctx, trading.Actor{}, id)
	if err != nil {
		return err
	}
	ids, k1, err := h.Svc.Identities(ctx, a, id)
	if err != nil {
		return err
	}
	d := &pageData{View: v, Supervisor: true, Identities: ids, K1: k1}
	if d.SupSeq, err = live.Last(ctx, h.Svc.DB, supTopic(id)); err != nil {
		return err
	}
	return h.render(c, d)
}

// quote answers the page's script in JSON (errors too: it asks for JSON).
func (h *Handler) quote(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	in := QuoteInput{Amount: c.FormValue("amount"), Key: c.FormValue("key"), Device: c.FormValue("device")}
	r, err := h.Svc.Quote(c.Request().Context(), trading.ActorOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *Handler) wantsTimed(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.WantTimed(c.Request().Context(), trading.ActorOf(c), id); err != nil {
		return err
	}
	trading.Flash(c, "已申请参加限时竞价（L10）")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/auctions/%d/bid", id))
}

func (h *Handler) record(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	b, err := h.Svc.RecordBytes(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="auction-record-%d.json"`, id))
	return c.Blob(http.StatusOK, "application/json", b)
}

func (h *Handler) confirmation(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	d, err := h.Svc.Confirmation(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "auction_confirmation", "成交确认书 "+d.LotName, d)
}

func (h *Handler) suspend(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.Suspend(c.Request().Context(), trading.ActorOf(c), id, c.FormValue("reason")); err != nil {
		return err
	}
	trading.Flash(c, "已中止网上竞价（L13）")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/supervise/auctions/%d", id))
}

func (h *Handler) resume(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.Resume(c.Request().Context(), trading.ActorOf(c), id); err != nil {
		return err
	}
	trading.Flash(c, "已恢复网上竞价（L13）")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/supervise/auctions/%d", id))
}

func (h *Handler) apiView(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	a := trading.ActorOf(c)
	if a.Role != trading.RoleBidder {
		a = trading.Actor{}
	}
	v, err := h.Svc.View(c.Request().Context(), a, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *Handler) apiQuote(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	var in QuoteInput
	if err := trading.BindJSON(c, &in); err != nil {
		return err
	}
	r, err := h.Svc.Quote(c.Request().Context(), trading.ActorOf(c), id, in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if r.Duplicate {
		status = http.StatusOK
	}
	return c.JSON(status, r)
}

func (h *Handler) apiWantsTimed(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.WantTimed(c.Request().Context(), trading.ActorOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) apiSuspend(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := trading.BindJSON(c, &in); err != nil {
		return err
	}
	if err := h.Svc.Suspend(c.Request().Context(), trading.ActorOf(c), id, in.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) apiResume(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.Resume(c.Request().Context(), trading.ActorOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// qualificationPage shows the project's agent the candidate to check
// (资格后审) with a pass / fail form.
func (h *Handler) qualificationPage(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	v, err := h.Svc.Candidate(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "auction_qualify", "资格后审 "+v.LotName, v)
}

func (h *Handler) qualify(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	in := QualifyInput{Passed: c.FormValue("passed") == "1", Reason: c.FormValue("reason")}
	if err := h.Svc.Qualify(c.Request().Context(), trading.ActorOf(c), id, in); err != nil {
		return err
	}
	if in.Passed {
		trading.Flash(c, "已确认竞得候选人资格后审合格")
	} else {
		trading.Flash(c, "已记录资格后审不合格，标的按公告处理（递补或流拍）")
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/auctions/%d", id))
}

func (h *Handler) priority(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	in := PriorityInput{Exercise: c.FormValue("exercise") == "1"}
	if err := h.Svc.Priority(c.Request().Context(), trading.ActorOf(c), id, in); err != nil {
		return err
	}
	if in.Exercise {
		trading.Flash(c, "已行使优先购买权，以最终报价成交（P7）")
	} else {
		trading.Flash(c, "已放弃优先购买权（P7）")
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/auctions/%d/bid", id))
}

func (h *Handler) apiCandidate(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	v, err := h.Svc.Candidate(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *Handler) apiQualify(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	// passed must be sent: a missing one is not taken as a failure.
	var body struct {
		Passed *bool  `json:"passed"`
		Reason string `json:"reason"`
	}
	if err := trading.BindJSON(c, &body); err != nil {
		return err
	}
	if body.Passed == nil {
		return trading.Invalid("passed", "请写明资格后审是否合格（passed: true 或 false）")
	}
	in := QualifyInput{Passed: *body.Passed, Reason: body.Reason}
	if err := h.Svc.Qualify(c.Request().Context(), trading.ActorOf(c), id, in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) apiPriority(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	// exercise must be sent: an empty body must not give the right up.
	var body struct {
		Exercise *bool `json:"exercise"`
	}
	if err := trading.BindJSON(c, &body); err != nil {
		return err
	}
	if body.Exercise == nil {
		return trading.Invalid("exercise", "请写明是否行使优先购买权（exercise: true 或 false）").WithRule("P7")
	}
	in := PriorityInput{Exercise: *body.Exercise}
	if err := h.Svc.Priority(c.Request().Context(), trading.ActorOf(c), id, in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
