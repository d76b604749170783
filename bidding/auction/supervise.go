package auction

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// Alert is a supervisors' alert while bidding runs (issue 15 §9).
type Alert struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // same_origin, self_outbid, late, k1
	Text string    `json:"text"`
}

// alerts publishes, on the supervisors' topic, what a supervisor should
// look at after an accepted quote: another bidder quoting from the same
// address or device (sameOrigin: their codes, found by auction_same_origin,
// migration 00033), and
// a bidder outbidding only itself (self: the lot's highest before the quote
// was the bidder's own ascending quote). fast.go publishes the same events
// from SQL with the same texts.
func (s *Service) alerts(ctx context.Context, tx *gorm.DB, lotID int64, b *Bidder, q *Quote, self bool, sameOrigin string) error {
	var out []Alert
	if sameOrigin != "" {
		out = append(out, Alert{At: q.At, Kind: "same_origin", Text: fmt.Sprintf(sameOriginText, b.Code, sameOrigin)})
	}
	if self {
		out = append(out, Alert{At: q.At, Kind: "self_outbid", Text: selfOutbidText(b.Code, q.Amount)})
	}
	for _, a := range out {
		if _, err := live.Publish(ctx, tx, supTopic(lotID), "alert", a); err != nil {
			return err
		}
	}
	return nil
}

// sameOriginText is the same-origin alert (K1/K3): the quoting code, then
// the other codes. Go's fmt and PostgreSQL's format() read it alike.
const sameOriginText = "竞买号牌 %s 与 %s 从同一网络地址或设备报价（K1/K3）"

func selfOutbidText(code string, amount decimal.Decimal) string {
	return fmt.Sprintf("竞买号牌 %s 在自己的最高报价之上再次加价（%s 元）", code, yuan(amount))
}

func supervisorOnly(a trading.Actor) error {
	if a.Role != trading.RoleSupervisor {
		return trading.Forbidden("只有监管人员可以中止、恢复网上竞价或查看竞买人身份")
	}
	return nil
}

// Suspend stops a lot's bidding (中止, L13): its clock freezes until Resume.
func (s *Service) Suspend(ctx context.Context, a trading.Actor, lotID int64, reason string) error {
	if err := supervisorOnly(a); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 4 || n > 500 {
		return trading.Invalid("reason", "请写明中止的原因（4至500字，L13）")
	}
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		l, err := lock(tx, lotID)
		if err != nil {
			return err
		}
		if l.State != StateOpen && l.State != StateTimed && l.State != StateCapped {
			return trading.Conflict("lot", "本标的竞价%s，不能中止", map[string]string{StateSuspended: "已中止", StateSettled: "已结束",
				StateQualifying: "已结束、正在资格后审", StatePriority: "已结束、正在等待优先购买权人"}[l.State])
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		prev := l.State
		l.State, l.SuspendedAt, l.SuspendedState, l.SuspendReason = StateSuspended, &now, &prev, reason
		if err := tx.Save(l).Error; err != nil {
			return err
		}
		if err := logEntry(tx, &Entry{LotID: lotID, At: now, Kind: "suspended", Rule: "L13", Detail: reason}); err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "auction.suspend", "lot", fmt.Sprint(lotID), "中止网上竞价："+reason); err != nil {
			return err
		}
		_, err = live.Publish(ctx, tx, topic(lotID), "phase", PhaseEvent{At: now, State: l.State, ClosesAt: l.ClosesAt, Reason: reason})
		return err
	})
}

// Resume lets a suspended lot go on (L13): a listing period is extended by
// the frozen time (and ends no sooner than one countdown from now), a
// countdown restarts in full.
func (s *Service) Resume(ctx context.Context, a trading.Actor, lotID int64) error {
	if err := supervisorOnly(a); err != nil {
		return err
	}
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		l, err := lock(tx, lotID)
		if err != nil {
			return err
		}
		if l.State != StateSuspended {
			return trading.Conflict("lot", "本标的竞价未中止")
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		frozen := now.Sub(*l.SuspendedAt)
		prev := *l.SuspendedState
		var until time.Time
		switch prev {
		case StateOpen:
			until = l.ClosesAt.Add(frozen)
			if least := now.Add(time.Duration(l.CountdownS) * time.Second); until.Before(least) {
				until = least
			}
			l.ClosesAt = until
		case StateTimed:
			until = now.Add(time.Duration(l.CountdownS) * time.Second)
			l.CountdownEnd = &until
		case StateCapped:
			until = now.Add(time.Duration(l.CapPeriodS) * time.Second)
			l.CountdownEnd = &until
		}
		l.State, l.SuspendedAt, l.SuspendedState, l.SuspendReason = prev, nil, nil, ""
		if err := tx.Save(l).Error; err != nil {
			return err
		}
		detail := fmt.Sprintf("恢复网上竞价，冻结 %.0f 秒，", frozen.Seconds())
		if prev == StateOpen {
			detail += "报价期顺延至 " + fmtTime(until)
		} else {
			detail += "倒计时重新开始，至 " + fmtTime(until)
		}
		if err := logEntry(tx, &Entry{LotID: lotID, At: now, Kind: "resumed", Rule: "L13", Until: &until, Detail: detail}); err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "auction.resume", "lot", fmt.Sprint(lotID), detail); err != nil {
			return err
		}
		ev := PhaseEvent{At: now, State: l.State, ClosesAt: l.ClosesAt, CountdownEnd: l.CountdownEnd, Next: l.next()}
		if !l.Sealed() {
			ev.Highest = l.Highest
			ev.Code = s.codeOf(tx, l.HighestReg)
		}
		_, err = live.Publish(ctx, tx, topic(lotID), "phase", ev)
		return err
	})
}

// Identity is who holds a code: for supervisors only, every look audited.
type Identity struct {
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	IDNumber   string     `json:"id_number"`
	WantsTimed bool       `json:"wants_timed"`
	Quotes     int        `json:"quotes"`
	LastIP     string     `json:"last_ip"`
	LastAt     *time.Time `json:"last_at,omitempty"`
}

// Identities lists the codes of a lot with their bidders and the K1 pairs
// (same payer account), for a supervisor; the look is audited, as looks at
// registrations are (K4/K5).
func (s *Service) Identities(ctx context.Context, a trading.Actor, lotID int64) ([]Identity, []string, error) {
	if err := supervisorOnly(a); err != nil {
		return nil, nil, err
	}
	var out []Identity
	var k1 []string
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if _, err := s.Get(ctx, lotID); err != nil {
			return err
		}
		// Equivalent SQL: codes with bidders, their quote counts and last address.
		if err := tx.Raw(`SELECT ab.code, b.name, b.id_number, ab.wants_timed_at IS NOT NULL AS wants_timed,
				(SELECT count(*) FROM auction_quotes q WHERE q.registration_id = ab.registration_id) AS quotes,
				COALESCE((SELECT q.ip FROM auction_quotes q WHERE q.registration_id = ab.registration_id ORDER BY q.id DESC LIMIT 1), '') AS last_ip,
				(SELECT max(q.at) FROM auction_quotes q WHERE q.registration_id = ab.registration_id) AS last_at
			FROM auction_bidders ab JOIN registrations r ON r.id = ab.registration_id JOIN bidders b ON b.account_id = r.bidder_id
			WHERE ab.lot_id = ? ORDER BY ab.code`, lotID).Scan(&out).Error; err != nil {
			return err
		}
		if s.SamePayers != nil {
			pairs, err := s.SamePayers(ctx, tx, lotID)
			if err != nil {
				return err
			}
			for _, p := range pairs {
				var codes []string
				tx.Raw("SELECT code FROM auction_bidders WHERE registration_id IN (?, ?) ORDER BY code", p[0], p[1]).Scan(&codes)
				if len(codes) == 2 {
					k1 = append(k1, fmt.Sprintf("竞买号牌 %s 与 %s 的保证金来自同一付款账户（K1）", codes[0], codes[1]))
				}
			}
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "auction.identities", "lot", fmt.Sprint(lotID), fmt.Sprintf("监管人员查看竞买号牌对应的竞买人（%d个）", len(out)))
	})
	return out, k1, err
}

var _ = http.StatusOK
