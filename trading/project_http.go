package trading

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
)

// ProjectRoutes registers the agents' and supervisors' pages for projects
// and the review workflow, and their API.
func (w *Web) ProjectRoutes(e *echo.Echo, api *echo.Group) {
	agent := e.Group("/agent", RequireRole(RoleAgent))
	agent.GET("/projects", w.projectList)
	agent.GET("/projects/new", w.projectNew)
	agent.POST("/projects", w.projectCreate)
	agent.GET("/projects/:code", w.projectShow)
	agent.GET("/projects/:code/edit", w.projectEdit)
	agent.POST("/projects/:code", w.projectUpdate)
	agent.GET("/projects/:code/announcements/new", w.noticeNew)
	agent.POST("/projects/:code/announcements", w.noticeCreate)
	agent.GET("/announcements/:id/edit", w.noticeEdit)
	agent.POST("/announcements/:id", w.noticeUpdate)
	agent.POST("/announcements/:id/submit", w.noticeStep("submit"))
	agent.POST("/announcements/:id/withdraw", w.noticeStep("withdraw"))

	sup := e.Group("/supervisor", RequireRole(RoleSupervisor))
	sup.GET("/projects", w.projectList)
	sup.GET("/projects/:code", w.projectShow)
	sup.GET("/reviews", w.reviewQueue)
	sup.GET("/announcements/:id", w.reviewShow)
	sup.POST("/announcements/:id/approve", w.noticeStep("approve"))
	sup.POST("/announcements/:id/reject", w.noticeStep("reject"))

	api.GET("/projects", w.apiProjects, RequireRole(RoleAgent, RoleSupervisor))
	api.POST("/projects", w.apiProjectCreate, RequireRole(RoleAgent))
	api.GET("/projects/:code", w.apiProject, RequireRole(RoleAgent, RoleSupervisor))
	api.PUT("/projects/:code", w.apiProjectUpdate, RequireRole(RoleAgent))
	api.POST("/projects/:code/announcements", w.apiNoticeCreate, RequireRole(RoleAgent))
	api.PUT("/announcements/:id", w.apiNoticeUpdate, RequireRole(RoleAgent))
	api.POST("/announcements/:id/submit", w.apiNoticeStep("submit"), RequireRole(RoleAgent))
	api.POST("/announcements/:id/withdraw", w.apiNoticeStep("withdraw"), RequireRole(RoleAgent))
	api.POST("/announcements/:id/approve", w.apiNoticeStep("approve"), RequireRole(RoleSupervisor))
	api.POST("/announcements/:id/reject", w.apiNoticeStep("reject"), RequireRole(RoleSupervisor))
	api.GET("/reviews", w.apiReviews, RequireRole(RoleSupervisor))
}

// home of a role: where agents and supervisors manage projects.
func projectsPath(a *Account) string {
	if a != nil && a.Role == RoleSupervisor {
		return "/supervisor/projects"
	}
	return "/agent/projects"
}

func (w *Web) projectList(c echo.Context) error {
	const perPage = 20
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	f := ProjectFilter{Category: Category(c.QueryParam("category")), Status: ProjectStatus(c.QueryParam("status")),
		Query: strings.TrimSpace(c.QueryParam("q")), Offset: (page - 1) * perPage, Limit: perPage}
	if f.Category != "" && !f.Category.Valid() {
		return Invalid("category", "交易类别不正确")
	}
	list, total, err := w.Svc.ListProjects(c.Request().Context(), ActorOf(c), f)
	if err != nil {
		return err
	}
	pager := Pager{Page: page}
	if page > 1 {
		pager.Prev = pageURL(c, "page", strconv.Itoa(page-1))
	}
	if int64(page*perPage) < total {
		pager.Next = pageURL(c, "page", strconv.Itoa(page+1))
	}
	return w.Page(c, http.StatusOK, "projects", "交易项目", map[string]any{
		"Projects": list, "Total": total, "Pager": pager, "Filter": f, "Base": projectsPath(CurrentAccount(c)),
		"Categories": categoryOptions()})
}

type option struct{ Value, Name string }

func categoryOptions() []option {
	var out []option
	for _, c := range []Category{"engineering", "procurement", "land", "property"} {
		out = append(out, option{string(c), c.Name()})
	}
	return out
}

// projectForm is the create/edit page's data.
type projectForm struct {
	Code       string
	In         ProjectInput
	Error      *Error
	Regions    []Region
	Categories []option
}

func (w *Web) renderProjectForm(c echo.Context, status int, f projectForm) error {
	regions, err := w.Svc.Regions(c.Request().Context())
	if err != nil {
		return err
	}
	f.Regions, f.Categories = regions, categoryOptions()
	title := "新建交易项目"
	if f.Code != "" {
		title = "修改交易项目 " + f.Code
	}
	return w.Page(c, status, "project_form", title, f)
}

func (w *Web) projectNew(c echo.Context) error {
	n, _ := strconv.Atoi(c.QueryParam("lots"))
	n = min(max(n, 1), 20)
	in := ProjectInput{Category: Category(c.QueryParam("category")), Lots: make([]LotInput, n)}
	if !in.Category.Valid() {
		in.Category = "engineering"
	}
	return w.renderProjectForm(c, http.StatusOK, projectForm{In: in})
}

// bindProjectForm reads a project and its lots ("lots[0].name", …) from
// a submitted form. An "add_lot" button keeps the input and adds a block.
func bindProjectForm(c echo.Context) (ProjectInput, bool, error) {
	form, err := c.FormParams()
	if err != nil {
		return ProjectInput{}, false, Invalid("body", "表单格式不正确")
	}
	in := ProjectInput{Category: Category(form.Get("category")), Title: form.Get("title"), OwnerName: form.Get("owner_name"),
		OwnerContact: form.Get("owner_contact"), RegionCode: form.Get("region_code"), StateFunded: form.Get("state_funded") != ""}
	n, _ := strconv.Atoi(form.Get("lot_count"))
	if n < 0 || n > 100 {
		return in, false, Invalid("lot_count", "标段数量不正确")
	}
	for i := 0; i < n; i++ {
		g := func(f string) string { return form.Get(fmt.Sprintf("lots[%d].%s", i, f)) }
		if form.Get(fmt.Sprintf("lots[%d].remove", i)) != "" {
			continue
		}
		in.Lots = append(in.Lots, LotInput{Name: g("name"), ControlPrice: g("control_price"), EstimatedPrice: g("estimated_price"),
			Budget: g("budget"), StartingPrice: g("starting_price"), ReservePrice: g("reserve_price"), Increment: g("increment"),
			ListingPrice: g("listing_price"), AppraisedValue: g("appraised_value"), Deposit: g("deposit"),
			DocIssueStart: g("doc_issue_start"), DocIssueEnd: g("doc_issue_end"), RegistrationEnd: g("registration_end"),
			BidDeadline: g("bid_deadline"), ListingStart: g("listing_start"), ListingEnd: g("listing_end"), AuctionAt: g("auction_at"),
			OpeningPlace: g("opening_place"), Prequalification: g("prequalification") != "", SurveyDesign: g("survey_design") != "",
			Relisting: g("relisting") != "", ListingApproved: g("listing_approved") != "",
			BiddingMode: g("bidding_mode"), PriceCap: g("price_cap"), IncrementMultiple: g("increment_multiple") != ""})
	}
	add := form.Get("add_lot") != ""
	if add {
		in.Lots = append(in.Lots, LotInput{})
	}
	return in, add, nil
}

func (w *Web) projectCreate(c echo.Context) error {
	in, add, err := bindProjectForm(c)
	if err != nil {
		return err
	}
	if add {
		return w.renderProjectForm(c, http.StatusOK, projectForm{In: in})
	}
	p, err := w.Svc.CreateProject(c.Request().Context(), ActorOf(c), in)
	if de := formError(err); de != nil {
		return w.renderProjectForm(c, de.Status, projectForm{In: in, Error: de})
	}
	if err != nil {
		return err
	}
	Flash(c, "已创建项目，交易编码 "+p.Code+"。下一步：起草并提交公告。")
	return c.Redirect(http.StatusSeeOther, "/agent/projects/"+p.Code)
}

// formError is the error to show on the form itself (a 4xx), or nil.
func formError(err error) *Error {
	var de *Error
	if errors.As(err, &de) && de.Status < 500 && de.Status != http.StatusNotFound && de.Status != http.StatusForbidden {
		return de
	}
	return nil
}

func (w *Web) projectEdit(c echo.Context) error {
	p, err := w.Svc.Project(c.Request().Context(), ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	return w.renderProjectForm(c, http.StatusOK, projectForm{Code: p.Code, In: inputOf(p)})
}

func (w *Web) projectUpdate(c echo.Context) error {
	in, add, err := bindProjectForm(c)
	if err != nil {
		return err
	}
	code := c.Param("code")
	if add {
		return w.renderProjectForm(c, http.StatusOK, projectForm{Code: code, In: in})
	}
	_, err = w.Svc.UpdateProject(c.Request().Context(), ActorOf(c), code, in)
	if de := formError(err); de != nil {
		return w.renderProjectForm(c, de.Status, projectForm{Code: code, In: in, Error: de})
	}
	if err != nil {
		return err
	}
	Flash(c, "项目已保存。")
	return c.Redirect(http.StatusSeeOther, "/agent/projects/"+code)
}

// inputOf turns a stored project back into form input.
func inputOf(p *Project) ProjectInput {
	in := ProjectInput{Category: p.Category, Title: p.Title, OwnerName: p.OwnerName, OwnerContact: p.OwnerContact,
		RegionCode: p.RegionCode, StateFunded: p.StateFunded}
	m := func(d *decimal.Decimal) string {
		if d == nil {
			return ""
		}
		return d.StringFixed(2)
	}
	for _, l := range p.Lots {
		dep := ""
		if !l.Deposit.IsZero() {
			dep = l.Deposit.StringFixed(2)
		}
		in.Lots = append(in.Lots, LotInput{Name: l.Name, ControlPrice: m(l.ControlPrice), EstimatedPrice: m(l.EstimatedPrice),
			Budget: m(l.Budget), StartingPrice: m(l.StartingPrice), ReservePrice: m(l.ReservePrice), Increment: m(l.Increment),
			ListingPrice: m(l.ListingPrice), AppraisedValue: m(l.AppraisedValue), Deposit: dep,
			DocIssueStart: localInput(l.DocIssueStart), DocIssueEnd: localInput(l.DocIssueEnd), RegistrationEnd: localInput(l.RegistrationEnd),
			BidDeadline: localInput(l.BidDeadline), ListingStart: localInput(l.ListingStart), ListingEnd: localInput(l.ListingEnd),
			AuctionAt: localInput(l.AuctionAt), OpeningPlace: l.OpeningPlace, Prequalification: l.Prequalification,
			SurveyDesign: l.SurveyDesign, Relisting: l.Relisting, ListingApproved: l.ListingApproved,
			BiddingMode: l.BiddingMode, PriceCap: m(l.PriceCap), IncrementMultiple: l.IncrementMultiple})
	}
	return in
}

// localInput formats a time for <input type="datetime-local">.
func localInput(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(Shanghai).Format("2006-01-02T15:04")
}

func (w *Web) projectShow(c echo.Context) error {
	ctx := c.Request().Context()
	a := ActorOf(c)
	p, err := w.Svc.Project(ctx, a, c.Param("code"))
	if err != nil {
		return err
	}
	notices, err := w.Svc.ProjectAnnouncements(ctx, a, p)
	if err != nil {
		return err
	}
	var nextTypes []option
	if a.Role == RoleAgent {
		for _, t := range AnnouncementTypes {
			in := AnnouncementInput{Type: t}
			if t == NoticeAmendment || t == NoticeCandidates || t == NoticeResult {
				continue // offered per published notice; generated from a lot's result
			}
			if w.Svc.checkTypeAllowed(w.Svc.DB.WithContext(ctx), p, &in) == nil {
				nextTypes = append(nextTypes, option{string(t), t.Name()})
			}
		}
	}
	return w.Page(c, http.StatusOK, "project", p.Title, map[string]any{
		"Project": p, "Notices": notices, "NextTypes": nextTypes, "IsAgent": a.Role == RoleAgent,
		"CanAmend": a.Role == RoleAgent && p.Status == ProjectActive})
}

// noticeForm is the draft/edit page's data.
type noticeForm struct {
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

func (w *Web) renderNoticeForm(c echo.Context, status int, f noticeForm) error {
	if f.In.Type == NoticeAmendment {
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
	return w.Page(c, status, "notice_form", title, f)
}

func (w *Web) noticeNew(c echo.Context) error {
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
	return w.renderNoticeForm(c, http.StatusOK, noticeForm{Project: p, In: in})
}

func bindNoticeForm(c echo.Context) (AnnouncementInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return AnnouncementInput{}, Invalid("body", "表单格式不正确")
	}
	in := AnnouncementInput{Type: AnnouncementType(form.Get("type")), Title: form.Get("title"), Body: form.Get("body")}
	in.AmendsID, _ = strconv.ParseInt(form.Get("amends_id"), 10, 64)
	for _, v := range form["change_lot"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return in, Invalid("change_lot", "标段编号不正确")
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

func (w *Web) noticeCreate(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := w.Svc.Project(ctx, ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	in, err := bindNoticeForm(c)
	if err != nil {
		return err
	}
	in.Changes = unchangedDropped(p, in.Changes)
	n, err := w.Svc.DraftAnnouncement(ctx, ActorOf(c), p.Code, in)
	if de := formError(err); de != nil {
		return w.renderNoticeForm(c, de.Status, noticeForm{Project: p, In: in, Error: de})
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
	if _, err := w.Svc.SubmitAnnouncement(c.Request().Context(), ActorOf(c), n.ID); err != nil {
		if de := formError(err); de != nil {
			Flash(c, "草稿已保存，但未能提交："+de.Message)
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agent/announcements/%d/edit", n.ID))
		}
		return err
	}
	Flash(c, "公告已提交，等待交易中心审核。")
	var p Project
	w.Svc.DB.WithContext(c.Request().Context()).Select("code").First(&p, n.ProjectID)
	return c.Redirect(http.StatusSeeOther, "/agent/projects/"+p.Code)
}

func (w *Web) noticeEdit(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
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
	return w.Page(c, http.StatusOK, "notice_show", n.Title, map[string]any{"Notice": n, "Project": p, "Form": noticeFormData(w, c, p, n, in)})
}

func noticeFormData(w *Web, c echo.Context, p *Project, n *Announcement, in AnnouncementInput) noticeForm {
	f := noticeForm{Project: p, ID: n.ID, In: in}
	if in.Type == NoticeAmendment {
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

func (w *Web) noticeUpdate(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	n, p, err := w.Svc.Announcement(ctx, ActorOf(c), id)
	if err != nil {
		return err
	}
	in, err := bindNoticeForm(c)
	if err != nil {
		return err
	}
	in.Type = n.Type
	in.Changes = unchangedDropped(p, in.Changes)
	n2, err := w.Svc.UpdateAnnouncement(ctx, ActorOf(c), id, in)
	if de := formError(err); de != nil {
		return w.renderNoticeForm(c, de.Status, noticeForm{Project: p, ID: id, In: in, Error: de})
	}
	if err != nil {
		return err
	}
	return w.afterDraft(c, n2)
}

func idParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, Invalid("id", "编号须为正整数")
	}
	return id, nil
}

// noticeStep runs a workflow step from a page and returns to where it
// makes sense, with the outcome flashed.
func (w *Web) noticeStep(step string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := idParam(c)
		if err != nil {
			return err
		}
		msg, back, err := w.runStep(c, step, id, c.FormValue("publish_at"), c.FormValue("reason"))
		if de := formError(err); de != nil {
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
		_, err = w.Svc.SubmitAnnouncement(ctx, a, id)
		msg, back = "公告已提交，等待交易中心审核。", fmt.Sprintf("/agent/announcements/%d/edit", id)
	case "withdraw":
		err = w.Svc.WithdrawAnnouncement(ctx, a, id)
		msg, back = "公告已撤回为草稿。", fmt.Sprintf("/agent/announcements/%d/edit", id)
	case "approve":
		var at *time.Time
		if at, err = ParseTime("publish_at", publishAt); err == nil {
			var n *Announcement
			n, err = w.Svc.ApproveAnnouncement(ctx, a, id, at)
			if err == nil && n.Status == NoticeScheduled {
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
	return w.Page(c, http.StatusOK, "reviews", "公告审核", map[string]any{"Notices": list})
}

func (w *Web) reviewShow(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	n, p, err := w.Svc.Announcement(ctx, ActorOf(c), id)
	if err != nil {
		return err
	}
	// The rule book as of now, so the supervisor sees what approval would meet.
	violations, err := w.Svc.checkRules(ctx, w.Svc.DB, p, n, w.Svc.Clock.Now())
	if err != nil {
		return err
	}
	var amends *Announcement
	if n.AmendsID != nil {
		amends, _, _ = w.Svc.Announcement(ctx, ActorOf(c), *n.AmendsID)
	}
	return w.Page(c, http.StatusOK, "review", "审核："+n.Title, map[string]any{
		"Notice": n, "Project": p, "Violations": violations, "Amends": amends})
}

// API

// LotJSON is a lot as its agent and supervisors see it (with the reserve price).
type LotJSON struct {
	PublicLot
	ReservePrice     *decimal.Decimal `json:"reserve_price,omitempty"`
	Prequalification bool             `json:"prequalification"`
	SurveyDesign     bool             `json:"survey_design"`
	Relisting        bool             `json:"relisting"`
	ListingApproved  bool             `json:"listing_approved"`
}

// ProjectJSON is a project as its agent and supervisors see it.
type ProjectJSON struct {
	PublicProject
	ID           int64     `json:"id"`
	OwnerContact string    `json:"owner_contact"`
	StateFunded  bool      `json:"state_funded"`
	CreatedAt    time.Time `json:"created_at"`
	Lots         []LotJSON `json:"lots"`
}

func projectJSON(p *Project) ProjectJSON {
	out := ProjectJSON{PublicProject: p.Public(), ID: p.ID, OwnerContact: p.OwnerContact, StateFunded: p.StateFunded, CreatedAt: p.CreatedAt}
	for _, l := range p.Lots {
		out.Lots = append(out.Lots, LotJSON{PublicLot: l.Public(), ReservePrice: l.ReservePrice, Prequalification: l.Prequalification,
			SurveyDesign: l.SurveyDesign, Relisting: l.Relisting, ListingApproved: l.ListingApproved})
	}
	return out
}

// AnnouncementJSON is a notice in any state, for its agent and supervisors.
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
}

func announcementJSON(n *Announcement, code string) AnnouncementJSON {
	return AnnouncementJSON{ID: n.ID, ProjectCode: code, Type: n.Type, Title: n.Title, Body: n.Body, BodyHTML: n.BodyHTML,
		Status: n.Status, AmendsID: n.AmendsID, Changes: n.Changes, RejectReason: n.RejectReason, PublishAt: n.PublishAt,
		PublishedAt: n.PublishedAt, Seq: n.PublishedSeq}
}

func (w *Web) apiProjects(c echo.Context) error {
	offset, _ := strconv.Atoi(c.QueryParam("offset"))
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	if offset < 0 || limit < 0 || limit > 100 {
		return Invalid("limit", "offset 须非负，limit 为1至100")
	}
	f := ProjectFilter{Category: Category(c.QueryParam("category")), Status: ProjectStatus(c.QueryParam("status")),
		Query: c.QueryParam("q"), Offset: offset, Limit: limit}
	list, total, err := w.Svc.ListProjects(c.Request().Context(), ActorOf(c), f)
	if err != nil {
		return err
	}
	items := make([]PublicProject, len(list))
	for i := range list {
		items[i] = list[i].Public()
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "total": total})
}

func (w *Web) apiProjectCreate(c echo.Context) error {
	var in ProjectInput
	if err := BindJSON(c, &in); err != nil {
		return err
	}
	p, err := w.Svc.CreateProject(c.Request().Context(), ActorOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, projectJSON(p))
}

func (w *Web) apiProject(c echo.Context) error {
	p, err := w.Svc.Project(c.Request().Context(), ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, projectJSON(p))
}

func (w *Web) apiProjectUpdate(c echo.Context) error {
	var in ProjectInput
	if err := BindJSON(c, &in); err != nil {
		return err
	}
	p, err := w.Svc.UpdateProject(c.Request().Context(), ActorOf(c), c.Param("code"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, projectJSON(p))
}

func (w *Web) apiNoticeCreate(c echo.Context) error {
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

func (w *Web) apiNoticeUpdate(c echo.Context) error {
	id, err := idParam(c)
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
	return w.apiNotice(c, n.ID)
}

func (w *Web) apiNotice(c echo.Context, id int64) error {
	n, p, err := w.Svc.Announcement(c.Request().Context(), ActorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, announcementJSON(n, p.Code))
}

type stepRequest struct {
	PublishAt string `json:"publish_at"`
	Reason    string `json:"reason"`
}

func (w *Web) apiNoticeStep(step string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := idParam(c)
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
		return w.apiNotice(c, id)
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
