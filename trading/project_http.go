package trading

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
)

// ProjectRoutes registers the agents' and supervisors' pages for projects
// and, through announcementRoutes, for announcements and their review
// workflow, and their API.
func (w *Web) ProjectRoutes(e *echo.Echo, api *echo.Group) {
	agent := e.Group("/agent", RequireRole(RoleAgent))
	agent.GET("/projects", w.projectList)
	agent.GET("/projects/new", w.projectNew)
	agent.POST("/projects", w.projectCreate)
	agent.GET("/projects/:code", w.projectShow)
	agent.GET("/projects/:code/edit", w.projectEdit)
	agent.POST("/projects/:code", w.projectUpdate)
	agent.POST("/projects/:code/delete", w.projectDelete)

	sup := e.Group("/supervisor", RequireRole(RoleSupervisor))
	sup.GET("/projects", w.projectList)
	sup.GET("/projects/:code", w.projectShow)

	api.GET("/projects", w.apiProjects, RequireRole(RoleAgent, RoleSupervisor))
	api.POST("/projects", w.apiProjectCreate, RequireRole(RoleAgent))
	api.GET("/projects/:code", w.apiProject, RequireRole(RoleAgent, RoleSupervisor))
	api.PUT("/projects/:code", w.apiProjectUpdate, RequireRole(RoleAgent))
	api.DELETE("/projects/:code", w.apiProjectDelete, RequireRole(RoleAgent))
	w.announcementRoutes(agent, sup, api)
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
	page, err := PageParam(c)
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
	pager := NumberedPager(c, page, perPage, total)
	return w.Page(c, http.StatusOK, "projects", "交易项目", map[string]any{
		"Projects": list, "Total": total, "Pager": pager, "Filter": f, "Base": projectsPath(CurrentAccount(c)),
		"Categories": CategoryOptions(), "Statuses": projectStatusOptions()})
}

// CategoryOptions are the four categories as select-box options, in display order.
func CategoryOptions() []Option {
	var out []Option
	for _, c := range Categories() {
		out = append(out, Option{string(c), c.Name()})
	}
	return out
}

// projectForm is the create/edit page's data.
type projectForm struct {
	Code       string
	In         ProjectInput
	Error      *Error
	Regions    []Region
	Categories []Option
	SubTypes   []SubTypeGroup
}

func (w *Web) renderProjectForm(c echo.Context, status int, f projectForm) error {
	regions, err := w.Svc.Regions(c.Request().Context())
	if err != nil {
		return err
	}
	f.Regions, f.Categories, f.SubTypes = regions, CategoryOptions(), SubTypeGroups()
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
		in.Category = Engineering
	}
	return w.renderProjectForm(c, http.StatusOK, projectForm{In: in})
}

// bindProjectForm reads a project and its lots ("lots[0].name", …) from
// a submitted form. An "add_lot" button keeps the input and adds a block;
// a "refresh" button (the category switch without script) keeps the input
// and shows the chosen category's fields. Either way nothing is saved.
func bindProjectForm(c echo.Context) (ProjectInput, bool, error) {
	form, err := c.FormParams()
	if err != nil {
		return ProjectInput{}, false, Invalid("body", "表单格式不正确")
	}
	in := ProjectInput{Category: Category(form.Get("category")), SubType: SubType(form.Get("sub_type")), Title: form.Get("title"), OwnerName: form.Get("owner_name"),
		OwnerContact: form.Get("owner_contact"), RegionCode: form.Get("region_code"), StateFunded: form.Get("state_funded") != ""}
	n, _ := strconv.Atoi(form.Get("lot_count"))
	if n < 0 || n > 100 {
		return in, false, Invalid("lot_count", "%s数量不正确", LotNounOf(in.Category))
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
			BiddingMode: g("bidding_mode"), PriceCap: g("price_cap"), IncrementMultiple: g("increment_multiple") != "",
			PostQualification: g("post_qualification"), PriorityHolder: g("priority_holder")})
	}
	add := form.Get("add_lot") != ""
	if add {
		in.Lots = append(in.Lots, LotInput{})
	}
	rerender := add || form.Get("refresh") != ""
	if rerender && len(in.Lots) == 0 {
		in.Lots = []LotInput{{}}
	}
	if rerender && !in.Category.Valid() {
		in.Category = Engineering
	}
	return in, rerender, nil
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
	if de := FormError(err); de != nil {
		return w.renderProjectForm(c, de.Status(), projectForm{In: in, Error: de})
	}
	if err != nil {
		return err
	}
	Flash(c, "已创建项目，交易编码 "+p.Code+"。下一步：起草并提交公告。")
	return c.Redirect(http.StatusSeeOther, "/agent/projects/"+p.Code)
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
	if de := FormError(err); de != nil {
		return w.renderProjectForm(c, de.Status(), projectForm{Code: code, In: in, Error: de})
	}
	if err != nil {
		return err
	}
	Flash(c, "项目已保存。")
	return c.Redirect(http.StatusSeeOther, "/agent/projects/"+code)
}

// projectDelete deletes a draft project. The form asks twice: a ticked box
// (works without script) and, with script, a confirm dialog.
func (w *Web) projectDelete(c echo.Context) error {
	code := c.Param("code")
	if c.FormValue("confirm") == "" {
		return Invalid("confirm", "请勾选“确认删除此草稿项目”后再删除")
	}
	if err := w.Svc.DeleteProject(c.Request().Context(), ActorOf(c), code); err != nil {
		return err
	}
	Flash(c, "草稿项目 "+code+" 已删除。")
	return c.Redirect(http.StatusSeeOther, "/agent/projects")
}

// apiProjectDelete deletes a draft project of the agent's (204), as the
// page's 删除 does; a project with a submitted or published announcement is 409.
func (w *Web) apiProjectDelete(c echo.Context) error {
	if err := w.Svc.DeleteProject(c.Request().Context(), ActorOf(c), c.Param("code")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// inputOf turns a stored project back into form input.
func inputOf(p *Project) ProjectInput {
	in := ProjectInput{Category: p.Category, SubType: p.SubType, Title: p.Title, OwnerName: p.OwnerName, OwnerContact: p.OwnerContact,
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
			BiddingMode: l.BiddingMode, PriceCap: m(l.PriceCap), IncrementMultiple: l.IncrementMultiple,
			PostQualification: l.PostQualification, PriorityHolder: l.PriorityHolder})
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
	announcements, err := w.Svc.ProjectAnnouncements(ctx, a, p)
	if err != nil {
		return err
	}
	var nextTypes []Option
	if a.Role == RoleAgent {
		for _, t := range AnnouncementTypes {
			in := AnnouncementInput{Type: t}
			if t == AnnouncementAmendment || t.IsGenerated() {
				continue // offered per published announcement; generated from a lot's result
			}
			if w.Svc.checkTypeAllowed(w.Svc.DB.WithContext(ctx), p, &in) == nil {
				nextTypes = append(nextTypes, Option{string(t), t.Name()})
			}
		}
	}
	return w.Page(c, http.StatusOK, "project", p.Title, map[string]any{
		"Project": p, "Announcements": announcements, "NextTypes": nextTypes, "IsAgent": a.Role == RoleAgent,
		"CanAmend": a.Role == RoleAgent && p.Status == ProjectActive})
}

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

// JSON is the project as its agent and the supervisors see it in the API.
func (p *Project) JSON() ProjectJSON {
	out := ProjectJSON{PublicProject: p.Public(), ID: p.ID, OwnerContact: p.OwnerContact, StateFunded: p.StateFunded, CreatedAt: p.CreatedAt}
	for _, l := range p.Lots {
		out.Lots = append(out.Lots, LotJSON{PublicLot: l.Public(), ReservePrice: l.ReservePrice, Prequalification: l.Prequalification,
			SurveyDesign: l.SurveyDesign, Relisting: l.Relisting, ListingApproved: l.ListingApproved})
	}
	return out
}

func (w *Web) apiProjects(c echo.Context) error {
	offset, err := QueryInt(c, "offset", 0, 1<<30, 0)
	if err != nil {
		return err
	}
	limit, err := QueryInt(c, "limit", 0, 100, 0) // 0: the service's default
	if err != nil {
		return err
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
	return c.JSON(http.StatusCreated, p.JSON())
}

func (w *Web) apiProject(c echo.Context) error {
	p, err := w.Svc.Project(c.Request().Context(), ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p.JSON())
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
	return c.JSON(http.StatusOK, p.JSON())
}
