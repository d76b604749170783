package deposits

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
)

// GuaranteeRoutes registers the guarantee (保函) pages and API: bidders
// submit, the project's agent or a supervisor verifies.
func (h *Handler) GuaranteeRoutes(e *echo.Echo, api *echo.Group) {
	bidder := trading.RequireRole(trading.RoleBidder)
	staff := trading.RequireRole(trading.RoleAgent, trading.RoleSupervisor)
	e.GET("/my/guarantees", h.myGuarantees, bidder)
	e.POST("/my/guarantees", h.submitGuarantee, bidder)
	e.GET("/lots/:id/guarantees", h.lotGuarantees, staff)
	e.POST("/guarantees/:id/approve", h.approveGuarantee, staff)
	e.POST("/guarantees/:id/reject", h.rejectGuarantee, staff)

	api.POST("/guarantees", h.apiSubmitGuarantee, bidder)
	api.GET("/me/guarantees", h.apiMyGuarantees, bidder)
	api.GET("/lots/:id/guarantees", h.apiLotGuarantees, staff)
	api.POST("/guarantees/:id/review", h.apiReviewGuarantee, staff)
}

// guaranteeForm is what the bidder typed, shown again after an error.
type guaranteeForm struct {
	LotID int64
	GuaranteeInput
}

func (h *Handler) renderMyGuarantees(c echo.Context, status int, formErr *trading.Error, form *guaranteeForm) error {
	ctx, a := c.Request().Context(), trading.ActorOf(c)
	list, err := h.Svc.MyGuarantees(ctx, a)
	if err != nil {
		return err
	}
	opts, err := h.Svc.GuaranteeOptions(ctx, a)
	if err != nil {
		return err
	}
	if form == nil {
		form = &guaranteeForm{GuaranteeInput: GuaranteeInput{Kind: string(GuaranteeBank)}}
	}
	return h.Web.Page(c, status, "guarantees", "我的保函", map[string]any{
		"Review": false, "Guarantees": list, "Options": opts, "Kinds": GuaranteeKinds, "Form": form, "Error": formErr})
}

func (h *Handler) myGuarantees(c echo.Context) error {
	return h.renderMyGuarantees(c, http.StatusOK, nil, nil)
}

func (h *Handler) submitGuarantee(c echo.Context) error {
	form := &guaranteeForm{GuaranteeInput: GuaranteeInput{Kind: c.FormValue("kind"), Number: c.FormValue("number"),
		Issuer: c.FormValue("issuer"), Amount: c.FormValue("amount"), ValidFrom: c.FormValue("valid_from"),
		ValidUntil: c.FormValue("valid_until")}}
	var err error
	form.LotID, err = strconv.ParseInt(c.FormValue("lot_id"), 10, 64)
	if err != nil || form.LotID < 1 {
		err = trading.Invalid("lot_id", "请选择要提交保函的%s", trading.AnyLot)
	} else if d := strings.TrimSpace(c.FormValue("document_id")); d != "" {
		if form.DocumentID, err = strconv.ParseInt(d, 10, 64); err != nil || form.DocumentID < 1 {
			err = trading.Invalid("document_id", "请选择已上传的保函扫描件")
		}
	}
	var g *GuaranteeView
	if err == nil {
		g, err = h.Svc.SubmitGuarantee(c.Request().Context(), trading.ActorOf(c), form.LotID, form.GuaranteeInput)
	}
	var de *trading.Error
	if errors.As(err, &de) && de.Status() < 500 {
		return h.renderMyGuarantees(c, de.Status(), de, form)
	}
	if err != nil {
		return err
	}
	trading.Flash(c, fmt.Sprintf("%s（编号 %s）已提交，等待核验；核验通过后视同已缴纳保证金。", g.Kind.Name(), g.Number))
	return c.Redirect(http.StatusSeeOther, "/my/guarantees")
}

func (h *Handler) lotGuarantees(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	lg, err := h.Svc.LotGuarantees(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "guarantees", "保函核验", map[string]any{
		"Review": true, "Guarantees": lg.Guarantees, "Lot": lg.Lot, "Category": lg.Category})
}

func (h *Handler) reviewForm(c echo.Context, approve bool) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	to := "/"
	if lot, perr := strconv.ParseInt(c.FormValue("lot_id"), 10, 64); perr == nil && lot > 0 {
		to = fmt.Sprintf("/lots/%d/guarantees", lot)
	}
	g, err := h.Svc.ReviewGuarantee(c.Request().Context(), trading.ActorOf(c), id, approve, c.FormValue("reason"))
	ok := ""
	if err == nil {
		ok = fmt.Sprintf("%s（%s 编号 %s）：%s。", g.BidderName, g.Issuer, g.Number, g.Status.Name())
	}
	return back(c, to, ok, err)
}

func (h *Handler) approveGuarantee(c echo.Context) error { return h.reviewForm(c, true) }
func (h *Handler) rejectGuarantee(c echo.Context) error  { return h.reviewForm(c, false) }

// GuaranteeRequest is the API body of a new guarantee.
type GuaranteeRequest struct {
	LotID int64 `json:"lot_id"`
	GuaranteeInput
}

func decodeStrict(c echo.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return trading.Invalid(te.Field, "字段类型不正确（金额须为字符串，如 \"200000.00\"）")
		}
		return trading.Invalid("body", "请求体不是有效的 JSON：%v", err)
	}
	return nil
}

func (h *Handler) apiSubmitGuarantee(c echo.Context) error {
	var req GuaranteeRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if req.LotID < 1 {
		return trading.Invalid("lot_id", "须为%s编号", trading.AnyLot)
	}
	g, err := h.Svc.SubmitGuarantee(c.Request().Context(), trading.ActorOf(c), req.LotID, req.GuaranteeInput)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/me/guarantees")
	return c.JSON(http.StatusCreated, g)
}

func (h *Handler) apiMyGuarantees(c echo.Context) error {
	list, err := h.Svc.MyGuarantees(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	if list == nil {
		list = []GuaranteeView{}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

func (h *Handler) apiLotGuarantees(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	list, _, err := h.Svc.Guarantees(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	if list == nil {
		list = []GuaranteeView{}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// ReviewRequest is the API body of a guarantee review.
type ReviewRequest struct {
	Approve *bool  `json:"approve"`
	Reason  string `json:"reason"`
}

func (h *Handler) apiReviewGuarantee(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	var req ReviewRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if req.Approve == nil {
		return trading.Invalid("approve", "须为 true（核验通过）或 false（不予通过）")
	}
	g, err := h.Svc.ReviewGuarantee(c.Request().Context(), trading.ActorOf(c), id, *req.Approve, req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}
