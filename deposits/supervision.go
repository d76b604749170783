package deposits

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// SupervisionSource is what deposits shows on the supervisors' dashboard
// (统一现场监督) and on project timelines: money in suspense, late and
// invalid payments still to go back, overdue refunds and K1 collusion
// alerts. platform.Wire puts it into trading.Service.Supervision.
type SupervisionSource struct{ Svc *Service }

var _ trading.SectionedSource = SupervisionSource{}

// Section puts these alerts in the dashboard's deposit section.
func (SupervisionSource) Section() string { return trading.SectionDeposits }

// ruleID tells a RULES.md rule id (D6, D8…) from the platform's own refund
// reasons (INVALID, SUSPENSE).
var ruleID = regexp.MustCompile(`^[A-Z][0-9]+$`)

// Alerts lists the open deposit alerts as of now, newest first.
func (src SupervisionSource) Alerts(ctx context.Context, now time.Time, limit int) ([]trading.Alert, error) {
	db := src.Svc.DB.WithContext(ctx)
	var out []trading.Alert

	// Suspense: money that matched no virtual account and is not yet being
	// returned.
	var suspense []StoredInflow
	if err := db.Where("status = ? AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.inflow_id = inflows.id)", InflowSuspense).
		Order("id DESC").Limit(limit).Find(&suspense).Error; err != nil {
		return nil, err
	}
	for _, i := range suspense {
		out = append(out, trading.Alert{Kind: "deposit_suspense", At: i.ValueTime,
			Title:  fmt.Sprintf("待查款项 %s 元：收款账号 %s 无对应子账号", trading.Yuan(i.Amount), i.AccountNumber),
			Detail: fmt.Sprintf("付款人 %s（%s %s）", i.PayerName, i.PayerBank, i.PayerAccount),
			Link:   "/supervisor/deposits?status=suspense"})
	}

	// Late and third-party payments: invalid, refunded, not yet paid back.
	var invalid []struct {
		StoredInflow
		Code     string           `gorm:"column:code"`
		Seq      int              `gorm:"column:seq"`
		Category trading.Category `gorm:"column:category"`
	}
	// Equivalent SQL: SELECT i.*, p.code, l.seq, p.category FROM inflows i JOIN virtual_accounts va … JOIN projects p …
	//   WHERE i.status IN ('late', 'third_party') ORDER BY i.id DESC LIMIT ?
	if err := db.Table("inflows i").Select("i.*, p.code, l.seq, p.category").
		Joins("JOIN virtual_accounts va ON va.id = i.virtual_account_id").Joins("JOIN lots l ON l.id = va.lot_id").
		Joins("JOIN projects p ON p.id = l.project_id").
		Where("i.status IN ?", []InflowStatus{InflowLate, InflowThirdParty}).Order("i.id DESC").Limit(limit).
		Scan(&invalid).Error; err != nil {
		return nil, err
	}
	for _, i := range invalid {
		a := trading.Alert{Kind: "deposit_late", ProjectCode: i.Code, At: i.ValueTime, Detail: i.Reason, Link: "/supervisor/refunds",
			Title: fmt.Sprintf("逾期到账 %s 元：%s%d，付款人 %s（无效，待退）", trading.Yuan(i.Amount), i.Category.LotNoun(), i.Seq, i.PayerName)}
		if i.Status == InflowThirdParty {
			a.Kind, a.Rule = "deposit_third_party", "D2"
			a.Title = fmt.Sprintf("非投标人账户缴纳 %s 元：%s%d，付款人 %s（无效，退回付款人）", trading.Yuan(i.Amount), i.Category.LotNoun(), i.Seq, i.PayerName)
		}
		out = append(out, a)
	}

	// Refunds past their due day (D5/D6: within 5 days) and not yet paid.
	today := now.In(trading.Shanghai).Format("2006-01-02")
	var overdue []struct {
		Refund
		Code string `gorm:"column:code"`
	}
	if err := db.Table("refunds r").Select("r.*, p.code").
		Joins("JOIN inflows i ON i.id = r.inflow_id").Joins("LEFT JOIN virtual_accounts va ON va.id = i.virtual_account_id").
		Joins("LEFT JOIN lots l ON l.id = va.lot_id").Joins("LEFT JOIN projects p ON p.id = l.project_id").
		Where("r.status <> 'paid' AND r.due_on < ?::date", today).Order("r.due_on DESC, r.id DESC").Limit(limit).
		Scan(&overdue).Error; err != nil {
		return nil, err
	}
	for _, r := range overdue {
		due := r.DueOn.In(trading.Shanghai)
		a := trading.Alert{Kind: "refund_overdue", ProjectCode: r.Code,
			At:     time.Date(due.Year(), due.Month(), due.Day(), 0, 0, 0, 0, trading.Shanghai),
			Title:  fmt.Sprintf("退款逾期：%s 元应于 %s 前退还 %s（%s）", trading.Yuan(r.Principal), due.Format("2006-01-02"), r.PayeeName, r.StatusName()),
			Detail: r.Reason, Link: "/supervisor/refunds"}
		if ruleID.MatchString(r.Rule) {
			a.Rule = r.Rule
		}
		out = append(out, a)
	}

	// K1: different bidders of one lot paying from the same account.
	var k1 []struct {
		Alert
		Code string `gorm:"column:code"`
		Seq  int    `gorm:"column:seq"`
	}
	if err := db.Table("deposit_alerts d").Select("d.*, p.code, l.seq, p.category").Joins("JOIN lots l ON l.id = d.lot_id").
		Joins("JOIN projects p ON p.id = l.project_id").Where("d.kind = 'K1' AND d.resolved_at IS NULL").Order("d.id DESC").Limit(limit).
		Scan(&k1).Error; err != nil {
		return nil, err
	}
	for _, k := range k1 {
		out = append(out, trading.Alert{Kind: "k1", Rule: "K1", ProjectCode: k.Code, At: k.CreatedAt, Detail: k.Detail,
			Title: fmt.Sprintf("疑似串通投标：%s%d 不同投标人的保证金来自同一账户 %s", k.Category.LotNoun(), k.Seq, k.PayerAccount),
			Link:  "/supervisor/deposits"})
	}

	// A transaction id the bank repeated with different content (refused).
	var dups []struct {
		Alert
		Code *string `gorm:"column:code"`
	}
	if err := db.Table("deposit_alerts d").Select("d.*, p.code").Joins("LEFT JOIN lots l ON l.id = d.lot_id").
		Joins("LEFT JOIN projects p ON p.id = l.project_id").Where("d.kind = 'DUPLICATE' AND d.resolved_at IS NULL").
		Order("d.id DESC").Limit(limit).Scan(&dups).Error; err != nil {
		return nil, err
	}
	for _, d := range dups {
		a := trading.Alert{Kind: "deposit_duplicate", At: d.CreatedAt, Detail: d.Detail, Link: "/supervisor/deposits",
			Title: "银行到账通知的交易流水号重复但内容不同，已拒收"}
		if d.Code != nil {
			a.ProjectCode = *d.Code
		}
		out = append(out, a)
	}

	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// timelineLimit bounds each kind of event of one project.
const timelineLimit = 500

// Timeline lists a project's deposit events: inflows, refunds opened and
// paid, forfeitures and K1 alerts.
func (src SupervisionSource) Timeline(ctx context.Context, projectID int64) ([]trading.TimelineEvent, error) {
	db := src.Svc.DB.WithContext(ctx)
	var out []trading.TimelineEvent
	var inflows []struct {
		StoredInflow
		Seq       int              `gorm:"column:seq"`
		Category  trading.Category `gorm:"column:category"`
		RefundAt  *time.Time       `gorm:"column:refund_at"`
		RefundID  *int64           `gorm:"column:refund_id"`
		Rule      string           `gorm:"column:rule"`
		RReason   string           `gorm:"column:r_reason"`
		PaidAt    *time.Time       `gorm:"column:paid_at"`
		Interest  decimal.Decimal  `gorm:"column:interest"`
		ForfeitAt *time.Time       `gorm:"column:forfeit_at"`
	}
	// Equivalent SQL: each inflow of the project's lots with its refund and
	// the moment of its forfeiture (its D7 journal).
	if err := db.Table("inflows i").Select(`i.*, l.seq, p.category, r.id AS refund_id, r.created_at AS refund_at, r.rule, r.reason AS r_reason,
			r.paid_at, coalesce(r.interest, 0) AS interest,
			(SELECT min(e.at) FROM ledger_entries e WHERE e.journal_id = 'forfeit:' || i.id) AS forfeit_at`).
		Joins("JOIN virtual_accounts va ON va.id = i.virtual_account_id").Joins("JOIN lots l ON l.id = va.lot_id").
		Joins("JOIN projects p ON p.id = l.project_id").Joins("LEFT JOIN refunds r ON r.inflow_id = i.id").
		Where("l.project_id = ?", projectID).Order("i.id DESC").Limit(timelineLimit).Scan(&inflows).Error; err != nil {
		return nil, err
	}
	for _, i := range inflows {
		out = append(out, trading.TimelineEvent{At: i.ValueTime, Kind: "deposit",
			Title:  fmt.Sprintf("保证金到账 %s 元（%s%d，%s）", trading.Yuan(i.Amount), i.Category.LotNoun(), i.Seq, i.Status.Name()),
			Detail: fmt.Sprintf("付款人 %s，子账号 %s %s", i.PayerName, i.AccountNumber, i.Reason), Link: "/supervisor/deposits"})
		if i.RefundAt != nil {
			out = append(out, trading.TimelineEvent{At: *i.RefundAt, Kind: "refund", Link: "/supervisor/refunds",
				Title:  fmt.Sprintf("开具退款 %s 元（%s%d，%s）", trading.Yuan(i.Amount), i.Category.LotNoun(), i.Seq, trading.Label(trading.LabelRefundReason, i.Rule)),
				Detail: i.RReason})
		}
		if i.PaidAt != nil {
			out = append(out, trading.TimelineEvent{At: *i.PaidAt, Kind: "refund", Link: "/supervisor/refunds",
				Title: fmt.Sprintf("已退还 %s 元（本金 %s，利息 %s）给 %s", trading.Yuan(i.Amount.Add(i.Interest)),
					trading.Yuan(i.Amount), trading.Yuan(i.Interest), i.PayerName)})
		}
		if i.ForfeitAt != nil {
			out = append(out, trading.TimelineEvent{At: *i.ForfeitAt, Kind: "forfeiture", Link: "/supervisor/deposits",
				Title: fmt.Sprintf("没收保证金 %s 元（%s%d，D7）", trading.Yuan(i.Amount), i.Category.LotNoun(), i.Seq), Detail: i.Reason})
		}
	}
	var k1 []struct {
		Alert
		Seq int `gorm:"column:seq"`
	}
	if err := db.Table("deposit_alerts d").Select("d.*, l.seq, p.category").Joins("JOIN lots l ON l.id = d.lot_id").
		Joins("JOIN projects p ON p.id = l.project_id").Where("l.project_id = ?", projectID).Order("d.id DESC").Limit(timelineLimit).Scan(&k1).Error; err != nil {
		return nil, err
	}
	for _, k := range k1 {
		out = append(out, trading.TimelineEvent{At: k.CreatedAt, Kind: "alert", Link: "/supervisor/deposits",
			Title: fmt.Sprintf("K1 预警：%s%d 不同投标人的保证金来自同一账户 %s", k.Category.LotNoun(), k.Seq, k.PayerAccount), Detail: k.Detail})
	}
	return out, nil
}

// SamePayerPairs lists the pairs of a lot's registrations whose deposits
// came from the same payer account (K1), for the online bidding's
// supervisor view (bidding/auction, wired by platform.Wire).
func (s *Service) SamePayerPairs(ctx context.Context, tx *gorm.DB, lotID int64) ([][2]int64, error) {
	var rows []struct {
		A int64 `gorm:"column:a"`
		B int64 `gorm:"column:b"`
	}
	// Equivalent SQL: distinct registration pairs of the lot with a common payer account.
	err := tx.WithContext(ctx).Raw(`SELECT DISTINCT va1.registration_id AS a, va2.registration_id AS b
		FROM inflows i1 JOIN virtual_accounts va1 ON va1.id = i1.virtual_account_id
		JOIN inflows i2 ON i2.payer_account = i1.payer_account
		JOIN virtual_accounts va2 ON va2.id = i2.virtual_account_id
		WHERE va1.lot_id = ? AND va2.lot_id = ? AND va1.registration_id < va2.registration_id
		ORDER BY 1, 2`, lotID, lotID).Scan(&rows).Error
	out := make([][2]int64, 0, len(rows))
	for _, r := range rows {
		out = append(out, [2]int64{r.A, r.B})
	}
	return out, err
}
