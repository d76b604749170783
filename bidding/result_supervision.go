package bidding

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
)

// ResultSource puts results on the supervision dashboard and timelines:
// contracts signed late or still missing after the legal 30 days (E14,
// G13), and each lot's opening, failure, award and contract.
type ResultSource struct{ Svc *Service }

var _ trading.SupervisionSource = ResultSource{}

// Alerts lists contracts late (E14 engineering, G13 procurement): signed
// after the limit, or not yet signed when it has passed.
func (src ResultSource) Alerts(ctx context.Context, now time.Time, limit int) ([]trading.Alert, error) {
	book, err := src.Svc.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		LotID        int64      `gorm:"column:lot_id"`
		Seq          int        `gorm:"column:seq"`
		Code         string     `gorm:"column:code"`
		Title        string     `gorm:"column:title"`
		Category     string     `gorm:"column:category"`
		AwardedAt    time.Time  `gorm:"column:awarded_at"`
		ContractDate *time.Time `gorm:"column:contract_date"`
	}
	// Equivalent SQL: lots awarded whose contract came late, or has not come
	// although the limit of their category has passed.
	err = src.Svc.DB.WithContext(ctx).Raw(`SELECT r.lot_id, l.seq, p.code, p.title, p.category, r.awarded_at, r.contract_date
		FROM lot_results r JOIN lots l ON l.id = r.lot_id JOIN projects p ON p.id = l.project_id
		WHERE p.status = 'active' AND ((r.stage = 'contracted' AND r.contract_late)
		   OR (r.stage = 'awarded' AND ((p.category = 'engineering' AND (r.awarded_at AT TIME ZONE 'Asia/Shanghai')::date < ?::date)
		                             OR (p.category = 'procurement' AND (r.awarded_at AT TIME ZONE 'Asia/Shanghai')::date < ?::date))))
		ORDER BY r.awarded_at DESC LIMIT ?`,
		// Late from the day after the last day allowed, as RecordContract counts.
		civil(now).AddDate(0, 0, -book.E14MaxDays).Format("2006-01-02"), civil(now).AddDate(0, 0, -book.G13MaxDays).Format("2006-01-02"),
		limit).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]trading.Alert, 0, len(rows))
	for _, r := range rows {
		rule, max := "E14", book.E14MaxDays
		if trading.Category(r.Category) == trading.Procurement {
			rule, max = "G13", book.G13MaxDays
		}
		a := trading.Alert{Kind: "contract_late", Rule: rule, ProjectCode: r.Code, At: r.AwardedAt,
			Link: fmt.Sprintf("/supervisor/lots/%d/result", r.LotID)}
		if r.ContractDate != nil {
			a.Title = fmt.Sprintf("%s %s%d 合同逾期签订", r.Title, trading.Category(r.Category).LotNoun(), r.Seq)
			a.Detail = fmt.Sprintf("定标 %s，合同 %s，超过%d日", r.AwardedAt.In(trading.Shanghai).Format("2006-01-02"),
				r.ContractDate.Format("2006-01-02"), max)
		} else {
			a.Title = fmt.Sprintf("%s %s%d 定标已逾%d日未登记合同", r.Title, trading.Category(r.Category).LotNoun(), r.Seq, max)
			a.Detail = "定标 " + r.AwardedAt.In(trading.Shanghai).Format("2006-01-02")
		}
		out = append(out, a)
	}
	return out, nil
}

// Timeline lists each lot's result steps.
func (src ResultSource) Timeline(ctx context.Context, projectID int64) ([]trading.TimelineEvent, error) {
	var rows []struct {
		LotResult
		Seq      int              `gorm:"column:seq"`
		Category trading.Category `gorm:"column:category"`
		Winner   string           `gorm:"column:winner"`
		Bids     int              `gorm:"column:bids"`
	}
	err := src.Svc.DB.WithContext(ctx).Raw(`SELECT r.*, l.seq, p.category, coalesce(b.name, '') AS winner,
			(SELECT count(*) FROM lot_bids lb WHERE lb.lot_id = r.lot_id) AS bids
		FROM lot_results r JOIN lots l ON l.id = r.lot_id JOIN projects p ON p.id = l.project_id LEFT JOIN bidders b ON b.account_id = r.winner_id
		WHERE l.project_id = ? ORDER BY l.seq`, projectID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	var out []trading.TimelineEvent
	for _, r := range rows {
		link := fmt.Sprintf("/supervisor/lots/%d/result", r.LotID)
		ev := func(at time.Time, title, detail string) {
			out = append(out, trading.TimelineEvent{At: at, Kind: "result", Title: fmt.Sprintf("%s%d %s", r.Category.LotNoun(), r.Seq, title), Detail: detail, Link: link})
		}
		if r.OpenedAt != nil {
			ev(*r.OpenedAt, "开标记录", fmt.Sprintf("%d家递交投标文件", r.Bids))
		}
		if r.Stage == StageFailed || r.Stage == StageNoSale {
			ev(r.UpdatedAt, r.Stage.Name(), r.FailedRule+" "+r.FailedReason)
		}
		if r.AwardedAt != nil {
			ev(*r.AwardedAt, "定标/成交", fmt.Sprintf("%s，%s 元", r.Winner, amount(r.Amount)))
		}
		if r.ContractDate != nil {
			d := "合同金额 " + amount(r.ContractAmount) + " 元"
			if r.ContractLate {
				d += "（逾期签订）"
			}
			ev(time.Date(r.ContractDate.Year(), r.ContractDate.Month(), r.ContractDate.Day(), 0, 0, 0, 0, trading.Shanghai), "合同签订", d)
		}
	}
	return out, nil
}

func amount(d *decimal.Decimal) string {
	if d == nil {
		return "—"
	}
	return trading.Yuan(*d)
}
