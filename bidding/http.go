package bidding

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
)

// Handler serves registration: the lot page, "my projects", notifications,
// the agents' and supervisors' registrant lists, and their API.
type Handler struct {
	Svc *Service
	Web *trading.Web
}

// Routes registers the pages and the API of registration.
func (h *Handler) Routes(e *echo.Echo, api *echo.Group) {
	e.GET("/lots/:id", h.lotPage)
	e.POST("/lots/:id/register", h.register, trading.RequireRole(trading.RoleBidder))
	e.POST("/lots/:id/withdraw", h.withdraw, trading.RequireRole(trading.RoleBidder))
	e.GET("/my/projects", h.myProjects, trading.RequireRole(trading.RoleBidder))
	e.GET("/my/notifications", h.notifications, trading.RequireRole())
	e.POST("/my/notifications/read", h.markRead, trading.RequireRole())
	e.GET("/agent/lots/:id/registrations", h.registrants, trading.RequireRole(trading.RoleAgent))
	e.POST("/agent/registrations/:id/approve", h.review(true), trading.RequireRole(trading.RoleAgent))
	e.POST("/agent/registrations/:id/reject", h.review(false), trading.RequireRole(trading.RoleAgent))
	e.GET("/supervisor/lots/:id/registrations", h.registrants, trading.RequireRole(trading.RoleSupervisor))
	e.POST("/supervisor/registrations/:id/approve", h.review(true), trading.RequireRole(trading.RoleSupervisor))
	e.POST("/supervisor/registrations/:id/reject", h.review(false), trading.RequireRole(trading.RoleSupervisor))

	api.POST("/lots/:id/registration", h.apiRegister, trading.RequireRole(trading.RoleBidder))
	api.DELETE("/lots/:id/registration", h.apiWithdraw, trading.RequireRole(trading.RoleBidder))
	api.GET("/lots/:id/registrations", h.apiRegistrants, trading.RequireRole(trading.RoleAgent, trading.RoleSupervisor))
	api.POST("/registrations/:id/approve", h.apiReview(true), trading.RequireRole(trading.RoleAgent, trading.RoleSupervisor))
	api.POST("/registrations/:id/reject", h.apiReview(false), trading.RequireRole(trading.RoleAgent, trading.RoleSupervisor))
	api.GET("/me/registrations", h.apiMine, trading.RequireRole(trading.RoleBidder))
	api.GET("/me/notifications", h.apiNotifications, trading.RequireRole())
	h.resultRoutes(e, api)
	h.letterRoutes(e)
}

// lotView is the public lot page's data.
type lotView struct {
	Project trading.PublicProject
	Lot     trading.PublicLot
	Kind    RegistrationKind
	Window  Window
	Now     time.Time
	Open    bool
	// BeforeDeadline: a registration may still be withdrawn and its
	// materials (a guarantee's scan) uploaded.
	BeforeDeadline bool
	Accept         string // the material file input's accept list
	Mine           *Registration
	Documents      any
	Decls          any
	Error          *trading.Error
	Bid            *MyBid // the bidder's own sealed bid (engineering, procurement)
}

func (h *Handler) lotView(c echo.Context, lotID int64) (*lotView, error) {
	ctx := c.Request().Context()
	db := h.Svc.DB.WithContext(ctx)
	p, lot, err := lotOf(db, lotID)
	if err != nil {
		return nil, err
	}
	opened := openedAt(p)
	if opened.IsZero() {
		return nil, trading.NotFound(trading.AnyLot) // drafts are not public
	}
	now := h.Svc.Clock.Now()
	w := WindowOf(p, lot, opened)
	v := &lotView{Project: p.Public(), Lot: lot.Public(), Kind: KindFor(p.Category), Window: w, Now: now,
		Open: checkOpen(p, w, opened, now) == nil && p.CheckRunning() == nil, Decls: ProcurementDeclarations,
		BeforeDeadline: now.Before(w.Deadline), Accept: strings.ReplaceAll(allowedList, " ", ",") + ",.jpeg"}
	if acc := trading.CurrentAccount(c); acc != nil && acc.Role == trading.RoleBidder {
		var reg Registration
		if err := db.Where("lot_id = ? AND bidder_id = ?", lotID, acc.ID).First(&reg).Error; err == nil {
			v.Mine = &reg
		}
		if isBidTender(p.Category) {
			if v.Bid, err = h.Svc.MyBidFor(ctx, trading.ActorOf(c), lotID); err != nil {
				return nil, err
			}
		}
	}
	docs, err := h.lotDocuments(c, lotID)
	if err != nil {
		return nil, err
	}
	v.Documents = docs
	return v, nil
}

func (h *Handler) lotPage(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	v, err := h.lotView(c, id)
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "lot", v.Project.Title+" "+v.Project.Category.LotNoun()+strconv.Itoa(v.Lot.Seq), v)
}

func (h *Handler) register(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	in := RegisterInput{ContactName: c.FormValue("contact_name"), ContactPhone: c.FormValue("contact_phone"), Declarations: map[string]bool{}}
	for _, d := range ProcurementDeclarations {
		in.Declarations[d.Key] = c.FormValue("decl_"+d.Key) != ""
	}
	reg, err := h.Svc.Register(c.Request().Context(), trading.ActorOf(c), id, in)
	if de := trading.FormError(err); de != nil {
		v, verr := h.lotView(c, id)
		if verr != nil {
			return verr
		}
		v.Error = de
		return h.Web.Page(c, de.Status(), "lot", v.Project.Title, v)
	}
	if err != nil {
		return err
	}
	trading.Flash(c, reg.Kind.Name()+"成功，状态："+reg.Status.Name()+"。")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/lots/%d", id))
}

func (h *Handler) withdraw(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.Withdraw(c.Request().Context(), trading.ActorOf(c), id); err != nil {
		if de := trading.FormError(err); de != nil {
			trading.Flash(c, de.Message)
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/lots/%d", id))
		}
		return err
	}
	trading.Flash(c, "已撤回。已缴纳的保证金将在撤回后5日内退还（D6）。")
	return c.Redirect(http.StatusSeeOther, "/my/projects")
}

func (h *Handler) myProjects(c echo.Context) error {
	list, err := h.Svc.MyRegistrations(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	now := h.Svc.Clock.Now()
	waiting, err := h.Svc.WaitingOn(c.Request().Context(), trading.ActorOf(c), list, now)
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "my_projects", "我的项目", map[string]any{"Registrations": list, "Waiting": waiting, "Now": now})
}

func (h *Handler) notifications(c echo.Context) error {
	list, err := h.Svc.Notifications(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "notifications", "消息通知", map[string]any{"Notifications": list})
}

func (h *Handler) markRead(c echo.Context) error {
	if err := h.Svc.MarkRead(c.Request().Context(), trading.ActorOf(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/my/notifications")
}

func (h *Handler) registrants(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	list, w, holderOnly, err := h.registrantsOrHolder(c, id)
	if err != nil {
		return err
	}
	p, lot, err := lotOf(h.Svc.DB.WithContext(c.Request().Context()), id)
	if err != nil {
		return err
	}
	role := trading.CurrentAccount(c).Role
	return h.Web.Page(c, http.StatusOK, "registrations", "报名情况", map[string]any{
		"Project": p, "Lot": lot, "Registrants": list, "Window": w, "Kind": KindFor(p.Category), "HolderOnly": holderOnly,
		"IsAgent": role == trading.RoleAgent, "ReviewPrefix": map[trading.Role]string{trading.RoleAgent: "/agent", trading.RoleSupervisor: "/supervisor"}[role]})
}

// registrantsOrHolder is the lot's registrants, or, for the agent of a lot
// with post-qualification whose bidders are secret, the priority-right
// holder's application alone (holderOnly), which it is to review before
// the bidding (P7).
func (h *Handler) registrantsOrHolder(c echo.Context, id int64) (list []RegistrantView, w *Window, holderOnly bool, err error) {
	ctx, a := c.Request().Context(), trading.ActorOf(c)
	list, w, err = h.Svc.Registrants(ctx, a, id)
	if !errors.Is(err, trading.ErrForbidden) || a.Role != trading.RoleAgent {
		return list, w, false, err
	}
	_, lot, lerr := lotOf(h.Svc.DB.WithContext(ctx), id)
	if lerr != nil || lot.PostQualification == "" || lot.PriorityHolder == "" {
		return nil, nil, false, err
	}
	list, w, err = h.Svc.HolderApplications(ctx, a, id)
	return list, w, err == nil, err
}

func (h *Handler) review(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := trading.IDParam(c)
		if err != nil {
			return err
		}
		var reg Registration
		if err := h.Svc.DB.WithContext(c.Request().Context()).First(&reg, id).Error; err != nil {
			return trading.NotFound("竞买申请")
		}
		back := fmt.Sprintf("/agent/lots/%d/registrations", reg.LotID)
		if trading.CurrentAccount(c).Role == trading.RoleSupervisor {
			back = fmt.Sprintf("/supervisor/lots/%d/registrations", reg.LotID)
		}
		if err := h.Svc.Review(c.Request().Context(), trading.ActorOf(c), id, approve, c.FormValue("reason")); err != nil {
			if de := trading.FormError(err); de != nil {
				trading.Flash(c, de.Message)
				return c.Redirect(http.StatusSeeOther, back)
			}
			return err
		}
		trading.Flash(c, map[bool]string{true: "已审核通过。", false: "已不予通过，并通知申请人。"}[approve])
		return c.Redirect(http.StatusSeeOther, back)
	}
}

// API

func (h *Handler) apiRegister(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	var in RegisterInput
	if c.Request().ContentLength != 0 {
		if err := trading.BindJSON(c, &in); err != nil {
			return err
		}
	}
	reg, err := h.Svc.Register(c.Request().Context(), trading.ActorOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, reg)
}

func (h *Handler) apiWithdraw(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	if err := h.Svc.Withdraw(c.Request().Context(), trading.ActorOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) apiRegistrants(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	list, _, holderOnly, err := h.registrantsOrHolder(c, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list, "count": len(list), "holder_only": holderOnly})
}

type reviewRequest struct {
	Reason string `json:"reason"`
}

func (h *Handler) apiReview(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := trading.IDParam(c)
		if err != nil {
			return err
		}
		var in reviewRequest
		if c.Request().ContentLength != 0 {
			if err := trading.BindJSON(c, &in); err != nil {
				return err
			}
		}
		if err := h.Svc.Review(c.Request().Context(), trading.ActorOf(c), id, approve, in.Reason); err != nil {
			return err
		}
		var reg Registration
		if err := h.Svc.DB.WithContext(c.Request().Context()).First(&reg, id).Error; err != nil {
			return err
		}
		return c.JSON(http.StatusOK, reg)
	}
}

// MyRegistrationJSON is a registration on the bidder's own list.
type MyRegistrationJSON struct {
	Registration      Registration      `json:"registration"`
	ProjectCode       string            `json:"project_code"`
	ProjectTitle      string            `json:"project_title"`
	Lot               trading.PublicLot `json:"lot"`
	Closes            time.Time         `json:"registration_closes"`
	Deadline          time.Time         `json:"deadline"`
	LatestVersion     int               `json:"latest_document_version"`
	DownloadedVersion int               `json:"downloaded_document_version"`
	NewerVersion      bool              `json:"newer_version_available"`
}

func (h *Handler) apiMine(c echo.Context) error {
	list, err := h.Svc.MyRegistrations(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	out := make([]MyRegistrationJSON, len(list))
	for i, m := range list {
		out[i] = MyRegistrationJSON{Registration: m.Registration, ProjectCode: m.Project.Code, ProjectTitle: m.Project.Title,
			Lot: m.Lot.Public(), Closes: m.Window.Closes, Deadline: m.Window.Deadline, LatestVersion: m.LatestVersion,
			DownloadedVersion: m.DownloadedVersion, NewerVersion: m.NewerVersion()}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (h *Handler) apiNotifications(c echo.Context) error {
	list, err := h.Svc.Notifications(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// lotDocuments are the documents the visitor may see on the lot page.
func (h *Handler) lotDocuments(c echo.Context, lotID int64) (any, error) {
	return h.Svc.Documents(c.Request().Context(), trading.ActorOf(c), lotID)
}
