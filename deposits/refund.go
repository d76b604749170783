package deposits

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// Refund is money going back (退还保证金), one per inflow.
type Refund struct {
	ID           int64           `gorm:"column:id;primaryKey" json:"id"`
	InflowID     int64           `gorm:"column:inflow_id" json:"inflow_id"`
	Rule         string          `gorm:"column:rule" json:"rule"`
	Reason       string          `gorm:"column:reason" json:"reason"`
	WithInterest bool            `gorm:"column:with_interest" json:"with_interest"`
	PayeeName    string          `gorm:"column:payee_name" json:"payee_name"`
	PayeeAccount string          `gorm:"column:payee_account" json:"payee_account"`
	PayeeBank    string          `gorm:"column:payee_bank" json:"payee_bank"`
	Principal    decimal.Decimal `gorm:"column:principal;type:numeric(18,2)" json:"principal"`
	Interest     decimal.Decimal `gorm:"column:interest;type:numeric(18,2)" json:"interest"`
	Fee          decimal.Decimal `gorm:"column:fee;type:numeric(18,2)" json:"fee"` // G7 occupation fee, fixed at batching
	// The period the supplier's own cause kept the refund from being paid
	// ([from, until); until nil: still going), which G7 excepts from the
	// fee, with the facts and when a supervisor recorded it (fee_waiver.go).
	FeeWaivedFrom  *time.Time `gorm:"column:fee_waived_from;type:date" json:"fee_waived_from,omitempty"`
	FeeWaivedUntil *time.Time `gorm:"column:fee_waived_until;type:date" json:"fee_waived_until,omitempty"`
	FeeWaiver      string     `gorm:"column:fee_waiver" json:"fee_waiver,omitempty"`
	FeeWaivedAt    *time.Time `gorm:"column:fee_waived_at" json:"fee_waived_at,omitempty"`
	DueOn          time.Time  `gorm:"column:due_on;type:date" json:"due_on"`
	Status         string     `gorm:"column:status" json:"status"` // pending, sent, paid, failed
	BatchID        *int64     `gorm:"column:batch_id" json:"batch_id,omitempty"`
	FailedReason   string     `gorm:"column:failed_reason" json:"failed_reason,omitempty"`
	CreatedAt      time.Time  `gorm:"column:created_at" json:"created_at"`
	PaidAt         *time.Time `gorm:"column:paid_at" json:"paid_at,omitempty"`
}

func (Refund) TableName() string { return "refunds" }

// The statuses of a refund.
const (
	RefundPending = "pending" // 待退: queued, not yet in a batch
	RefundSent    = "sent"    // 已发银行: in a batch sent to the bank
	RefundPaid    = "paid"    // 已退还
	RefundFailed  = "failed"  // 退款失败（待重发）
)

// StatusName is the Chinese name of the refund's status.
func (r *Refund) StatusName() string {
	return trading.LabelOrEmpty(trading.LabelRefundStatus, r.Status) // the one label table; "" for an unknown status
}

// Batch is a payment instruction sent to the bank.
type Batch struct {
	ID        int64           `gorm:"column:id;primaryKey" json:"id"`
	CreatedAt time.Time       `gorm:"column:created_at" json:"created_at"`
	CreatedBy *int64          `gorm:"column:created_by" json:"-"`
	Refunds   int             `gorm:"column:refunds" json:"refunds"`
	Total     decimal.Decimal `gorm:"column:total;type:numeric(18,2)" json:"total"`
}

func (Batch) TableName() string { return "refund_batches" }

// refundDueDays: D8 and the platform's own refunds of invalid payments
// are due within 5 days, like D5 and D6 (whose numbers the rule book holds).
const refundDueDays = 5

// queueRefunds opens refunds, in tx, for the inflows that cond selects and
// that have none yet: to the account each came from, due on due's
// Shanghai date.
func queueRefunds(tx *gorm.DB, now, due time.Time, rule, reason string, withInterest bool, cond string, args ...any) (int64, error) {
	all := append([]any{rule, reason, withInterest, due.In(trading.Shanghai).Format("2006-01-02"), now}, args...)
	// The bidder whose money it is is told in the same statement (the
	// payer of a suspense or third-party payment is not a bidder here).
	all = append(all, now)
	var n int64
	err := tx.Raw(`WITH q AS (INSERT INTO refunds (inflow_id, rule, reason, with_interest, payee_name, payee_account, payee_bank,
			principal, due_on, status, created_at)
		SELECT i.id, ?, ?, ?, i.payer_name, i.payer_account, i.payer_bank, i.amount, ?::date, 'pending', ?
		FROM inflows i WHERE `+cond+` AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.inflow_id = i.id)
		FOR UPDATE OF i
		ON CONFLICT (inflow_id) DO NOTHING
		RETURNING id, inflow_id, principal, due_on, reason, rule), notified AS (`+refundNotice("q", "保证金退还已受理",
		`'将退还至原付款账户，应于 ' || to_char(q.due_on, 'YYYY-MM-DD') || ' 前退还' ||
			CASE WHEN q.rule ~ '^[A-Z][0-9]+$' THEN '（' || q.rule || '）' ELSE '' END || '：' || q.reason || '。'`)+` RETURNING 1)
		SELECT count(*) FROM q`, all...).Scan(&n).Error
	return n, err
}

// RefundWithdrawn (an OnWithdraw hook of bidding) refunds a withdrawn bidder's deposit (D6: within 5 days).
func (s *Service) RefundWithdrawn(ctx context.Context, tx *gorm.DB, reg *bidding.Registration, p *trading.Project, lot *trading.Lot) error {
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return err
	}
	_, err = queueRefunds(tx, s.now(), dueDays(s.now(), book.D6Days), "D6", "投标截止前撤回，退还保证金", false,
		"i.status = 'held' AND i.virtual_account_id IN (SELECT id FROM virtual_accounts WHERE registration_id = ?)", reg.ID)
	return err
}

// RefundTerminated (an OnPublish hook of trading) refunds every deposit of a terminated project, with interest
// (D8, 实施条例第三十一条).
func (s *Service) RefundTerminated(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project) error {
	if n.Type != trading.AnnouncementTermination {
		return nil
	}
	_, err := queueRefunds(tx, *n.PublishedAt, dueDays(*n.PublishedAt, refundDueDays), "D8", "招标终止，退还保证金及银行同期存款利息", true,
		`i.status = 'held' AND i.virtual_account_id IN (SELECT va.id FROM virtual_accounts va JOIN lots l ON l.id = va.lot_id WHERE l.project_id = ?)`, p.ID)
	return err
}

// ReturnSuspense sends money that matched no virtual account back to its
// payer (a supervisor's decision, with a reason).
func (s *Service) ReturnSuspense(ctx context.Context, a trading.Actor, inflowID int64, reason string) error {
	if a.Role != trading.RoleSupervisor {
		return trading.Forbidden("只有交易中心监督可以处理待查款项")
	}
	if utf8.RuneCountInString(strings.TrimSpace(reason)) < 4 {
		return trading.Invalid("reason", "退回须写明理由（至少4个字）")
	}
	now := s.now()
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		n, err := queueRefunds(tx, now, dueDays(now, refundDueDays), "SUSPENSE", "无对应子账号，退回付款人："+strings.TrimSpace(reason), false,
			"i.id = ? AND i.status = 'suspense'", inflowID)
		if err != nil {
			return err
		}
		if n == 0 {
			return trading.Conflict("id", "该款项不在待查状态或已安排退回")
		}
		return trading.Audit(tx, now, a, "deposit.return", "inflow", fmt.Sprint(inflowID), "待查款项退回付款人："+reason)
	})
}

// Forfeit keeps a bidder's deposit under D7 (withdrawal after the
// deadline, refusal to sign, no performance bond), with the reason; the
// bidder sees it on their page.
func (s *Service) Forfeit(ctx context.Context, a trading.Actor, vaNumber, rule, reason string) error {
	if a.Role != trading.RoleSupervisor {
		return trading.Forbidden("只有交易中心监督可以没收保证金")
	}
	if rule != "D7" {
		return trading.Invalid("rule", "没收保证金须依据规则 D7（实施条例第三十五条、第七十四条）")
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) < 4 {
		return trading.Invalid("reason", "没收须写明事实和理由（至少4个字）")
	}
	now := s.now()
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		// Lock the held inflows first, then look for refunds in a statement
		// of its own: a refund opened meanwhile (which locks them too) is
		// seen, so money is never both kept and sent back.
		var locked, ids []int64
		if err := tx.Raw(`SELECT i.id FROM inflows i JOIN virtual_accounts va ON va.id = i.virtual_account_id
			WHERE va.number = ? AND i.status = 'held' FOR UPDATE OF i`, vaNumber).Scan(&locked).Error; err != nil {
			return err
		}
		if len(locked) > 0 {
			if err := tx.Raw(`SELECT id FROM inflows i WHERE id IN ? AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.inflow_id = i.id)`, locked).
				Scan(&ids).Error; err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return trading.Conflict("virtual_account", "该子账号没有可没收的有效保证金")
		}
		if err := tx.Exec(`UPDATE inflows SET status = 'forfeited', reason = ? WHERE id IN ?`, "D7："+reason, ids).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO ledger_entries (journal_id, at, account, amount, inflow_id, memo)
			SELECT 'forfeit:' || i.id, ?, x.account, x.amount, i.id, 'D7 没收保证金'
			FROM inflows i CROSS JOIN LATERAL (VALUES ('va:' || i.account_number, i.amount), ('forfeiture', -i.amount)) x(account, amount)
			WHERE i.id IN ?`, now, ids).Error; err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "deposit.forfeit", "virtual_account", vaNumber, "依据 D7 没收保证金："+reason)
	})
}

// CreateBatch puts every refund waiting (new or failed) into one payment
// instruction, fixing the interest of each as of today, and returns the
// batch. It is one transaction: a crash in the middle leaves no batch and
// every refund waiting, so running it again completes it, and refunds
// locked by a concurrent batch are skipped, never taken twice.
func (s *Service) CreateBatch(ctx context.Context, a trading.Actor) (*Batch, error) {
	if a.Role != trading.RoleSupervisor && a.Role != trading.SystemActor.Role {
		return nil, trading.Forbidden("只有交易中心监督可以生成退款批次")
	}
	now := s.now()
	var b *Batch
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var refunds []Refund
		var err error
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
			Where("status IN ? AND inflow_id IN (SELECT id FROM inflows WHERE status IN ('held', 'late', 'third_party', 'suspense'))",
				[]string{RefundPending, RefundFailed}).Order("due_on, id").Limit(5000).Find(&refunds).Error; err != nil {
			return err
		}
		if len(refunds) == 0 {
			return trading.Conflict("refunds", "没有待退的款项")
		}
		b = &Batch{CreatedAt: now, Refunds: len(refunds)}
		if a.AccountID != 0 {
			b.CreatedBy = &a.AccountID
		}
		procurement, err := procurementInflows(tx, refunds)
		if err != nil {
			return err
		}
		for i := range refunds {
			r := &refunds[i]
			r.Interest = decimal.Zero
			if r.WithInterest {
				var arrived time.Time
				if err := tx.Raw("SELECT value_time FROM inflows WHERE id = ?", r.InflowID).Scan(&arrived).Error; err != nil {
					return err
				}
				in, err := Interest(r.Principal, arrived, now, s.Rates, s.Basis)
				if err != nil {
					return fmt.Errorf("interest of refund %d: %w", r.ID, err)
				}
				r.Interest = in
			}
			if r.Fee, err = s.occupationFee(r, procurement[r.InflowID], now); err != nil {
				return err
			}
			b.Total = b.Total.Add(r.Principal).Add(r.Interest).Add(r.Fee)
		}
		if err := tx.Create(b).Error; err != nil {
			return err
		}
		for _, r := range refunds {
			res := tx.Exec(`UPDATE refunds SET status = 'sent', batch_id = ?, interest = ?, fee = ?, failed_reason = '' WHERE id = ? AND status IN ('pending', 'failed')`,
				b.ID, r.Interest, r.Fee, r.ID)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return fmt.Errorf("refund %d changed under the batch", r.ID)
			}
			if err := tx.Exec(`INSERT INTO refund_batch_items (batch_id, refund_id, amount) VALUES (?, ?, ?)`,
				b.ID, r.ID, r.Principal.Add(r.Interest).Add(r.Fee)).Error; err != nil {
				return err
			}
		}
		return trading.Audit(tx, now, a, "refund.batch", "refund_batch", fmt.Sprint(b.ID),
			fmt.Sprintf("生成退款批次：%d笔，合计 %s 元", b.Refunds, b.Total.StringFixed(2)))
	})
	return b, err
}

// BatchFile is the payment instruction of a batch for the bank (CSV,
// UTF-8 with a BOM or GBK as BankFile says): 批次号,退款编号,收款人名称,
// 收款人账号,收款行,金额,摘要, every cell neutralised against formulas.
// The bank answers with 退款编号,结果(成功/失败),说明 (see ConfirmFile).
func (s *Service) BatchFile(ctx context.Context, batchID int64) ([]byte, error) {
	var rows []struct {
		RefundID     int64           `gorm:"column:refund_id"`
		PayeeName    string          `gorm:"column:payee_name"`
		PayeeAccount string          `gorm:"column:payee_account"`
		PayeeBank    string          `gorm:"column:payee_bank"`
		Amount       decimal.Decimal `gorm:"column:amount"`
		Rule         string          `gorm:"column:rule"`
		Status       InflowStatus    `gorm:"column:status"`
	}
	if err := s.DB.WithContext(ctx).Raw(`SELECT it.refund_id, r.payee_name, r.payee_account, r.payee_bank, it.amount, r.rule, i.status
		FROM refund_batch_items it JOIN refunds r ON r.id = it.refund_id JOIN inflows i ON i.id = r.inflow_id
		WHERE it.batch_id = ? ORDER BY it.refund_id`, batchID).
		Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, trading.NotFound("退款批次")
	}
	out := [][]string{{"批次号", "退款编号", "收款人名称", "收款人账号", "收款行", "金额", "摘要"}}
	for _, r := range rows {
		out = append(out, []string{strconv.FormatInt(batchID, 10), strconv.FormatInt(r.RefundID, 10), r.PayeeName, r.PayeeAccount, r.PayeeBank,
			r.Amount.StringFixed(2), refundMemo(r.Rule, r.Status)})
	}
	return writeBankCSV(out, s.BankFile)
}

// Confirm records the bank's answer for one refund of a batch: paid moves
// the money in the ledger once (a second confirmation changes nothing);
// failed returns the refund to the queue for another batch.
func (s *Service) Confirm(ctx context.Context, a trading.Actor, refundID int64, paid bool, note string) (changed bool, err error) {
	now := s.now()
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var r Refund
		if err := trading.First(tx.Clauses(clause.Locking{Strength: "UPDATE"}), &r, "退款", refundID); err != nil {
			return err
		}
		if r.Status != RefundSent {
			return nil // already settled: the bank's answer came twice
		}
		changed = true
		if !paid {
			if err := tx.Exec(`UPDATE refunds SET status = 'failed', batch_id = NULL, failed_reason = ? WHERE id = ?`, note, r.ID).Error; err != nil {
				return err
			}
			if err := tx.Exec(`UPDATE refund_batch_items SET outcome = 'failed' WHERE batch_id = ? AND refund_id = ?`, *r.BatchID, r.ID).Error; err != nil {
				return err
			}
			return trading.Audit(tx, now, a, "refund.failed", "refund", fmt.Sprint(r.ID), "银行退款失败："+note)
		}
		if err := tx.Exec(`UPDATE refunds SET status = 'paid', paid_at = ? WHERE id = ?`, now, r.ID).Error; err != nil {
			return err
		}
		if err := notifyRefundPaid(tx, now, r.ID); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE refund_batch_items SET outcome = 'paid' WHERE batch_id = ? AND refund_id = ?`, *r.BatchID, r.ID).Error; err != nil {
			return err
		}
		var in StoredInflow
		if err := tx.First(&in, r.InflowID).Error; err != nil {
			return err
		}
		status, owed := InflowRefunded, "va:"+in.AccountNumber
		if in.Status == InflowSuspense {
			status, owed = InflowReturned, "suspense"
		} else if in.Status == InflowThirdParty {
			status = InflowReturned
		}
		if err := tx.Exec(`UPDATE inflows SET status = ? WHERE id = ?`, status, in.ID).Error; err != nil {
			return err
		}
		journal := fmt.Sprintf("refund:%d", r.ID)
		entries := []struct {
			account string
			amount  decimal.Decimal
		}{{owed, r.Principal}, {"bank", r.Principal.Add(r.Interest).Add(r.Fee).Neg()}}
		if r.Interest.IsPositive() {
			entries = append(entries, struct {
				account string
				amount  decimal.Decimal
			}{"interest_expense", r.Interest})
		}
		if r.Fee.IsPositive() {
			entries = append(entries, struct {
				account string
				amount  decimal.Decimal
			}{"occupation_fee_expense", r.Fee})
		}
		for _, e := range entries {
			if err := tx.Exec(`INSERT INTO ledger_entries (journal_id, at, account, amount, inflow_id, memo) VALUES (?, ?, ?, ?, ?, ?)`,
				journal, now, e.account, e.amount, in.ID, refundMemo(r.Rule, in.Status)).Error; err != nil {
				return err
			}
		}
		return trading.Audit(tx, now, a, "refund.paid", "refund", fmt.Sprint(r.ID),
			fmt.Sprintf("已退还 %s 元（本金 %s，利息 %s，资金占用费 %s）至 %s %s", r.Principal.Add(r.Interest).Add(r.Fee).StringFixed(2),
				r.Principal.StringFixed(2), r.Interest.StringFixed(2), r.Fee.StringFixed(2), r.PayeeName, r.PayeeAccount))
	})
	return changed, err
}

// ConfirmFile applies the bank's confirmation file (CSV: 退款编号,结果,说明
// with 结果 成功 or 失败). It is validated whole first; applying it twice
// changes nothing the second time.
func (s *Service) ConfirmFile(ctx context.Context, a trading.Actor, r io.Reader) (paid, failed int, err error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return 0, 0, trading.Invalid("file", "确认文件不是有效的 CSV：%v", err)
	}
	type line struct {
		id   int64
		paid bool
		note string
	}
	var lines []line
	var problems []string
	for i, row := range rows {
		if i == 0 && len(row) > 0 && strings.Contains(row[0], "退款编号") {
			continue
		}
		if len(row) < 2 {
			problems = append(problems, fmt.Sprintf("第%d行：列数不足", i+1))
			continue
		}
		id, err := strconv.ParseInt(strings.TrimSpace(row[0]), 10, 64)
		if err != nil || id < 1 {
			problems = append(problems, fmt.Sprintf("第%d行：退款编号无效", i+1))
			continue
		}
		res := strings.TrimSpace(row[1])
		if res != "成功" && res != "失败" {
			problems = append(problems, fmt.Sprintf("第%d行：结果须为“成功”或“失败”", i+1))
			continue
		}
		note := ""
		if len(row) > 2 {
			note = row[2]
		}
		lines = append(lines, line{id, res == "成功", note})
	}
	if len(problems) > 0 {
		return 0, 0, trading.Unprocessable("file", "确认文件有误，未处理："+strings.Join(problems, "；")).WithCode("file_invalid")
	}
	for _, l := range lines {
		changed, err := s.Confirm(ctx, a, l.id, l.paid, l.note)
		if err != nil {
			return paid, failed, err
		}
		if changed && l.paid {
			paid++
		} else if changed {
			failed++
		}
	}
	return paid, failed, nil
}

// RefundView is a refund with what the supervisor needs beside it.
type RefundView struct {
	Refund
	Overdue bool `json:"overdue"`
	// Procurement: a procurement deposit's refund, which owes the G7 fee
	// when late.
	Procurement bool `json:"procurement"`
	// OccupationFee is what a late procurement refund owes on top (G7);
	// zero otherwise.
	OccupationFee decimal.Decimal `json:"occupation_fee"`
}

// Refunds lists refunds by status (all when empty), overdue first.
func (s *Service) Refunds(ctx context.Context, a trading.Actor, status string) ([]RefundView, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以查看退款")
	}
	q := s.DB.WithContext(ctx).Model(&Refund{})
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var rs []Refund
	if err := q.Order("status = 'paid', due_on, id").Limit(500).Find(&rs).Error; err != nil {
		return nil, err
	}
	today := s.now().In(trading.Shanghai).Format("2006-01-02")
	procurement, err := procurementInflows(s.DB.WithContext(ctx), rs)
	if err != nil {
		return nil, err
	}
	out := make([]RefundView, len(rs))
	for i, r := range rs {
		out[i] = RefundView{Refund: r, Overdue: r.Status != RefundPaid && r.DueOn.Format("2006-01-02") < today, OccupationFee: r.Fee,
			Procurement: procurement[r.InflowID]}
		if r.Status == RefundPending || r.Status == RefundFailed {
			fee, err := s.occupationFee(&r, procurement[r.InflowID], s.now())
			if err != nil {
				return nil, err
			}
			out[i].OccupationFee = fee
		}
	}
	return out, nil
}

// procurementInflows tells which of the refunds' inflows are deposits of
// procurement lots: those owe the G7 fee when refunded late, whatever the
// rule that refunds them (G6, D6, D8, a failed tender…).
func procurementInflows(db *gorm.DB, refunds []Refund) (map[int64]bool, error) {
	ids := make([]int64, len(refunds))
	for i, r := range refunds {
		ids[i] = r.InflowID
	}
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var proc []int64
	// Equivalent SQL: the inflows whose virtual account is of a lot of a procurement project.
	err := db.Raw(`SELECT i.id FROM inflows i JOIN virtual_accounts va ON va.id = i.virtual_account_id
		JOIN lots l ON l.id = va.lot_id JOIN projects p ON p.id = l.project_id
		WHERE i.id IN ? AND p.category = 'procurement'`, ids).Scan(&proc).Error
	for _, id := range proc {
		out[id] = true
	}
	return out, err
}

// occupationFee is the G7 fee a procurement deposit's refund owes if paid
// at now: nothing while on time, then the loan rate + 20 % for every day
// late, except the days a supervisor recorded the supplier's own cause
// kept it from being paid (SetFeeWaiver). A refund the bank failed keeps
// accruing.
func (s *Service) occupationFee(r *Refund, procurement bool, now time.Time) (decimal.Decimal, error) {
	if !procurement {
		return decimal.Zero, nil
	}
	// due_on is a date column: the last day on time, in Shanghai.
	due := shanghaiDate(r.DueOn)
	var fee decimal.Decimal
	var err error
	if r.FeeWaivedFrom != nil {
		var until *time.Time
		if r.FeeWaivedUntil != nil {
			u := shanghaiDate(*r.FeeWaivedUntil)
			until = &u
		}
		fee, err = OccupationFeeExcept(r.Principal, due, now, shanghaiDate(*r.FeeWaivedFrom), until, s.LoanRates, s.G7Uplift, s.Basis)
	} else {
		fee, err = OccupationFee(r.Principal, due, now, s.LoanRates, s.G7Uplift, s.Basis)
	}
	if err != nil {
		return decimal.Zero, fmt.Errorf("G7 fee of refund %d: %w", r.ID, err)
	}
	return fee, nil
}

// shanghaiDate is a date column's day at midnight in Shanghai.
func shanghaiDate(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, trading.Shanghai)
}

// Batches lists the refund batches, newest first.
func (s *Service) Batches(ctx context.Context) ([]Batch, error) {
	var out []Batch
	return out, s.DB.WithContext(ctx).Order("id DESC").Limit(100).Find(&out).Error
}
