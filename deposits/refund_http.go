package deposits

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
)

// RefundRoutes registers the supervisors' refund pages and API.
func (h *Handler) RefundRoutes(e *echo.Echo, api *echo.Group) {
	sup := e.Group("/supervisor", trading.RequireRole(trading.RoleSupervisor))
	sup.GET("/refunds", h.refundsPage)
	sup.POST("/refunds/batches", h.createBatch)
	sup.GET("/refunds/batches/:id/file", h.batchFile)
	sup.POST("/refunds/confirmations", h.confirmFile)
	sup.POST("/refunds/:id/confirm", h.confirmOne)
	sup.POST("/refunds/:id/fee-waiver", h.feeWaiver)
	sup.POST("/deposits/inflows/:id/return", h.returnSuspense)
	sup.POST("/deposits/forfeit", h.forfeit)
	sup.GET("/projects/:code/deposits.xlsx", h.depositSheet)

	sapi := api.Group("/deposits", trading.RequireRole(trading.RoleSupervisor))
	sapi.GET("/refunds", h.apiRefunds)
	sapi.POST("/refund-batches", h.apiCreateBatch)
	sapi.GET("/refund-batches/:id/file", h.batchFile)
	sapi.POST("/refunds/:id/confirm", h.apiConfirm)
	sapi.PUT("/refunds/:id/fee-waiver", h.apiFeeWaiver(true))
	sapi.DELETE("/refunds/:id/fee-waiver", h.apiFeeWaiver(false))
}

// feeWaiver is the refunds page's form: record (or correct) the period
// the supplier's own cause kept a late procurement refund back (G7), or
// take the record back.
func (h *Handler) feeWaiver(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	ctx, a := c.Request().Context(), trading.ActorOf(c)
	if c.FormValue("remove") != "" {
		_, err = h.Svc.RemoveFeeWaiver(ctx, a, id)
		return back(c, "/supervisor/refunds", fmt.Sprintf("已撤销退款 %d 的供应商原因迟延记录，逾期每日均计资金占用费。", id), err)
	}
	_, err = h.Svc.SetFeeWaiver(ctx, a, id, FeeWaiverInput{From: c.FormValue("from"), Until: c.FormValue("until"), Reason: c.FormValue("reason")})
	return back(c, "/supervisor/refunds", fmt.Sprintf("已记录退款 %d 的供应商原因迟延期间，该期间不计资金占用费（G7），已通知供应商。", id), err)
}

// apiFeeWaiver: PUT records or corrects the period ({from, until?,
// reason}); DELETE takes it back.
func (h *Handler) apiFeeWaiver(set bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := trading.IDParam(c)
		if err != nil {
			return err
		}
		ctx, a := c.Request().Context(), trading.ActorOf(c)
		var r *Refund
		if set {
			var in FeeWaiverInput
			if err := trading.BindJSON(c, &in); err != nil {
				return err
			}
			r, err = h.Svc.SetFeeWaiver(ctx, a, id, in)
		} else {
			r, err = h.Svc.RemoveFeeWaiver(ctx, a, id)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, r)
	}
}

func (h *Handler) refundsPage(c echo.Context) error {
	ctx, a := c.Request().Context(), trading.ActorOf(c)
	status := c.QueryParam("status")
	if status != "" && (&Refund{Status: status}).StatusName() == "" {
		return trading.Invalid("status", "状态须为 pending、sent、paid 或 failed")
	}
	list, err := h.Svc.Refunds(ctx, a, status)
	if err != nil {
		return err
	}
	batches, err := h.Svc.Batches(ctx)
	if err != nil {
		return err
	}
	overdue := 0
	for _, r := range list {
		if r.Overdue {
			overdue++
		}
	}
	return h.Web.Page(c, http.StatusOK, "refunds", "保证金退还", map[string]any{
		"Refunds": list, "Batches": batches, "Status": status, "Overdue": overdue})
}

// back returns to the refunds page with the outcome, or the error, flashed.
func back(c echo.Context, to, ok string, err error) error {
	var de *trading.Error
	if errors.As(err, &de) && de.Status() < 500 {
		trading.Flash(c, de.Message)
		return c.Redirect(http.StatusSeeOther, to)
	}
	if err != nil {
		return err
	}
	trading.Flash(c, ok)
	return c.Redirect(http.StatusSeeOther, to)
}

func (h *Handler) createBatch(c echo.Context) error {
	b, err := h.Svc.CreateBatch(c.Request().Context(), trading.ActorOf(c))
	msg := ""
	if err == nil {
		msg = fmt.Sprintf("已生成退款批次 %d：%d笔，合计 %s 元。请下载支付指令文件提交银行。", b.ID, b.Refunds, b.Total.StringFixed(2))
	}
	return back(c, "/supervisor/refunds", msg, err)
}

func (h *Handler) batchFile(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	b, err := h.Svc.BatchFile(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="refund-batch-%d.csv"`, id))
	return c.Blob(http.StatusOK, "text/csv; charset="+h.Svc.BankFile.Charset(), b)
}

func (h *Handler) confirmFile(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return back(c, "/supervisor/refunds", "", trading.Invalid("file", "请选择银行回单文件"))
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	paid, failed, err := h.Svc.ConfirmFile(c.Request().Context(), trading.ActorOf(c), f)
	return back(c, "/supervisor/refunds", fmt.Sprintf("已处理银行回单：%d笔退款成功，%d笔失败（可重新生成批次）；重复的回单不会重复记账。", paid, failed), err)
}

func (h *Handler) confirmOne(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	paid := c.FormValue("result") == RefundPaid
	if !paid && c.FormValue("result") != RefundFailed {
		return back(c, "/supervisor/refunds", "", trading.Invalid("result", "结果须为 paid 或 failed"))
	}
	changed, err := h.Svc.Confirm(c.Request().Context(), trading.ActorOf(c), id, paid, strings.TrimSpace(c.FormValue("note")))
	msg := "该退款已处理过，未重复记账。"
	if changed {
		msg = map[bool]string{true: "已确认退款成功。", false: "已记为退款失败，可重新生成批次。"}[paid]
	}
	return back(c, "/supervisor/refunds", msg, err)
}

func (h *Handler) returnSuspense(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	err = h.Svc.ReturnSuspense(c.Request().Context(), trading.ActorOf(c), id, c.FormValue("reason"))
	return back(c, "/supervisor/deposits?status=suspense", "已安排退回付款人，请在“保证金退还”中生成批次。", err)
}

func (h *Handler) forfeit(c echo.Context) error {
	err := h.Svc.Forfeit(c.Request().Context(), trading.ActorOf(c), strings.TrimSpace(c.FormValue("virtual_account")),
		strings.TrimSpace(c.FormValue("rule")), c.FormValue("reason"))
	return back(c, "/supervisor/deposits", "已依据 D7 没收该子账号的有效保证金，并记入审计日志。", err)
}

func (h *Handler) apiRefunds(c echo.Context) error {
	list, err := h.Svc.Refunds(c.Request().Context(), trading.ActorOf(c), c.QueryParam("status"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

func (h *Handler) apiCreateBatch(c echo.Context) error {
	b, err := h.Svc.CreateBatch(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, b)
}

type confirmRequest struct {
	Paid bool   `json:"paid"`
	Note string `json:"note"`
}

func (h *Handler) apiConfirm(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	var in confirmRequest
	if err := trading.BindJSON(c, &in); err != nil {
		return err
	}
	changed, err := h.Svc.Confirm(c.Request().Context(), trading.ActorOf(c), id, in.Paid, in.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"changed": changed})
}
