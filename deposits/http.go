package deposits

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/trading"
)

// Handler serves deposits: the bank's webhook, the bidder's deposit page,
// the supervisors' inflows, import and manual entry.
type Handler struct {
	Svc *Service
	Web *trading.Web
	// MaxStatement bounds an uploaded statement file (default 512 MB).
	MaxStatement int64
}

// Routes registers the pages and the API of deposits.
func (h *Handler) Routes(e *echo.Echo, api *echo.Group) {
	e.GET("/my/deposits", h.myDeposits, trading.RequireRole(trading.RoleBidder))
	e.GET("/my/deposits/:id/notice", h.paymentNotice, trading.RequireRole(trading.RoleBidder)) // :id is the lot
	sup := e.Group("/supervisor/deposits", trading.RequireRole(trading.RoleSupervisor))
	sup.GET("", h.inflowsPage)
	sup.POST("/manual", h.manual)
	sup.POST("/import", h.importPage)
	api.POST("/bank/notifications", h.webhook)
	api.GET("/me/deposits", h.apiMine, trading.RequireRole(trading.RoleBidder))
	api.GET("/deposits/inflows", h.apiInflows, trading.RequireRole(trading.RoleSupervisor))
	api.POST("/deposits/statements", h.apiImport, trading.RequireRole(trading.RoleSupervisor))
}

// Notification is the bank's webhook body: one credit to a virtual account.
type Notification struct {
	TxnID          string `json:"txn_id"`
	ValueTime      string `json:"value_time"` // RFC 3339
	VirtualAccount string `json:"virtual_account"`
	PayerName      string `json:"payer_name"`
	PayerAccount   string `json:"payer_account"`
	PayerBank      string `json:"payer_bank"`
	Amount         string `json:"amount"` // strict yuan: "1234.50"
	Currency       string `json:"currency"`
	Memo           string `json:"memo"`
}

// inflow checks every field, naming the first that is wrong.
func (n *Notification) inflow() (Inflow, error) {
	in := Inflow{BankTxnID: strings.TrimSpace(n.TxnID), VirtualAccount: strings.TrimSpace(n.VirtualAccount),
		PayerName: strings.TrimSpace(n.PayerName), PayerAccount: strings.TrimSpace(n.PayerAccount),
		PayerBank: strings.TrimSpace(n.PayerBank), Currency: n.Currency, Memo: n.Memo}
	if in.BankTxnID == "" || len(in.BankTxnID) > 64 {
		return in, trading.Invalid("txn_id", "交易流水号须为1至64个字符")
	}
	t, err := time.Parse(time.RFC3339, n.ValueTime)
	if err != nil {
		return in, trading.Invalid("value_time", "到账时间须为 RFC 3339 格式")
	}
	in.ValueTime = t
	if in.VirtualAccount == "" || strings.Trim(in.VirtualAccount, "0123456789") != "" {
		return in, trading.Invalid("virtual_account", "收款账号须为数字")
	}
	if in.PayerName == "" {
		return in, trading.Invalid("payer_name", "须有付款人名称")
	}
	if in.PayerAccount == "" {
		return in, trading.Invalid("payer_account", "须有付款人账号")
	}
	if in.Currency != "CNY" {
		return in, trading.Invalid("currency", "币种须为 CNY")
	}
	amt, err := ParseAmount(n.Amount)
	if err != nil {
		var ae *AmountError
		if errors.As(err, &ae) {
			return in, trading.Invalid("amount", "金额“%s”无效：%s", n.Amount, ae.Reason)
		}
		return in, trading.Invalid("amount", "金额无效")
	}
	in.Amount = amt
	return in, nil
}

// bankActor is who the audit log names for the bank's notifications.
var bankActor = trading.Actor{Username: "bank", Role: "system"}

// webhook takes the bank's signed notification. A bad or missing signature
// is 401 and nothing is stored; a replay of a transaction is 200 and
// nothing is doubled.
func (h *Handler) webhook(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
	if err != nil {
		return trading.Invalid("body", "无法读取请求体")
	}
	if !h.Svc.VerifySignature(body, c.Request().Header.Get("X-Bank-Signature")) {
		return trading.Unauthorized("签名无效：X-Bank-Signature 须为请求体的 HMAC-SHA256（十六进制）")
	}
	var n Notification
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return trading.Invalid("body", "请求体不是有效的 JSON：%v", err)
	}
	in, err := n.inflow()
	if err != nil {
		return err
	}
	if err := h.Svc.notFuture(in); err != nil {
		return err
	}
	r, err := h.Svc.Receive(c.Request().Context(), bankActor, SourceWebhook, []Inflow{in})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"txn_id": in.BankTxnID, "new": r.New == 1, "result": r})
}

func (h *Handler) myDeposits(c echo.Context) error {
	list, err := h.Svc.MyDeposits(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "my_deposits", "我的保证金", map[string]any{
		"Deposits": list, "Now": h.Svc.now(), "AccountName": h.Svc.AccountName, "BankName": h.Svc.BankName})
}

func (h *Handler) apiMine(c echo.Context) error {
	list, err := h.Svc.MyDeposits(c.Request().Context(), trading.ActorOf(c))
	if err != nil {
		return err
	}
	// An inflow's id comes from a platform-wide sequence (matching reads
	// ranges of it): a bidder's answer leaves it out, or the gap between
	// two of its payments would count the others' (K4/K5). The bank's
	// transaction id names the payment.
	type bidderInflow struct {
		PositionedInflow
		ID int64 `json:"id,omitempty"`
	}
	type item struct {
		Account   VirtualAccount `json:"virtual_account"`
		Project   string         `json:"project_code"`
		LotSeq    int            `json:"lot_seq"`
		Received  string         `json:"received"`
		Shortfall string         `json:"shortfall"`
		State     DepositState   `json:"state"`
		StateName string         `json:"state_name"`
		Inflows   []bidderInflow `json:"inflows"`
	}
	out := make([]item, len(list))
	for i, d := range list {
		inflows := make([]bidderInflow, len(d.Inflows))
		for k, in := range d.Inflows {
			inflows[k] = bidderInflow{PositionedInflow: in}
		}
		state := d.StateCode(h.Svc.now())
		out[i] = item{d.Account, d.ProjectCode, d.LotSeq, d.Received.StringFixed(2), d.Shortfall().StringFixed(2), state, state.Name(), inflows}
	}
	return c.JSON(http.StatusOK, map[string]any{"account_name": h.Svc.AccountName, "bank": h.Svc.BankName, "items": out})
}

func inflowFilter(c echo.Context) (InflowFilter, error) {
	f := InflowFilter{Status: InflowStatus(c.QueryParam("status")), Query: strings.TrimSpace(c.QueryParam("q"))}
	if f.Status != "" && f.Status.Name() == "" {
		return f, trading.Invalid("status", "状态不正确")
	}
	if b := c.QueryParam("before"); b != "" {
		var err error
		if f.BeforeID, err = strconv.ParseInt(b, 10, 64); err != nil || f.BeforeID < 1 {
			return f, trading.Invalid("before", "须为正整数")
		}
	}
	return f, nil
}

func (h *Handler) inflowsPage(c echo.Context) error {
	return h.renderInflows(c, http.StatusOK, nil, nil)
}

func (h *Handler) renderInflows(c echo.Context, status int, formErr *trading.Error, result *Result) error {
	f, err := inflowFilter(c)
	if err != nil {
		return err
	}
	ctx, a := c.Request().Context(), trading.ActorOf(c)
	list, err := h.Svc.Inflows(ctx, a, f)
	if err != nil {
		return err
	}
	alerts, err := h.Svc.Alerts(ctx, a)
	if err != nil {
		return err
	}
	var statuses []struct{ Value, Name string }
	for _, s := range []InflowStatus{InflowHeld, InflowLate, InflowThirdParty, InflowSuspense, InflowRefunded, InflowReturned} {
		statuses = append(statuses, struct{ Value, Name string }{string(s), s.Name()})
	}
	next := ""
	if len(list) == 50 {
		next = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	pager := trading.CursorPager(c, "before", false, next)
	return h.Web.Page(c, status, "deposit_inflows", "保证金到账", map[string]any{
		"Inflows": list, "Alerts": alerts, "Filter": f, "Statuses": statuses, "Error": formErr, "Result": result, "Pager": pager})
}

// manual is a supervisor's entry of an inflow, with the reason (audited).
func (h *Handler) manual(c echo.Context) error {
	reason := strings.TrimSpace(c.FormValue("reason"))
	n := Notification{TxnID: c.FormValue("txn_id"), VirtualAccount: c.FormValue("virtual_account"), PayerName: c.FormValue("payer_name"),
		PayerAccount: c.FormValue("payer_account"), PayerBank: c.FormValue("payer_bank"), Amount: c.FormValue("amount"),
		Currency: "CNY", Memo: "人工录入：" + reason}
	var in Inflow
	var err error
	if len([]rune(reason)) < 4 {
		err = trading.Invalid("reason", "人工录入须写明理由（至少4个字）")
	} else if t, perr := trading.ParseTime("value_time", c.FormValue("value_time")); perr != nil || t == nil {
		err = trading.Invalid("value_time", "须填写到账时间")
	} else {
		n.ValueTime = t.Format(time.RFC3339)
		if in, err = n.inflow(); err == nil {
			err = h.Svc.notFuture(in)
		}
	}
	var r Result
	if err == nil {
		r, err = h.Svc.Receive(c.Request().Context(), trading.ActorOf(c), SourceManual, []Inflow{in})
	}
	var de *trading.Error
	if errors.As(err, &de) && de.Status() < 500 {
		return h.renderInflows(c, de.Status(), de, nil)
	}
	if err != nil {
		return err
	}
	if r.New == 0 {
		trading.Flash(c, "该交易流水号已入账，未重复记账。")
	} else {
		trading.Flash(c, fmt.Sprintf("已录入：%s。", firstStatus(r)))
	}
	return c.Redirect(http.StatusSeeOther, "/supervisor/deposits")
}

func firstStatus(r Result) string {
	switch {
	case r.Held > 0:
		return InflowHeld.Name()
	case r.Late > 0:
		return InflowLate.Name()
	case r.Third > 0:
		return InflowThirdParty.Name()
	}
	return InflowSuspense.Name()
}

// saveUpload streams the request's "file" part to a temporary file (the
// import reads it twice), refusing more than max bytes.
func saveUpload(c echo.Context, max int64) (string, error) {
	if cl := c.Request().ContentLength; cl > max+(1<<20) {
		return "", trading.TooLarge("file", "对账单超过 %d MB", max>>20)
	}
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return "", trading.Invalid("file", "须以 multipart/form-data 上传对账单文件")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return "", trading.Invalid("file", "没有收到文件")
		}
		if err != nil {
			return "", trading.Invalid("file", "上传中断：%v", err)
		}
		if part.FormName() != "file" {
			continue
		}
		f, err := os.CreateTemp("", "ggzy-statement-*")
		if err != nil {
			return "", err
		}
		n, err := io.Copy(f, io.LimitReader(part, max+1))
		f.Close()
		if err != nil || n > max {
			os.Remove(f.Name())
			if n > max {
				return "", trading.TooLarge("file", "对账单超过 %d MB", max>>20)
			}
			return "", trading.Invalid("file", "上传中断：%v", err)
		}
		return f.Name(), nil
	}
}

func (h *Handler) importFile(c echo.Context) (Result, error) {
	max := h.MaxStatement
	if max <= 0 {
		max = 512 << 20
	}
	path, err := saveUpload(c, max)
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(path)
	return h.Svc.ImportStatement(c.Request().Context(), trading.ActorOf(c), func() (io.ReadCloser, error) { return os.Open(path) })
}

func (h *Handler) importPage(c echo.Context) error {
	r, err := h.importFile(c)
	var de *trading.Error
	if errors.As(err, &de) && de.Status() < 500 {
		if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "application/json") {
			return err
		}
		return h.renderInflows(c, de.Status(), de, nil)
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("对账单已导入：%d笔，新入账%d笔（有效%d、逾期%d、非本单位%d、待查%d），重复%d笔未重复记账，K1预警%d条。",
		r.Lines, r.New, r.Held, r.Late, r.Third, r.Suspense, r.Repeated, r.Alerts)
	trading.Flash(c, msg)
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "application/json") {
		// The upload script follows Location after a 201.
		c.Response().Header().Set(echo.HeaderLocation, "/supervisor/deposits")
		return c.JSON(http.StatusCreated, r)
	}
	return c.Redirect(http.StatusSeeOther, "/supervisor/deposits")
}

func (h *Handler) apiImport(c echo.Context) error {
	r, err := h.importFile(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *Handler) apiInflows(c echo.Context) error {
	f, err := inflowFilter(c)
	if err != nil {
		return err
	}
	list, err := h.Svc.Inflows(c.Request().Context(), trading.ActorOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}
