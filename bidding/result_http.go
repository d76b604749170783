package bidding

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
)

// resultRoutes registers the result pages (开标与结果) and their API.
func (h *Handler) resultRoutes(e *echo.Echo, api *echo.Group) {
	agent := trading.RequireRole(trading.RoleAgent)
	e.GET("/agent/lots/:id/result", h.resultPage, agent)
	e.GET("/supervisor/lots/:id/result", h.resultPage, trading.RequireRole(trading.RoleSupervisor))
	e.POST("/agent/lots/:id/result/opening", h.resultForm(h.formOpening), agent)
	e.POST("/agent/lots/:id/result/failed", h.resultForm(h.formFailed), agent)
	e.POST("/agent/lots/:id/result/candidates", h.resultForm(h.formCandidates), agent)
	e.POST("/agent/lots/:id/result/award", h.resultForm(h.formAward), agent)
	e.POST("/agent/lots/:id/result/contract", h.resultForm(h.formContract), agent)
	e.POST("/agent/lots/:id/result/deal", h.resultForm(h.formDeal), agent)

	api.GET("/lots/:id/result", h.apiResult, trading.RequireRole(trading.RoleAgent, trading.RoleSupervisor))
	api.POST("/lots/:id/result/opening", h.apiResultStep(func(c echo.Context, a trading.Actor, id int64) (any, error) {
		var in OpeningInput
		if err := trading.BindJSON(c, &in); err != nil {
			return nil, err
		}
		return h.Svc.RecordOpening(c.Request().Context(), a, id, in)
	}), agent)
	api.POST("/lots/:id/result/failed", h.apiResultStep(func(c echo.Context, a trading.Actor, id int64) (any, error) {
		var in struct {
			Reason string `json:"reason"`
		}
		if err := trading.BindJSON(c, &in); err != nil {
			return nil, err
		}
		return nil, h.Svc.DeclareFailed(c.Request().Context(), a, id, in.Reason)
	}), agent)
	api.POST("/lots/:id/result/candidates", h.apiResultStep(func(c echo.Context, a trading.Actor, id int64) (any, error) {
		var in struct {
			IDNumbers    []string `json:"id_numbers"`
			PublicityEnd string   `json:"publicity_end"`
			Note         string   `json:"note"`
		}
		if err := trading.BindJSON(c, &in); err != nil {
			return nil, err
		}
		end, err := trading.ParseTime("publicity_end", in.PublicityEnd)
		if err != nil {
			return nil, err
		}
		return h.Svc.SetCandidates(c.Request().Context(), a, id, CandidatesInput{IDNumbers: in.IDNumbers, PublicityEnd: deref(end), Note: in.Note})
	}), agent)
	api.POST("/lots/:id/result/award", h.apiResultStep(func(c echo.Context, a trading.Actor, id int64) (any, error) {
		var in AwardInput
		if err := trading.BindJSON(c, &in); err != nil {
			return nil, err
		}
		return h.Svc.Award(c.Request().Context(), a, id, in)
	}), agent)
	api.POST("/lots/:id/result/contract", h.apiResultStep(func(c echo.Context, a trading.Actor, id int64) (any, error) {
		var in struct {
			Date   string `json:"date"`
			Amount string `json:"amount"`
		}
		if err := trading.BindJSON(c, &in); err != nil {
			return nil, err
		}
		date, err := parseDate("date", in.Date)
		if err != nil {
			return nil, err
		}
		return h.Svc.RecordContract(c.Request().Context(), a, id, ContractInput{Date: date, Amount: in.Amount})
	}), agent)
	api.POST("/lots/:id/result/deal", h.apiResultStep(func(c echo.Context, a trading.Actor, id int64) (any, error) {
		var in DealInput
		if err := trading.BindJSON(c, &in); err != nil {
			return nil, err
		}
		return h.Svc.RecordDeal(c.Request().Context(), a, id, in)
	}), agent)
}

// parseDate reads a calendar date (YYYY-MM-DD) in Asia/Shanghai.
func parseDate(field, s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), trading.Shanghai)
	if err != nil {
		return time.Time{}, trading.Invalid(field, "日期格式应为 YYYY-MM-DD，实际为“%s”", s)
	}
	return t, nil
}

// resultData is what the result page shows.
type resultData struct {
	*ResultView
	IsAgent     bool
	BidTender   bool
	PastDue     bool
	Now         time.Time
	Candidates  []LotBid
	ValidBids   []LotBid
	Outcome     *trading.LotOutcome
	PublicityOK bool // the award form may be used
	Error       *trading.Error
	Form        map[string]string
	Paper       bool // bids on paper: the agent types the opening record
	// Deposits by registration id: each bidder's deposit and K1 alert,
	// beside its name on the opening-record form.
	Deposits map[int64]DepositState
}

// Row is what was typed in row i of the opening-record form, kept when
// the form is refused (an error in one row keeps every row).
func (d *resultData) Row(i int) map[string]string {
	k := strconv.Itoa(i)
	return map[string]string{"submitted": d.Form["submitted_"+k], "price": d.Form["price_"+k], "rejected": d.Form["rejected_"+k]}
}

func (h *Handler) resultData(c echo.Context, id int64) (*resultData, error) {
	a := trading.ActorOf(c)
	v, err := h.Svc.Result(c.Request().Context(), a, id)
	if err != nil {
		return nil, err
	}
	now := h.Svc.Clock.Now()
	d := &resultData{ResultView: v, IsAgent: a.Role == trading.RoleAgent, BidTender: isBidTender(v.Project.Category), Now: now,
		PastDue: !v.Deadline.IsZero() && !now.Before(v.Deadline), Form: map[string]string{}}
	for _, b := range v.Bids {
		if b.Rank != nil {
			d.Candidates = append(d.Candidates, b)
		}
		if b.RejectedReason == "" && b.Price != nil {
			d.ValidBids = append(d.ValidBids, b)
		}
	}
	if r := v.Result; r != nil && v.CandidatesAnnouncement != nil {
		d.PublicityOK = v.CandidatesAnnouncement.Status == trading.AnnouncementPublished && (r.PublicityEnd == nil || !now.Before(*r.PublicityEnd))
	}
	var o trading.LotOutcome
	if err := h.Svc.DB.WithContext(c.Request().Context()).Where("lot_id = ?", id).Limit(1).Find(&o).Error; err != nil {
		return nil, err
	}
	if o.LotID != 0 {
		d.Outcome = &o
	}
	if d.Paper, err = isPaperLot(h.Svc.DB.WithContext(c.Request().Context()), id); err != nil {
		return nil, err
	}
	if len(v.Registered) > 0 && h.Svc.DepositStates != nil {
		if d.Deposits, err = h.Svc.DepositStates(c.Request().Context(), h.Svc.DB, id); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (h *Handler) resultPage(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	d, err := h.resultData(c, id)
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "lot_result", fmt.Sprintf("开标与结果：%s %s%d", d.Project.Title, d.Project.Category.LotNoun(), d.Lot.Seq), d)
}

// resultForm runs one result step from its form; a refusal is shown on
// the page with what was entered.
func (h *Handler) resultForm(step func(c echo.Context, a trading.Actor, id int64) (string, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := trading.IDParam(c)
		if err != nil {
			return err
		}
		msg, err := step(c, trading.ActorOf(c), id)
		if de := trading.FormError(err); de != nil {
			d, derr := h.resultData(c, id)
			if derr != nil {
				return derr
			}
			d.Error = de
			if form, ferr := c.FormParams(); ferr == nil {
				for k := range form {
					d.Form[k] = form.Get(k)
				}
			}
			return h.Web.Page(c, de.Status(), "lot_result", "开标与结果", d)
		}
		if err != nil {
			return err
		}
		trading.Flash(c, msg)
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agent/lots/%d/result", id))
	}
}

// formOpening reads the opening record: one row per registered bidder,
// ticked when it submitted, with its price and any rejection.
func (h *Handler) formOpening(c echo.Context, a trading.Actor, id int64) (string, error) {
	var in OpeningInput
	n, _ := strconv.Atoi(c.FormValue("rows"))
	if n < 0 || n > 500 {
		return "", trading.Invalid("rows", "行数不正确")
	}
	var rows []int // the form's row of each bid
	for i := 0; i < n; i++ {
		k := strconv.Itoa(i)
		if c.FormValue("submitted_"+k) == "" {
			continue
		}
		rows = append(rows, i)
		in.Bids = append(in.Bids, BidInput{IDNumber: c.FormValue("id_number_" + k), Price: c.FormValue("price_" + k),
			RejectedReason: c.FormValue("rejected_" + k)})
	}
	r, err := h.Svc.RecordOpening(c.Request().Context(), a, id, in)
	if err != nil {
		return "", formRow(err, rows)
	}
	if r.Stage == StageFailed {
		return "开标记录已保存。" + r.FailedReason + "。已缴保证金将退还。", nil
	}
	return fmt.Sprintf("开标记录已保存：%d家投标。", len(in.Bids)), nil
}

var bidField = regexp.MustCompile(`^bids\[(\d+)\]\.([a-z_]+)$`)

// formRow names a refused bid by the form's row, not by its place among
// the ticked rows: "bids[1].price" of the second ticked row, the form's
// third, is "rows[2].price" (第3行的报价), linked to that row's input.
func formRow(err error, rows []int) error {
	de := trading.AsError(err)
	if de == nil || de.Kind != trading.KindInvalid {
		return err
	}
	m := bidField.FindStringSubmatch(de.Field)
	if m == nil {
		return err
	}
	k, _ := strconv.Atoi(m[1])
	if k >= len(rows) {
		return err
	}
	msg := strings.Replace(de.Message, fmt.Sprintf("第%d行", k+1), fmt.Sprintf("第%d行", rows[k]+1), 1)
	return trading.Invalid(fmt.Sprintf("rows[%d].%s", rows[k], m[2]), "%s", msg).Wrapping(de)
}

func (h *Handler) formFailed(c echo.Context, a trading.Actor, id int64) (string, error) {
	if err := h.Svc.DeclareFailed(c.Request().Context(), a, id, c.FormValue("reason")); err != nil {
		return "", err
	}
	if d, err := h.Svc.Result(c.Request().Context(), a, id); err == nil && d.Result != nil && d.Result.Stage == StageDeal {
		return "未成交（流拍）公告已提交交易中心审核，发布后即为流拍（L10）。", nil
	}
	return "已宣布流标，流标公告已提交交易中心审核；已缴保证金将退还。", nil
}

func (h *Handler) formCandidates(c echo.Context, a trading.Actor, id int64) (string, error) {
	var ids []string
	for _, k := range []string{"rank1", "rank2", "rank3"} {
		if v := strings.TrimSpace(c.FormValue(k)); v != "" {
			ids = append(ids, v)
		}
	}
	end, err := trading.ParseTime("publicity_end", c.FormValue("publicity_end"))
	if err != nil {
		return "", err
	}
	if _, err := h.Svc.SetCandidates(c.Request().Context(), a, id, CandidatesInput{IDNumbers: ids, PublicityEnd: deref(end), Note: c.FormValue("note")}); err != nil {
		return "", err
	}
	return "中标候选人公示已提交交易中心审核。", nil
}

func (h *Handler) formAward(c echo.Context, a trading.Actor, id int64) (string, error) {
	in := AwardInput{IDNumber: c.FormValue("winner"), Note: c.FormValue("note"), Declined: map[string]string{}}
	form, err := c.FormParams()
	if err != nil {
		return "", trading.Invalid("winner", "表单格式不正确")
	}
	for k, v := range form {
		if strings.HasPrefix(k, "declined_") && strings.TrimSpace(v[0]) != "" {
			in.Declined[strings.TrimPrefix(k, "declined_")] = v[0]
		}
	}
	if _, err := h.Svc.Award(c.Request().Context(), a, id, in); err != nil {
		return "", err
	}
	return "中标结果公告已提交交易中心审核，发布后即为定标。", nil
}

func (h *Handler) formContract(c echo.Context, a trading.Actor, id int64) (string, error) {
	date, err := parseDate("date", c.FormValue("date"))
	if err != nil {
		return "", err
	}
	r, err := h.Svc.RecordContract(c.Request().Context(), a, id, ContractInput{Date: date, Amount: c.FormValue("amount")})
	if err != nil {
		return "", err
	}
	msg := "合同已登记，保证金将按规定退还。"
	if r.ContractLate {
		msg += "注意：合同签订超过规定的30日期限，已提示交易中心。"
	}
	return msg, nil
}

func (h *Handler) formDeal(c echo.Context, a trading.Actor, id int64) (string, error) {
	in := DealInput{NoSale: c.FormValue("no_sale") != "", IDNumber: c.FormValue("buyer"), Price: c.FormValue("price"),
		Reason: c.FormValue("reason"), Note: c.FormValue("note")}
	if _, err := h.Svc.RecordDeal(c.Request().Context(), a, id, in); err != nil {
		return "", err
	}
	return "交易结果公告已提交交易中心审核。", nil
}

// API

func (h *Handler) apiResult(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	v, err := h.Svc.Result(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	out := map[string]any{"lot_id": id, "deadline": v.Deadline, "result": v.Result, "bids": v.Bids, "winner": v.Winner}
	if v.Bids == nil {
		out["bids"] = []LotBid{}
	}
	for k, n := range map[string]*trading.Announcement{"candidates_announcement": v.CandidatesAnnouncement, "result_announcement": v.ResultAnnouncement,
		"failure_announcement": v.FailureAnnouncement} {
		if n != nil {
			out[k] = map[string]any{"id": n.ID, "status": n.Status, "title": n.Title, "published_at": n.PublishedAt}
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) apiResultStep(step func(c echo.Context, a trading.Actor, id int64) (any, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := trading.IDParam(c)
		if err != nil {
			return err
		}
		out, err := step(c, trading.ActorOf(c), id)
		if err != nil {
			return err
		}
		switch v := out.(type) {
		case nil:
			return c.NoContent(http.StatusNoContent)
		case *trading.Announcement:
			if v == nil {
				return c.NoContent(http.StatusNoContent)
			}
			// Candidates, award and deal write an announcement: answer with the
			// API's announcement shape (snake_case, the project's code), as the
			// announcements' own routes do.
			_, p, err := h.Svc.Trading.Announcement(c.Request().Context(), trading.ActorOf(c), v.ID)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, trading.AnnouncementOut(v, p.Code))
		}
		return c.JSON(http.StatusOK, out)
	}
}
