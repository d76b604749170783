package auction

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
	"github.com/ggzy/ggzy/trading/rules"
)

// SettledEvent is the end of a lot's bidding on its public topic.
type SettledEvent struct {
	At      time.Time        `json:"at"`
	Outcome string           `json:"outcome"` // sold, no_sale
	Code    string           `json:"code,omitempty"`
	Price   *decimal.Decimal `json:"price,omitempty"`
	Reason  string           `json:"reason,omitempty"`
	Record  string           `json:"record,omitempty"` // link to the published record
}

// PhaseEvent is a change of phase (timed bidding starts, the cap is
// reached, a suspension or a resumption) on the public topic.
type PhaseEvent struct {
	At           time.Time        `json:"at"`
	State        string           `json:"state"`
	CountdownEnd *time.Time       `json:"countdown_end,omitempty"`
	ClosesAt     time.Time        `json:"closes_at"`
	Highest      *decimal.Decimal `json:"highest,omitempty"`
	Code         string           `json:"code,omitempty"`
	Next         *decimal.Decimal `json:"next,omitempty"`
	Reason       string           `json:"reason,omitempty"`
}

// Run settles due lots every interval until ctx ends: the small ticker of
// each instance. Several instances may run it: each due lot is claimed by
// whichever takes its row first (FOR UPDATE SKIP LOCKED) and settled once.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for tick := 0; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if tick%100 == 0 {
				if err := s.PruneRate(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
					s.Log.Warn("auction: prune quote counts", "err", err)
				}
			}
			if _, err := s.SettleDue(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
				s.Log.Warn("auction: settle", "err", err)
			}
			if err := s.PublishRecords(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
				s.Log.Warn("auction: publish records", "err", err)
			}
		}
	}
}

// SettleDue settles every lot whose period or countdown has ended by the
// database's clock, and returns how many steps it took.
func (s *Service) SettleDue(ctx context.Context) (int, error) {
	n := 0
	for {
		did := false
		err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
			// Equivalent SQL: SELECT * FROM auction_lots WHERE (state = 'open' AND closes_at <= ggzy_now())
			//   OR (state IN ('timed','capped','priority') AND countdown_end <= ggzy_now()) LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED
			var l Lot
			res := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE", Options: "SKIP LOCKED"}).
				Where("(state = 'open' AND closes_at <= ggzy_now()) OR (state IN ('timed', 'capped', 'priority') AND countdown_end <= ggzy_now())").
				Limit(1).Find(&l)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			did = true
			return s.step(ctx, tx, &l)
		})
		if err != nil {
			return n, err
		}
		if !did {
			return n, nil
		}
		n++
	}
}

// step takes a due, locked lot one step: the listing's close (L10, P7), the
// end of a countdown (L11) or of the second criterion (L15). An instance
// that finds itself later than L11.late_settle_ms freezes the lot and alerts
// supervisors instead (issue 15 §5).
func (s *Service) step(ctx context.Context, tx *gorm.DB, l *Lot) error {
	now, err := trading.DBNow(tx)
	if err != nil {
		return err
	}
	due := l.ClosesAt
	if l.State != StateOpen {
		due = *l.CountdownEnd
	}
	if l.State == StatePriority {
		// No quote races the end of the holder's window: its exercise is
		// refused after it by the database's clock, so a late step is harmless.
		return s.lapsePriority(ctx, tx, l, now)
	}
	if late := now.Sub(due); late > time.Duration(s.params().L11LateSettleMillis)*time.Millisecond {
		return s.freeze(ctx, tx, l, now, fmt.Sprintf("结算时已超过结束时间 %.3f 秒（阈值 %d 毫秒），为免争议冻结待监管人员处理", late.Seconds(), s.params().L11LateSettleMillis))
	}
	switch l.State {
	case StateOpen:
		return s.closeOpen(ctx, tx, l, due)
	case StateTimed:
		return s.conclude(ctx, tx, l, due, l.HighestReg, l.Highest)
	case StateCapped:
		// L15: the highest second-criterion value wins at the cap; ties to
		// the earlier; nobody: the bidder who reached the cap.
		var q Quote
		if err := tx.Where("lot_id = ? AND phase = 'capped'", l.LotID).Order("amount DESC, id").Limit(1).Find(&q).Error; err != nil {
			return err
		}
		reg := l.HighestReg
		if q.ID != 0 {
			reg = &q.RegistrationID
		}
		return s.conclude(ctx, tx, l, due, reg, l.PriceCap)
	}
	return nil
}

// closeOpen applies L10 (land listing) and P7 (property) at the close.
func (s *Service) closeOpen(ctx context.Context, tx *gorm.DB, l *Lot, at time.Time) error {
	goTimed := false
	switch l.Mode {
	case rules.ModeListing:
		var wants int64
		if err := tx.Model(&Bidder{}).Where("lot_id = ? AND wants_timed_at IS NOT NULL", l.LotID).Count(&wants).Error; err != nil {
			return err
		}
		goTimed = wants >= 2
	case rules.ModeMulti:
		goTimed = l.Highest != nil // P7: the free period's quotes go on to the timed period
	}
	if !goTimed {
		return s.conclude(ctx, tx, l, at, l.HighestReg, l.Highest)
	}
	end := at.Add(time.Duration(l.CountdownS) * time.Second)
	l.State, l.CountdownEnd = StateTimed, &end
	if err := tx.Save(l).Error; err != nil {
		return err
	}
	if err := logEntry(tx, &Entry{LotID: l.LotID, At: at, Kind: "timed", Until: &end, Amount: l.Highest, Rule: "L11",
		Detail: fmt.Sprintf("转入限时竞价，从最高报价起，倒计时%d秒", l.CountdownS)}); err != nil {
		return err
	}
	if err := trading.Audit(tx, at, trading.SystemActor, "auction.timed", "lot", fmt.Sprint(l.LotID), "挂牌截止，转入限时竞价"); err != nil {
		return err
	}
	_, err := live.Publish(ctx, tx, topic(l.LotID), "phase", PhaseEvent{At: at, State: l.State, CountdownEnd: &end, ClosesAt: l.ClosesAt,
		Highest: l.Highest, Code: s.codeOf(tx, l.HighestReg), Next: l.next()})
	return err
}

func (s *Service) codeOf(tx *gorm.DB, reg *int64) string {
	if reg == nil {
		return ""
	}
	var code string
	tx.Raw("SELECT code FROM auction_bidders WHERE registration_id = ?", *reg).Scan(&code)
	return code
}

// conclude ends the bidding of a locked lot at `at` with its best bidder
// and price: a bidder who meets the reserve goes on to the agent's check
// where the lot uses post-qualification (资格后审, qualify.go), then to the
// priority-right holder's window where the announcement names one (P7,
// priority.go), and otherwise straight to the deal (finish).
func (s *Service) conclude(ctx context.Context, tx *gorm.DB, l *Lot, at time.Time, reg *int64, price *decimal.Decimal) error {
	if reg != nil && price != nil {
		ok, err := meetsReserve(tx, l.LotID, *price)
		if err != nil {
			return err
		}
		if ok && l.PostQualification != "" {
			return s.awaitQualification(ctx, tx, l, at, *reg, *price)
		}
		if ok {
			return s.afterQualified(ctx, tx, l, at, *reg, *price)
		}
	}
	return s.finish(ctx, tx, l, at, reg, price, "")
}

// meetsReserve tells whether price meets the lot's reserve (L9: the
// answer, never the reserve, leaves this function).
func meetsReserve(tx *gorm.DB, lotID int64, price decimal.Decimal) (bool, error) {
	var reserve *decimal.Decimal
	if err := tx.Raw("SELECT reserve_price FROM lots WHERE id = ?", lotID).Row().Scan(&reserve); err != nil {
		return false, err
	}
	return reserve == nil || !price.LessThan(*reserve), nil
}

// finish settles the lot: the best quote wins if it meets the reserve
// (L3, L10, L11), else no sale (流拍); noSale, when given, is a no-sale
// decided after the bidding (a failed qualification). The outcome goes
// through the result path (Settle) in this transaction.
func (s *Service) finish(ctx context.Context, tx *gorm.DB, l *Lot, at time.Time, reg *int64, price *decimal.Decimal, noSale string) error {
	out := "no_sale"
	reason := "无人报价，流拍"
	switch {
	case noSale != "":
		reason = noSale
	case reg == nil || price == nil:
	default:
		ok, err := meetsReserve(tx, l.LotID, *price)
		if err != nil {
			return err
		}
		if ok {
			out, reason = "sold", ""
		} else {
			reason = "最高报价未达到底价，流拍（L10）" // that it was not met, never what it is (L9)
		}
	}
	l.State, l.SettledAt, l.Outcome, l.NoSaleReason = StateSettled, &at, &out, reason
	l.CandidateReg, l.CandidatePrice = nil, nil
	ev := SettledEvent{At: at, Outcome: out, Reason: reason, Record: fmt.Sprintf("/auctions/%d/record", l.LotID)}
	if out == "sold" {
		l.WinnerReg, l.DealPrice = reg, price
		ev.Code, ev.Price = s.codeOf(tx, reg), price
	}
	if err := tx.Save(l).Error; err != nil {
		return err
	}
	detail := reason
	if out == "sold" {
		detail = fmt.Sprintf("竞买号牌 %s 以 %s 元竞得", ev.Code, yuan(*price))
	}
	if err := logEntry(tx, &Entry{LotID: l.LotID, At: at, Kind: "settled", Code: ev.Code, Amount: ev.Price, Detail: detail}); err != nil {
		return err
	}
	if err := trading.Audit(tx, at, trading.SystemActor, "auction.settle", "lot", fmt.Sprint(l.LotID), "网上竞价结束："+detail); err != nil {
		return err
	}
	if s.Settle != nil {
		var r int64
		var p decimal.Decimal
		if out == "sold" {
			r, p = *reg, *price
		}
		note := fmt.Sprintf("本结果由网上竞价系统自动产生（%s）。竞价记录（匿名）：/auctions/%d/record", rules.ModeName(l.Mode), l.LotID)
		if err := s.Settle(ctx, tx, l.LotID, r, p, reason, note); err != nil {
			return fmt.Errorf("settle lot %d: %w", l.LotID, err)
		}
	}
	_, err := live.Publish(ctx, tx, topic(l.LotID), "settled", ev)
	return err
}

// freeze suspends a lot that could not be settled on time and alerts the
// supervisors; a supervisor resumes it (L13).
func (s *Service) freeze(ctx context.Context, tx *gorm.DB, l *Lot, now time.Time, why string) error {
	prev := l.State
	l.State, l.SuspendedAt, l.SuspendedState, l.SuspendReason = StateSuspended, &now, &prev, why
	if err := tx.Save(l).Error; err != nil {
		return err
	}
	if err := logEntry(tx, &Entry{LotID: l.LotID, At: now, Kind: "frozen", Rule: "L13", Detail: why}); err != nil {
		return err
	}
	if err := trading.Audit(tx, now, trading.SystemActor, "auction.freeze", "lot", fmt.Sprint(l.LotID), why); err != nil {
		return err
	}
	if _, err := live.Publish(ctx, tx, topic(l.LotID), "phase", PhaseEvent{At: now, State: l.State, ClosesAt: l.ClosesAt, Reason: why}); err != nil {
		return err
	}
	_, err := live.Publish(ctx, tx, supTopic(l.LotID), "alert", Alert{At: now, Kind: "late", Text: "标的 " + fmt.Sprint(l.LotID) + " " + why})
	return err
}

// ErrNotSettled is returned for the record of a lot still being bid.
var ErrNotSettled = errors.New("竞价尚未结束")
