package deposits

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
)

// Problem is one thing `ggzy deposits verify` found wrong.
type Problem struct {
	What, Detail string
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Inflows  int64
	Journals int64
	Bank     decimal.Decimal // the bank account's balance by the journal
	Owed     decimal.Decimal // held for bidders, late, third-party and suspense
	Problems []Problem
}

// Verify checks the books: every journal sums to zero; every virtual
// account's ledger balance equals the money of its inflows still owed
// (received = refunded + forfeited + converted + held, the rest owed);
// suspense likewise; and, given the bank statement's balance, that the
// journal's bank balance equals it.
func (s *Service) Verify(ctx context.Context, statementBalance *decimal.Decimal) (*VerifyReport, error) {
	db := s.DB.WithContext(ctx)
	rep := &VerifyReport{}
	db.Raw("SELECT count(*) FROM inflows").Scan(&rep.Inflows)
	db.Raw("SELECT count(DISTINCT journal_id) FROM ledger_entries").Scan(&rep.Journals)
	var unbalanced []struct {
		JournalID string          `gorm:"column:journal_id"`
		Sum       decimal.Decimal `gorm:"column:sum"`
	}
	if err := db.Raw(`SELECT journal_id, sum(amount) AS sum FROM ledger_entries GROUP BY journal_id HAVING sum(amount) <> 0 ORDER BY journal_id LIMIT 100`).
		Scan(&unbalanced).Error; err != nil {
		return nil, err
	}
	for _, u := range unbalanced {
		rep.Problems = append(rep.Problems, Problem{"分录不平衡", fmt.Sprintf("凭证 %s 借贷差额 %s", u.JournalID, u.Sum.StringFixed(2))})
	}
	var accounts []struct {
		Account string          `gorm:"column:account"`
		Ledger  decimal.Decimal `gorm:"column:ledger"`
		Owed    decimal.Decimal `gorm:"column:owed"`
	}
	// Equivalent: per liability account, −(ledger balance) against the sum of
	// its inflows that are still owed.
	if err := db.Raw(`
WITH ledger AS (
	SELECT account, -sum(amount) AS ledger FROM ledger_entries WHERE account LIKE 'va:%' OR account = 'suspense' GROUP BY account
), owed AS (
	SELECT CASE WHEN status = 'suspense' THEN 'suspense' ELSE 'va:' || account_number END AS account, sum(amount) AS owed
	FROM inflows WHERE status IN ('held', 'late', 'third_party', 'suspense') GROUP BY 1
)
SELECT coalesce(l.account, o.account) AS account, coalesce(l.ledger, 0) AS ledger, coalesce(o.owed, 0) AS owed
FROM ledger l FULL JOIN owed o ON o.account = l.account
WHERE coalesce(l.ledger, 0) <> coalesce(o.owed, 0) ORDER BY 1 LIMIT 100`).Scan(&accounts).Error; err != nil {
		return nil, err
	}
	for _, x := range accounts {
		rep.Problems = append(rep.Problems, Problem{"账户不平", fmt.Sprintf("%s：账上 %s，应付 %s", x.Account, x.Ledger.StringFixed(2), x.Owed.StringFixed(2))})
	}
	db.Raw("SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account = 'bank'").Scan(&rep.Bank)
	db.Raw("SELECT coalesce(sum(amount), 0) FROM inflows WHERE status IN ('held', 'late', 'third_party', 'suspense')").Scan(&rep.Owed)
	// What came in and did not go out: the money owed, plus what was
	// forfeited or converted into a deal price (L5, still in the account
	// until paid over), less the interest and G7 fees paid out on refunds.
	var forfeited, converted, interest, fees decimal.Decimal
	db.Raw("SELECT coalesce(sum(amount), 0) FROM inflows WHERE status = 'forfeited'").Scan(&forfeited)
	db.Raw("SELECT coalesce(sum(amount), 0) FROM inflows WHERE status = 'converted'").Scan(&converted)
	db.Raw("SELECT coalesce(sum(interest), 0), coalesce(sum(fee), 0) FROM refunds WHERE status = 'paid'").Row().Scan(&interest, &fees)
	if want := rep.Owed.Add(forfeited).Add(converted).Sub(interest).Sub(fees); !rep.Bank.Equal(want) {
		rep.Problems = append(rep.Problems, Problem{"银行余额与应付不符",
			fmt.Sprintf("账上银行存款 %s，应为 %s（应付 %s + 没收 %s + 转为成交价款 %s − 已付利息 %s − 已付资金占用费 %s）",
				rep.Bank.StringFixed(2), want.StringFixed(2), rep.Owed.StringFixed(2), forfeited.StringFixed(2), converted.StringFixed(2),
				interest.StringFixed(2), fees.StringFixed(2))})
	}
	if statementBalance != nil && !statementBalance.Equal(rep.Bank) {
		rep.Problems = append(rep.Problems, Problem{"与银行对账单余额不符", fmt.Sprintf("对账单余额 %s，账上 %s", statementBalance.StringFixed(2), rep.Bank.StringFixed(2))})
	}
	return rep, nil
}

// DepositView is one of a bidder's virtual accounts: what to pay, where, by
// when, and what has arrived.
type DepositView struct {
	Account     VirtualAccount
	ProjectCode string
	Title       string
	LotSeq      int
	LotName     string
	Received    decimal.Decimal // valid money held
	Inflows     []StoredInflow
}

// Shortfall is what is still to pay (zero when paid in full).
func (d *DepositView) Shortfall() decimal.Decimal {
	if short := d.Account.Required.Sub(d.Received); short.IsPositive() {
		return short
	}
	return decimal.Zero
}

// State says in Chinese where the deposit stands at now.
func (d *DepositView) State(now time.Time) string {
	switch {
	case !d.Shortfall().IsPositive():
		return "已足额缴纳"
	case d.Received.IsPositive() && now.Before(d.Account.Deadline):
		return "缴纳不足，可补缴差额"
	case now.Before(d.Account.Deadline):
		return "未缴纳"
	}
	return "截止时未足额缴纳"
}

// MyDeposits lists the bidder's virtual accounts with their inflows.
func (s *Service) MyDeposits(ctx context.Context, a trading.Actor) ([]DepositView, error) {
	db := s.DB.WithContext(ctx)
	var out []DepositView
	var vas []VirtualAccount
	if err := db.Where("bidder_id = ?", a.AccountID).Order("created_at DESC, id DESC").Limit(200).Find(&vas).Error; err != nil {
		return nil, err
	}
	for _, va := range vas {
		v := DepositView{Account: va}
		db.Raw(`SELECT p.code, p.title, l.seq, l.name FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?`, va.LotID).
			Row().Scan(&v.ProjectCode, &v.Title, &v.LotSeq, &v.LotName)
		if err := db.Where("virtual_account_id = ?", va.ID).Order("value_time").Find(&v.Inflows).Error; err != nil {
			return nil, err
		}
		for _, in := range v.Inflows {
			if in.Status == InflowHeld {
				v.Received = v.Received.Add(in.Amount)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// InflowFilter selects inflows for the supervisors' list.
type InflowFilter struct {
	Status   InflowStatus
	Query    string // bank transaction id, account number or payer
	BeforeID int64
	Limit    int
}

// Inflows lists inflows newest first (supervisors).
func (s *Service) Inflows(ctx context.Context, a trading.Actor, f InflowFilter) ([]StoredInflow, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以查看到账明细")
	}
	q := s.DB.WithContext(ctx).Model(&StoredInflow{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Query != "" {
		q = q.Where("bank_txn_id = ? OR account_number = ? OR payer_account = ? OR payer_name = ?", f.Query, f.Query, f.Query, f.Query)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var out []StoredInflow
	return out, q.Order("id DESC").Limit(f.Limit).Find(&out).Error
}

// Alert is a deposit alert for supervisors.
type Alert struct {
	ID           int64      `gorm:"column:id;primaryKey" json:"id"`
	Kind         string     `gorm:"column:kind" json:"kind"`
	LotID        int64      `gorm:"column:lot_id" json:"lot_id"`
	PayerAccount string     `gorm:"column:payer_account" json:"payer_account"`
	Detail       string     `gorm:"column:detail" json:"detail"`
	CreatedAt    time.Time  `gorm:"column:created_at" json:"created_at"`
	ResolvedAt   *time.Time `gorm:"column:resolved_at" json:"resolved_at,omitempty"`
}

func (Alert) TableName() string { return "deposit_alerts" }

// Alerts lists the open alerts (supervisors).
func (s *Service) Alerts(ctx context.Context, a trading.Actor) ([]Alert, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以查看预警")
	}
	var out []Alert
	return out, s.DB.WithContext(ctx).Where("resolved_at IS NULL").Order("id DESC").Limit(200).Find(&out).Error
}
