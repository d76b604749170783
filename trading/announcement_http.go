package trading

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading/rules"
)

// announcementRoutes registers the pages and API of announcements (公告):
// drafting and amending by agents, review by supervisors.
func (w *Web) announcementRoutes(agent, sup *echo.Group, api *echo.Group) {
	agent.GET("/projects/:code/announcements/new", w.announcementNew)
	agent.POST("/projects/:code/announcements", w.announcementCreate)
	agent.GET("/announcements/:id/edit", w.announcementEdit)
	agent.POST("/announcements/:id", w.announcementUpdate)
	agent.POST("/announcements/:id/submit", w.announcementStep("submit"))
	agent.POST("/announcements/:id/withdraw", w.announcementStep("withdraw"))

	sup.GET("/reviews", w.reviewQueue)
	sup.GET("/announcements/:id", w.reviewShow)
	sup.POST("/announcements/:id/approve", w.announcementStep("approve"))
	sup.POST("/announcements/:id/reject", w.announcementStep("reject"))

	api.POST("/projects/:code/announcements", w.apiAnnouncementCreate, RequireRole(RoleAgent))
	api.PUT("/announcements/:id", w.apiAnnouncementUpdate, RequireRole(RoleAgent))
	api.POST("/announcements/:id/submit", w.apiAnnouncementStep("submit"), RequireRole(RoleAgent))
	api.POST("/announcements/:id/withdraw", w.apiAnnouncementStep("withdraw"), RequireRole(RoleAgent))
	api.POST("/announcements/:id/approve", w.apiAnnouncementStep("approve"), RequireRole(RoleSupervisor))
	api.POST("/announcements/:id/reject", w.apiAnnouncementStep("reject"), RequireRole(RoleSupervisor))
	api.GET("/reviews", w.apiReviews, RequireRole(RoleSupervisor))
}

// announcementForm is the draft/edit page's data.
type announcementForm struct {
	Project *Project
	ID      int64
	In      AnnouncementInput
	Error   *Error
	Amends  *Announcement
	Lots    []amendLot
}

// amendLot shows a lot's current times beside the amendment's new ones.
type amendLot struct {
	Lot    Lot
	Change LotChangeInput
}

func (w *Web) renderAnnouncementForm(c echo.Context, status int, f announcementForm) error {
	if f.In.Type == AnnouncementAmendment {
		if f.Amends == nil && f.In.AmendsID > 0 {
			n, _, err := w.Svc.Announcement(c.Request().Context(), ActorOf(c), f.In.AmendsID)
			if err == nil {
				f.Amends = n
			}
		}
		byLot := map[int64]LotChangeInput{}
		for _, ch := range f.In.Changes {
			byLot[ch.LotID] = ch
		}
		for _, l := range f.Project.Lots {
			f.Lots = append(f.Lots, amendLot{Lot: l, Change: byLot[l.ID]})
		}
	}
	title := f.In.Type.Name()
	if f.ID == 0 {
		title = "起草" + title
	}
	return w.Page(c, status, "announcement_form", title, f)
}

func (w *Web) announcementNew(c echo.Context) error {
	p, err := w.Svc.Project(c.Request().Context(), ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	in := AnnouncementInput{Type: AnnouncementType(c.QueryParam("type"))}
	if !in.Type.Valid() {
		return Invalid("type", "公告类型不正确")
	}
	in.AmendsID, _ = strconv.ParseInt(c.QueryParam("amends"), 10, 64)
	if in.Type.IsOpening() {
		in.Title = p.Title + in.Type.Name()
	}
	return w.renderAnnouncementForm(c, http.StatusOK, announcementForm{Project: p, In: in})
}

func bindAnnouncementForm(c echo.Context) (AnnouncementInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return AnnouncementInput{}, Invalid("body", "表单格式不正确")
	}
	in := AnnouncementInput{Type: AnnouncementType(form.Get("type")), Title: form.Get("title"), Body: form.Get("body")}
	in.AmendsID, _ = strconv.ParseInt(form.Get("amends_id"), 10, 64)
	for _, v := range form["change_lot"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return in, Invalid("change_lot", "%s编号不正确", AnyLot)
		}
		g := func(f string) string { return form.Get(fmt.Sprintf("changes[%d].%s", id, f)) }
		in.Changes = append(in.Changes, LotChangeInput{LotID: id, DocIssueEnd: g("doc_issue_end"), RegistrationEnd: g("registration_end"),
			BidDeadline: g("bid_deadline"), ListingEnd: g("listing_end"), AuctionAt: g("auction_at"), OpeningPlace: g("opening_place")})
	}
	return in, nil
}

// unchangedDropped keeps only the lot changes that differ from the lot.
func unchangedDropped(p *Project, in []LotChangeInput) []LotChangeInput {
	var out []LotChangeInput
	for _, ch := range in {
		for _, l := range p.Lots {
			if l.ID != ch.LotID {
				continue
			}
			same := func(v string, t *time.Time) string {
				if v == localInput(t) {
					return ""
				}
				return v
			}
			ch.DocIssueEnd, ch.RegistrationEnd = same(ch.DocIssueEnd, l.DocIssueEnd), same(ch.RegistrationEnd, l.RegistrationEnd)
			ch.BidDeadline, ch.ListingEnd, ch.AuctionAt = same(ch.BidDeadline, l.BidDeadline), same(ch.ListingEnd, l.ListingEnd), same(ch.AuctionAt, l.AuctionAt)
			if ch.OpeningPlace == l.OpeningPlace {
				ch.OpeningPlace = ""
			}
			out = append(out, ch)
		}
	}
	return out
}

func (w *Web) announcementCreate(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := w.Svc.Project(ctx, ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	in, err := bindAnnouncementForm(c)
	if err != nil {
		return err
	}
	in.Changes = unchangedDropped(p, in.Changes)
	n, err := w.Svc.DraftAnnouncement(ctx, ActorOf(c), p.Code, in)
	if de := FormError(err); de != nil {
		return w.renderAnnouncementForm(c, de.Status(), announcementForm{Project: p, In: in, Error: de})
	}
	if err != nil {
		return err
	}
	return w.afterDraft(c, n)
}

// afterDraft submits at once when the agent pressed "save and submit".
func (w *Web) afterDraft(c echo.Context, n *Announcement) error {
	if c.FormValue("submit") == "" {
		Flash(c, "公告草稿已保存。")
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agent/announcements/%d/edit", n.ID))
	}
	sub, err := w.Svc.SubmitAnnouncement(c.Request().Context(), ActorOf(c), n.ID)
	if err != nil {
		if de := FormError(err); de != nil {
			return w.renderAnnouncementEdit(c, de.Status(), n.ID, "草稿已保存，但未能提交。", de)
		}
		return err
	}
	Flash(c, "公告已提交，等待交易中心审核。"+notesText(sub.RuleNotes))
	var p Project
	w.Svc.DB.WithContext(c.Request().Context()).Select("code").First(&p, n.ProjectID)
	return c.Redirect(http.StatusSeeOther, "/agent/projects/"+p.Code)
}

func (w *Web) announcementEdit(c echo.Context) error {
	id, err := IDParam(c)
	if err != nil {
		return err
	}
	return w.renderAnnouncementEdit(c, http.StatusOK, id, "", nil)
}

// renderAnnouncementEdit shows an announcement to its agent: the form while it is a
// draft, with a refusal (a submission the rule book refused: the list of
// broken rules, each linked to its input) and a note above it.
func (w *Web) renderAnnouncementEdit(c echo.Context, status int, id int64, note string, de *Error) error {
	n, p, err := w.Svc.Announcement(c.Request().Context(), ActorOf(c), id)
	if err != nil {
		return err
	}
	if !CanSeeSecrets(ActorOf(c), p) {
		return NotFound("公告")
	}
	in := AnnouncementInput{Type: n.Type, Title: n.Title, Body: n.Body, AmendsID: derefID(n.AmendsID)}
	if n.Changes != nil {
		for _, ch := range n.Changes.Lots {
			place := ""
			if ch.OpeningPlace != nil {
				place = *ch.OpeningPlace
			}
			in.Changes = append(in.Changes, LotChangeInput{LotID: ch.LotID, DocIssueEnd: localInput(ch.DocIssueEnd),
				RegistrationEnd: localInput(ch.RegistrationEnd), BidDeadline: localInput(ch.BidDeadline),
				ListingEnd: localInput(ch.ListingEnd), AuctionAt: localInput(ch.AuctionAt), OpeningPlace: place})
		}
	}
	f := announcementFormData(w, c, p, n, in)
	f.Error = de
	return w.Page(c, status, "announcement_show", n.Title, map[string]any{"Announcement": n, "Project": p, "Form": f, "Note": note})
}

func announcementFormData(w *Web, c echo.Context, p *Project, n *Announcement, in AnnouncementInput) announcementForm {
	f := announcementForm{Project: p, ID: n.ID, In: in}
	if in.Type == AnnouncementAmendment {
		byLot := map[int64]LotChangeInput{}
		for _, ch := range in.Changes {
			byLot[ch.LotID] = ch
		}
		for _, l := range p.Lots {
			f.Lots = append(f.Lots, amendLot{Lot: l, Change: byLot[l.ID]})
		}
	}
	return f
}

func (w *Web) announcementUpdate(c echo.Context) error {
	id, err := IDParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	n, p, err := w.Svc.Announcement(ctx, ActorOf(c), id)
	if err != nil {
		return err
	}
	in, err := bindAnnouncementForm(c)
	if err != nil {
		return err
	}
	in.Type = n.Type
	in.Changes = unchangedDropped(p, in.Changes)
	n2, err := w.Svc.UpdateAnnouncement(ctx, ActorOf(c), id, in)
	if de := FormError(err); de != nil {
		return w.renderAnnouncementForm(c, de.Status(), announcementForm{Project: p, ID: id, In: in, Error: de})
	}
	if err != nil {
		return err
	}
	return w.afterDraft(c, n2)
}

// announcementStep runs a workflow step from a page and returns to where it
// makes sense, with the outcome flashed.
func (w *Web) announcementStep(step string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := IDParam(c)
		if err != nil {
			return err
		}
		msg, back, err := w.runStep(c, step, id, c.FormValue("publish_at"), c.FormValue("reason"))
		if de := FormError(err); de != nil && step == "submit" {
			// Not a green flash: the refusal as a list on the draft's page.
			return w.renderAnnouncementEdit(c, de.Status(), id, "", de)
		}
		if de := FormError(err); de != nil && step == "approve" {
			// The supervisor's approval refused (a schedule broken by the
			// publication time): the list on the review page.
			v, rerr := w.Svc.Review(c.Request().Context(), ActorOf(c), id)
			if rerr != nil {
				return rerr
			}
			v.Error = de
			return w.Page(c, de.Status(), "review", "审核："+v.Announcement.Title, v)
		}
		if de := FormError(err); de != nil {
			Flash(c, de.Message)
			return c.Redirect(http.StatusSeeOther, back)
		}
		if err != nil {
			return err
		}
		Flash(c, msg)
		return c.Redirect(http.StatusSeeOther, back)
	}
}

func (w *Web) runStep(c echo.Context, step string, id int64, publishAt, reason string) (msg, back string, err error) {
	ctx, a := c.Request().Context(), ActorOf(c)
	switch step {
	case "submit":
		var n *Announcement
		n, err = w.Svc.SubmitAnnouncement(ctx, a, id)
		msg, back = "公告已提交，等待交易中心审核。", fmt.Sprintf("/agent/announcements/%d/edit", id)
		if err == nil {
			msg += notesText(n.RuleNotes)
			c.Set(ruleNotesKey, n.RuleNotes)
		}
	case "withdraw":
		err = w.Svc.WithdrawAnnouncement(ctx, a, id)
		msg, back = "公告已撤回为草稿。", fmt.Sprintf("/agent/announcements/%d/edit", id)
	case "approve":
		var at *time.Time
		if at, err = ParseTime("publish_at", publishAt); err == nil {
			var n *Announcement
			n, err = w.Svc.ApproveAnnouncement(ctx, a, id, at)
			if err == nil && n.Status == AnnouncementScheduled {
				msg = "已审核通过，将于 " + n.PublishAt.In(Shanghai).Format("2006-01-02 15:04") + " 发布。"
			} else {
				msg = "已审核通过并发布。"
			}
		}
		back = "/supervisor/reviews"
		if err != nil {
			back = fmt.Sprintf("/supervisor/announcements/%d", id)
		}
	case "reject":
		err = w.Svc.RejectAnnouncement(ctx, a, id, reason)
		msg, back = "公告已退回代理机构。", "/supervisor/reviews"
		if err != nil {
			back = fmt.Sprintf("/supervisor/announcements/%d", id)
		}
	}
	return msg, back, err
}

func (w *Web) reviewQueue(c echo.Context) error {
	list, err := w.Svc.ReviewQueue(c.Request().Context(), ActorOf(c))
	if err != nil {
		return err
	}
	return w.Page(c, http.StatusOK, "reviews", "公告审核", map[string]any{"Announcements": list})
}

func (w *Web) reviewShow(c echo.Context) error {
	id, err := IDParam(c)
	if err != nil {
		return err
	}
	v, err := w.Svc.Review(c.Request().Context(), ActorOf(c), id)
	if err != nil {
		return err
	}
	return w.Page(c, http.StatusOK, "review", "审核："+v.Announcement.Title, v)
}

// API

// AnnouncementJSON is an announcement in any state, for its agent and supervisors.
type AnnouncementJSON struct {
	ID           int64              `json:"id"`
	ProjectCode  string             `json:"project_code"`
	Type         AnnouncementType   `json:"type"`
	Title        string             `json:"title"`
	Body         string             `json:"body"`
	BodyHTML     string             `json:"body_html"`
	Status       AnnouncementStatus `json:"status"`
	AmendsID     *int64             `json:"amends_id,omitempty"`
	Changes      *LotChanges        `json:"changes,omitempty"`
	RejectReason string             `json:"reject_reason,omitempty"`
	PublishAt    *time.Time         `json:"publish_at,omitempty"`
	PublishedAt  *time.Time         `json:"published_at,omitempty"`
	Seq          *int64             `json:"seq,omitempty"`
	// RuleNotes: on the answer to a submission, what the rule book noted
	// without refusing (HOL warnings, 按暂行日历计算).
	RuleNotes []rules.Note `json:"rule_notes,omitempty"`
}

// AnnouncementOut is the API's shape of an announcement of the project code: the
// result steps (candidates, award, deal) answer with it too.
func AnnouncementOut(n *Announcement, code string) AnnouncementJSON { return announcementJSON(n, code) }

func announcementJSON(n *Announcement, code string) AnnouncementJSON {
	return AnnouncementJSON{ID: n.ID, ProjectCode: code, Type: n.Type, Title: n.Title, Body: n.Body, BodyHTML: n.BodyHTML,
		Status: n.Status, AmendsID: n.AmendsID, Changes: n.Changes, RejectReason: n.RejectReason, PublishAt: n.PublishAt,
		PublishedAt: n.PublishedAt, Seq: n.PublishedSeq}
}

func (w *Web) apiAnnouncementCreate(c echo.Context) error {
	var in AnnouncementInput
	if err := BindJSON(c, &in); err != nil {
		return err
	}
	n, err := w.Svc.DraftAnnouncement(c.Request().Context(), ActorOf(c), c.Param("code"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, announcementJSON(n, c.Param("code")))
}

func (w *Web) apiAnnouncementUpdate(c echo.Context) error {
	id, err := IDParam(c)
	if err != nil {
		return err
	}
	var in AnnouncementInput
	if err := BindJSON(c, &in); err != nil {
		return err
	}
	n, err := w.Svc.UpdateAnnouncement(c.Request().Context(), ActorOf(c), id, in)
	if err != nil {
		return err
	}
	return w.apiAnnouncement(c, n.ID)
}

func (w *Web) apiAnnouncement(c echo.Context, id int64) error {
	n, p, err := w.Svc.Announcement(c.Request().Context(), ActorOf(c), id)
	if err != nil {
		return err
	}
	j := announcementJSON(n, p.Code)
	if notes, ok := c.Get(ruleNotesKey).([]rules.Note); ok {
		j.RuleNotes = notes
	}
	return c.JSON(http.StatusOK, j)
}

type stepRequest struct {
	PublishAt string `json:"publish_at"`
	Reason    string `json:"reason"`
}

func (w *Web) apiAnnouncementStep(step string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := IDParam(c)
		if err != nil {
			return err
		}
		var in stepRequest
		if c.Request().ContentLength != 0 {
			if err := BindJSON(c, &in); err != nil {
				return err
			}
		}
		if _, _, err := w.runStep(c, step, id, in.PublishAt, in.Reason); err != nil {
			return err
		}
		return w.apiAnnouncement(c, id)
	}
}

func (w *Web) apiReviews(c echo.Context) error {
	list, err := w.Svc.ReviewQueue(c.Request().Context(), ActorOf(c))
	if err != nil {
		return err
	}
	items := make([]AnnouncementJSON, len(list))
	for i := range list {
		items[i] = announcementJSON(&list[i], list[i].Project.Code)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// ruleNotesKey carries a submission's rule notes to its API answer.
const ruleNotesKey = "ggzy.rule_notes"

// notesText puts the rule book's notes (HOL, 按暂行日历计算) after a
// submission's message, so the agent sees them at once.
func notesText(notes []rules.Note) string {
	if len(notes) == 0 {
		return ""
	}
	// The flash travels in a cookie: keep it well under 4 KB.
	var parts []string
	size := 0
	for i, n := range notes {
		if size += len(n.String()); size > 1500 {
			parts = append(parts, fmt.Sprintf("……另有%d条提示，审核页面可见", len(notes)-i))
			break
		}
		parts = append(parts, n.String())
	}
	return "请注意：" + strings.Join(parts, "；")
}
