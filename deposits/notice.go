package deposits

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// The deposit payment notice (保证金缴款通知书): what a bidder's finance
// department needs to pay one lot's deposit, on one printable page.

// PaymentNotice is the data of the notice.
type PaymentNotice struct {
	Deposit     DepositView
	BidderName  string
	AccountName string
	BankName    string // "" when the centre has not configured it
	Now         time.Time
}

// PaymentNoticeFor is the notice of the bidder's deposit for lotID.
func (s *Service) PaymentNoticeFor(ctx context.Context, a trading.Actor, lotID int64) (*PaymentNotice, error) {
	list, err := s.MyDeposits(ctx, a)
	if err != nil {
		return nil, err
	}
	for _, d := range list {
		if d.Account.LotID != lotID || d.Withdrawn {
			continue
		}
		n := &PaymentNotice{Deposit: d, AccountName: s.AccountName, BankName: s.BankName, Now: s.now()}
		if err := s.DB.WithContext(ctx).Raw("SELECT name FROM bidders WHERE account_id = ?", a.AccountID).Scan(&n.BidderName).Error; err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, trading.NotFound("保证金缴款通知书")
}

// Waiting lists the bidder's deposits still to pay before their deadline
// and not covered by a live guarantee (bidding.WaitingSource: "my
// projects").
func (s *Service) Waiting(ctx context.Context, bidderID int64, now time.Time) ([]bidding.Waiting, error) {
	list, err := s.MyDeposits(ctx, trading.Actor{AccountID: bidderID})
	if err != nil {
		return nil, err
	}
	var out []bidding.Waiting
	for _, d := range list {
		if d.Withdrawn || !now.Before(d.Account.Deadline) || !d.Shortfall().IsPositive() {
			continue
		}
		var guaranteed bool
		if err := s.DB.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM guarantees WHERE registration_id = ? AND status IN ?)`,
			d.Account.RegistrationID, []GuaranteeStatus{GuaranteeSubmitted, GuaranteeVerified}).Scan(&guaranteed).Error; err != nil {
			return nil, err
		}
		if guaranteed {
			continue
		}
		what := "缴纳保证金 " + trading.Yuan(d.Account.Required) + " 元"
		if d.Received.IsPositive() {
			what = "补缴保证金差额 " + trading.Yuan(d.Shortfall()) + " 元"
		}
		out = append(out, bidding.Waiting{What: what, Detail: fmt.Sprintf("%s · %s%d %s", d.Title, d.Category.LotNoun(), d.LotSeq, d.LotName),
			Link: fmt.Sprintf("/my/deposits/%d/notice", d.Account.LotID), Deadline: d.Account.Deadline})
	}
	return out, nil
}

func (h *Handler) paymentNotice(c echo.Context) error {
	id, err := trading.IDParam(c)
	if err != nil {
		return err
	}
	n, err := h.Svc.PaymentNoticeFor(c.Request().Context(), trading.ActorOf(c), id)
	if err != nil {
		return err
	}
	return h.Web.Page(c, http.StatusOK, "deposit_notice", "保证金缴款通知书", n)
}
