package deposits

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
)

// G7 (财政部令第87号第三十八条): a procurement deposit refunded late owes the
// occupation fee (资金占用费) on top, "except where the supplier's own cause
// kept it from being refunded in time" (因投标人自身原因导致无法及时退还的除外):
// an account closed, a wrong account given, a refund the supplier's bank
// refused. The platform cannot tell that by itself, so a supervisor records
// the period the cause lasted (from a date; until the date the supplier
// removed it, or still going) with the facts, while the refund is late and
// still to be sent. The fee then leaves out exactly those days: the
// centre's own days before and after still count (OccupationFeeExcept),
// shown on the refunds page and fixed at batching. The record can be
// corrected (set again) or taken back until the refund is in a batch. Each
// step is audited and the supplier is told.

// FeeWaiverInput is the period of the supplier's own cause and its facts.
type FeeWaiverInput struct {
	From   string `json:"from"`            // YYYY-MM-DD, the first day the cause kept the refund back
	Until  string `json:"until,omitempty"` // YYYY-MM-DD, the day it no longer did; empty: still going
	Reason string `json:"reason"`          // the facts, 4–200 characters
}

// SetFeeWaiver records (or corrects) the period the supplier's own cause
// kept a late procurement refund from being paid, which G7 excepts. from is
// the day the cause actually stopped the payment (a bank's return of a
// batch, the day the supplier's closed account was found), not the day the
// cause arose: late days the centre did not try to pay still count. For a
// refund the bank failed, from is not before that batch; the period must
// overlap the late days.
func (s *Service) SetFeeWaiver(ctx context.Context, a trading.Actor, refundID int64, in FeeWaiverInput) (*Refund, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以记录供应商原因导致的迟延")
	}
	now := s.now()
	today := shanghaiDate(now.In(trading.Shanghai))
	// In the form's order: from, until, the facts.
	from, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(in.From), trading.Shanghai)
	if err != nil {
		return nil, trading.Invalid("from", "起始日期应为 YYYY-MM-DD，实际为“%s”", trading.Clip(in.From, 20))
	}
	if from.After(today) {
		return nil, trading.Invalid("from", "起始日期 %s 不能晚于今天", from.Format(time.DateOnly))
	}
	var until *time.Time
	if u := strings.TrimSpace(in.Until); u != "" {
		t, err := time.ParseInLocation(time.DateOnly, u, trading.Shanghai)
		if err != nil {
			return nil, trading.Invalid("until", "原因消除日期应为 YYYY-MM-DD，或留空（原因仍在持续），实际为“%s”", trading.Clip(in.Until, 20))
		}
		if !t.After(from) || t.After(today) {
			return nil, trading.Invalid("until", "原因消除日期 %s 应晚于起始日期 %s，且不晚于今天", t.Format(time.DateOnly), from.Format(time.DateOnly))
		}
		until = &t
	}
	why := strings.TrimRight(strings.TrimSpace(in.Reason), "。")
	if n := utf8.RuneCountInString(why); n < 4 || n > 200 || strings.ContainsFunc(why, unicode.IsControl) {
		return nil, trading.Invalid("reason", "请写明供应商自身原因导致无法及时退还的事实（4至200字，不含控制字符），实际%d字", n)
	}
	var r Refund
	err = s.feeWaiverTx(ctx, a, refundID, &r, func(tx *gorm.DB) (string, string, string, error) {
		if until != nil && !until.After(shanghaiDate(r.DueOn)) {
			return "", "", "", trading.RuleBroken("G7", "until", "该期间在应退日期 %s 之前结束，不在逾期期间内，不影响资金占用费（G7）", r.DueOn.Format(time.DateOnly))
		}
		var failedOn sql.NullTime
		// Equivalent SQL: the day of the refund's last batch the bank failed.
		if err := tx.Raw(`SELECT max(b.created_at) FROM refund_batch_items i JOIN refund_batches b ON b.id = i.batch_id
			WHERE i.refund_id = ? AND i.outcome = 'failed'`, r.ID).Row().Scan(&failedOn); err != nil {
			return "", "", "", err
		}
		if sent := failedOn.Time.In(trading.Shanghai); failedOn.Valid && from.Before(shanghaiDate(sent)) {
			return "", "", "", trading.RuleBroken("G7", "from", "该退款于 %s 发银行后被退回，此前的逾期由中心造成、照计资金占用费：起始日期不能早于该日（G7）",
				sent.Format(time.DateOnly))
		}
		period := "自 " + from.Format(time.DateOnly) + " 起（尚未消除）"
		if until != nil {
			period = from.Format(time.DateOnly) + " 至 " + until.AddDate(0, 0, -1).Format(time.DateOnly)
		}
		// Equivalent SQL: UPDATE refunds SET fee_waived_from = ?, fee_waived_until = ?, fee_waiver = ?, fee_waived_at = ? WHERE id = ?
		if err := tx.Model(&Refund{}).Where("id = ?", r.ID).Updates(map[string]any{"fee_waived_from": from.Format(time.DateOnly),
			"fee_waived_until": dateOrNil(until), "fee_waiver": why, "fee_waived_at": now}).Error; err != nil {
			return "", "", "", err
		}
		return "refund.fee_waive",
			fmt.Sprintf("退款 %d：%s 因供应商自身原因无法退还，该期间不计资金占用费（G7）：%s", r.ID, period, why),
			fmt.Sprintf("交易中心认定 %s 因贵单位自身原因（%s）无法退还，该期间不计资金占用费（财政部令第87号第三十八条），其余逾期天数照计", period, why), nil
	})
	if err != nil {
		return nil, err
	}
	return s.refund(ctx, refundID)
}

// RemoveFeeWaiver takes back the recorded period: every late day counts.
func (s *Service) RemoveFeeWaiver(ctx context.Context, a trading.Actor, refundID int64) (*Refund, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以撤销供应商原因迟延的记录")
	}
	var r Refund
	err := s.feeWaiverTx(ctx, a, refundID, &r, func(tx *gorm.DB) (string, string, string, error) {
		if r.FeeWaivedFrom == nil {
			return "", "", "", trading.Conflict("id", "该退款没有记录供应商原因导致的迟延")
		}
		was := "自 " + r.FeeWaivedFrom.Format(time.DateOnly) + " 起"
		if r.FeeWaivedUntil != nil {
			was = r.FeeWaivedFrom.Format(time.DateOnly) + " 至 " + r.FeeWaivedUntil.AddDate(0, 0, -1).Format(time.DateOnly)
		}
		was += "（" + r.FeeWaiver + "）"
		// Equivalent SQL: UPDATE refunds SET fee_waived_from = NULL, fee_waived_until = NULL, fee_waiver = '', fee_waived_at = NULL WHERE id = ?
		if err := tx.Model(&Refund{}).Where("id = ?", r.ID).Updates(map[string]any{"fee_waived_from": nil,
			"fee_waived_until": nil, "fee_waiver": "", "fee_waived_at": nil}).Error; err != nil {
			return "", "", "", err
		}
		return "refund.fee_restore",
			fmt.Sprintf("退款 %d：撤销供应商原因迟延的记录 %s，逾期每日均计资金占用费（G7）", r.ID, was),
			fmt.Sprintf("交易中心撤销了 %s 因贵单位自身原因无法退还的认定，逾期天数均计资金占用费（财政部令第87号第三十八条）", was), nil
	})
	if err != nil {
		return nil, err
	}
	return s.refund(ctx, refundID)
}

// refund reads a refund as stored (dates as the database gives them, like
// the list's).
func (s *Service) refund(ctx context.Context, id int64) (*Refund, error) {
	var r Refund
	if err := trading.First(s.DB.WithContext(ctx), &r, "退款", id); err != nil {
		return nil, err
	}
	return &r, nil
}

// feeWaiverTx locks the refund, checks that G7 applies to it and that its
// fee is not fixed yet, runs change (which returns the audit action and
// summary, and what the supplier is told), audits, and tells the supplier.
func (s *Service) feeWaiverTx(ctx context.Context, a trading.Actor, refundID int64, r *Refund, change func(tx *gorm.DB) (action, summary, told string, err error)) error {
	now := s.now()
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if err := trading.First(tx.Clauses(clause.Locking{Strength: "UPDATE"}), r, "退款", refundID); err != nil {
			return err
		}
		procurement, err := procurementInflows(tx, []Refund{*r})
		if err != nil {
			return err
		}
		if !procurement[r.InflowID] {
			return trading.RuleBroken("G7", "id", "资金占用费只适用于政府采购项目逾期退还的保证金（G7），该退款不计资金占用费")
		}
		if r.Status != RefundPending && r.Status != RefundFailed {
			return trading.Conflict("id", "该退款%s，资金占用费已随批次确定，不能再更改", r.StatusName())
		}
		if r.DueOn.Format(time.DateOnly) >= now.In(trading.Shanghai).Format(time.DateOnly) {
			return trading.RuleBroken("G7", "id", "该退款应于 %s 前退还，尚未逾期，不计资金占用费（G7）", r.DueOn.Format(time.DateOnly))
		}
		action, summary, told, err := change(tx)
		if err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, action, "refund", fmt.Sprint(r.ID), summary); err != nil {
			return err
		}
		return notifyFeeWaiver(tx, now, r.ID, told)
	})
}

func dateOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Format(time.DateOnly)
}
