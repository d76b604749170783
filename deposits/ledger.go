package deposits

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
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
// when, what has arrived and what became of it (see position.go).
type DepositView struct {
	Account     VirtualAccount
	ProjectCode string
	Title       string
	LotSeq      int
	LotName     string
	Category    trading.Category // names the lot: 标段, 包, 地块, 标的
	Withdrawn   bool             // the registration is withdrawn
	Position
	Received decimal.Decimal // valid money that counts toward the deposit (Position.Paid)
	Inflows  []PositionedInflow
}

// PositionedInflow is an inflow with its position (deposit_positions).
type PositionedInflow struct {
	StoredInflow
	Position string `gorm:"column:position" json:"position"`
	Counts   bool   `gorm:"column:counts" json:"counts"`
}

// PositionName is the Chinese name of the inflow's position.
func (p *PositionedInflow) PositionName() string {
	if p.Position == "refunding" {
		return "有效，退还中"
	}
	return p.Status.Name()
}

// Shortfall is what is still to pay (zero when paid in full).
func (d *DepositView) Shortfall() decimal.Decimal { return d.Position.Shortfall(d.Account.Required) }

// State says in Chinese where the deposit stands at now.
func (d *DepositView) State(now time.Time) string {
	return d.StateCode(now).Name()
}

// StateCode is State's machine code (the API's `state`).
func (d *DepositView) StateCode(now time.Time) DepositState {
	return d.Position.StateCode(d.Account.Required, d.Account.Deadline, d.Withdrawn, now)
}

// MyDeposits lists the bidder's virtual accounts with their inflows.
func (s *Service) MyDeposits(ctx context.Context, a trading.Actor) ([]DepositView, error) {
	db := s.DB.WithContext(ctx)
	var out []DepositView
	var vas []VirtualAccount
	if err := db.Where("bidder_id = ?", a.AccountID).Order("created_at DESC, id DESC").Limit(200).Find(&vas).Error; err != nil {
		return nil, err
	}
	ids := make([]int64, len(vas))
	for i, va := range vas {
		ids[i] = va.ID
	}
	positions, err := positionsOf(db, ids)
	if err != nil {
		return nil, err
	}
	for _, va := range vas {
		v := DepositView{Account: va, Position: positions[va.ID]}
		v.Received = v.Paid
		var regStatus string
		if err := db.Raw(`SELECT p.code, p.title, l.seq, l.name, p.category, r.status FROM lots l JOIN projects p ON p.id = l.project_id
			JOIN registrations r ON r.id = ? WHERE l.id = ?`, va.RegistrationID, va.LotID).
			Row().Scan(&v.ProjectCode, &v.Title, &v.LotSeq, &v.LotName, &v.Category, &regStatus); err != nil {
			return nil, err
		}
		v.Withdrawn = regStatus == string(bidding.StatusWithdrawn)
		if err := db.Raw(`SELECT i.*, p.position, p.counts FROM inflows i JOIN deposit_positions p ON p.inflow_id = i.id
			WHERE i.virtual_account_id = ? ORDER BY i.value_time`, va.ID).Scan(&v.Inflows).Error; err != nil {
			return nil, err
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
	LotID        *int64     `gorm:"column:lot_id" json:"lot_id,omitempty"` // unknown for a DUPLICATE of money in suspense
	PayerAccount string     `gorm:"column:payer_account" json:"payer_account"`
	BankTxnID    *string    `gorm:"column:bank_txn_id" json:"bank_txn_id,omitempty"` // DUPLICATE: the repeated transaction id
	Detail       string     `gorm:"column:detail" json:"detail"`
	CreatedAt    time.Time  `gorm:"column:created_at" json:"created_at"`
	ResolvedAt   *time.Time `gorm:"column:resolved_at" json:"resolved_at,omitempty"`
	// ProjectCode and LotSeq name the lot to people ("项目 GC… 标段1"),
	// not its row id; read only, joined by Alerts.
	ProjectCode string `gorm:"->;column:project_code" json:"project_code"`
	LotSeq      int    `gorm:"->;column:lot_seq" json:"lot_seq"`
	// Category names the lot on the page (标段/包/地块/标的); "" for no lot.
	Category trading.Category `gorm:"->;column:category" json:"-"`
}

func (Alert) TableName() string { return "deposit_alerts" }

// KindName is the alert's kind as the supervisors read it.
func (a Alert) KindName() string {
	switch a.Kind {
	case "K1":
		return "K1 疑似串通投标"
	case "DUPLICATE":
		return "交易流水号重复但内容不同"
	}
	return a.Kind
}

// Alerts lists the open alerts (supervisors).
func (s *Service) Alerts(ctx context.Context, a trading.Actor) ([]Alert, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以查看预警")
	}
	var out []Alert
	// Equivalent SQL: SELECT d.*, p.code AS project_code, l.seq AS lot_seq, p.category FROM deposit_alerts d
	//   LEFT JOIN lots l ON l.id = d.lot_id LEFT JOIN projects p ON p.id = l.project_id
	//   WHERE d.resolved_at IS NULL ORDER BY d.id DESC LIMIT 200
	return out, s.DB.WithContext(ctx).Table("deposit_alerts d").Select("d.*, COALESCE(p.code, '') AS project_code, COALESCE(l.seq, 0) AS lot_seq, COALESCE(p.category, '') AS category").
		// A DUPLICATE alert (a bank transaction id repeated with other
		// content) belongs to no lot.
		Joins("LEFT JOIN lots l ON l.id = d.lot_id").Joins("LEFT JOIN projects p ON p.id = l.project_id").
		Where("d.resolved_at IS NULL").Order("d.id DESC").Limit(200).Find(&out).Error
}
