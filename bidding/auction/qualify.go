package auction

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
	"github.com/ggzy/ggzy/trading/rules"
)

// 资格后审 (post-qualification, issue 15 §2). A lot that uses it admits
// bidders on a paid deposit alone, so nobody but supervisors knows who
// bids. When the bidding ends with a bidder who meets the reserve, the lot
// waits (state qualifying) for the project's agent to check that bidder's
// qualification. A pass goes on to the priority right (P7) or the deal; a
// failure does what the announcement says: the next bidder, checked in turn
// ("next"), or 流拍 ("no_sale"). Every check is audited and written to the
// bidding record (codes only; the reason stays in the audit log).

// QualifyInput is the agent's decision on the candidate.
type QualifyInput struct {
	Passed bool   `json:"passed" form:"passed"`
	Reason string `json:"reason" form:"reason"` // required when it fails
}

// CandidateView is what the agent sees of the candidate to check it.
type CandidateView struct {
	LotID        int64            `json:"lot_id"`
	Category     trading.Category `json:"-"` // names the lot on the page: 地块, 标的
	ProjectCode  string           `json:"project_code"`
	ProjectTitle string           `json:"project_title"`
	LotName      string           `json:"lot_name"`
	Fallback     string           `json:"fallback"` // next, no_sale
	FallbackName string           `json:"fallback_name"`
	Code         string           `json:"code"`
	Price        decimal.Decimal  `json:"price"`
	BidderName   string           `json:"bidder_name"`
	IDNumber     string           `json:"id_number"`
	Contact      string           `json:"contact"`
	Phone        string           `json:"phone"`
	Checked      []CheckedView    `json:"checked"` // earlier candidates of the lot
}

// CheckedView is an earlier check of the lot.
type CheckedView struct {
	Code      string    `json:"code"`
	Passed    bool      `json:"passed"`
	Reason    string    `json:"reason"`
	CheckedAt time.Time `json:"checked_at"`
}

// awaitQualification puts a lot whose bidding ended with reg at price into
// the agent's check.
func (s *Service) awaitQualification(ctx context.Context, tx *gorm.DB, l *Lot, at time.Time, reg int64, price decimal.Decimal) error {
	l.State, l.CandidateReg, l.CandidatePrice = StateQualifying, &reg, &price
	if err := tx.Save(l).Error; err != nil {
		return err
	}
	code := codeOfReg(tx, reg)
	detail := fmt.Sprintf("竞价结束，竞买号牌 %s（%s 元）为竞得候选人，待代理机构资格后审", code, yuan(price))
	if err := logEntry(tx, &Entry{LotID: l.LotID, At: at, Kind: "qualifying", Code: code, Amount: &price, Detail: detail}); err != nil {
		return err
	}
	if err := trading.Audit(tx, at, trading.SystemActor, "auction.qualifying", "lot", fmt.Sprint(l.LotID), detail); err != nil {
		return err
	}
	var agentID int64
	if err := tx.Raw(`SELECT p.agent_id FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?`, l.LotID).Scan(&agentID).Error; err != nil {
		return err
	}
	if err := trading.Notify(tx, at, trading.Message{Title: "竞得候选人待资格后审", Body: detail + "。请按公告载明的资格条件审查。",
		Link: fmt.Sprintf("/agent/auctions/%d/qualification", l.LotID), Key: fmt.Sprintf("qualify:%d:%d", l.LotID, reg)}, agentID); err != nil {
		return err
	}
	if _, err := live.Publish(ctx, tx, topic(l.LotID), "phase", PhaseEvent{At: at, State: l.State, ClosesAt: l.ClosesAt,
		Highest: &price, Code: code, Reason: "竞得候选人待资格后审"}); err != nil {
		return err
	}
	_, err := live.Publish(ctx, tx, supTopic(l.LotID), "alert", Alert{At: at, Kind: "qualifying", Text: detail})
	return err
}

// afterQualified takes a qualified candidate on: to the priority-right
// holder's window where the announcement names a holder who may use it, else to
// the deal.
func (s *Service) afterQualified(ctx context.Context, tx *gorm.DB, l *Lot, at time.Time, reg int64, price decimal.Decimal) error {
	if l.PriorityHolder != "" {
		opened, err := s.openPriority(ctx, tx, l, at, reg, price)
		if err != nil || opened {
			return err
		}
	}
	return s.finish(ctx, tx, l, at, &reg, &price, "")
}

// projectAgent checks that a is the agent of the lot's project.
func projectAgent(tx *gorm.DB, a trading.Actor, lotID int64) error {
	var agentID int64
	if err := tx.Raw(`SELECT p.agent_id FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?`, lotID).Scan(&agentID).Error; err != nil {
		return err
	}
	if a.Role != trading.RoleAgent || a.AccountID != agentID {
		return trading.Forbidden("只有本项目的代理机构可以进行资格后审")
	}
	return nil
}

// Candidate shows the project's agent the candidate it is to check, with
// the bidder's identity. The look is audited.
func (s *Service) Candidate(ctx context.Context, a trading.Actor, lotID int64) (*CandidateView, error) {
	var v *CandidateView
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if err := projectAgent(tx, a, lotID); err != nil {
			return err
		}
		var l Lot
		if err := trading.First(tx, &l, "网上竞价标的", "lot_id = ?", lotID); err != nil {
			return err
		}
		if l.State != StateQualifying {
			return trading.Conflict("lot", "本标的当前没有待资格后审的竞得候选人")
		}
		var row struct {
			Category trading.Category `gorm:"column:category"`
			Code     string           `gorm:"column:code"`
			Title    string           `gorm:"column:title"`
			LotName  string           `gorm:"column:lot_name"`
			BidCode  string           `gorm:"column:bid_code"`
			Name     string           `gorm:"column:name"`
			IDNum    string           `gorm:"column:id_number"`
			Contact  string           `gorm:"column:contact_name"`
			Phone    string           `gorm:"column:contact_phone"`
		}
		// Equivalent SQL: the project, the lot and the candidate's registration, bidder and code.
		if err := tx.Raw(`SELECT p.category, p.code, p.title, l.name AS lot_name, ab.code AS bid_code, b.name, b.id_number, r.contact_name, r.contact_phone
			FROM lots l JOIN projects p ON p.id = l.project_id JOIN registrations r ON r.id = ?
			JOIN bidders b ON b.account_id = r.bidder_id JOIN auction_bidders ab ON ab.registration_id = r.id
			WHERE l.id = ?`, *l.CandidateReg, lotID).Scan(&row).Error; err != nil {
			return err
		}
		v = &CandidateView{LotID: lotID, Category: row.Category, ProjectCode: row.Code, ProjectTitle: row.Title, LotName: row.LotName,
			Fallback: l.PostQualification, FallbackName: rules.PostQualName(l.PostQualification), Code: row.BidCode,
			Price: *l.CandidatePrice, BidderName: row.Name, IDNumber: row.IDNum, Contact: row.Contact, Phone: row.Phone}
		if err := tx.Raw(`SELECT ab.code, q.passed, q.reason, q.checked_at FROM auction_qualifications q
			JOIN auction_bidders ab ON ab.registration_id = q.registration_id WHERE q.lot_id = ? ORDER BY q.checked_at`, lotID).
			Scan(&v.Checked).Error; err != nil {
			return err
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "auction.candidate_view", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("代理机构查看竞得候选人（号牌 %s）身份以进行资格后审", row.BidCode))
	})
	return v, err
}

// Qualify records the project's agent's check of the candidate (资格后审)
// and takes the lot on: a pass to the priority right or the deal, a
// failure to what the announcement says (the next bidder, or 流拍).
func (s *Service) Qualify(ctx context.Context, a trading.Actor, lotID int64, in QualifyInput) error {
	reason := strings.TrimSpace(in.Reason)
	if !in.Passed && (utf8.RuneCountInString(reason) < 4 || utf8.RuneCountInString(reason) > 500) {
		return trading.Invalid("reason", "资格后审不合格的，请写明理由（4至500字）")
	}
	if utf8.RuneCountInString(reason) > 500 {
		return trading.Invalid("reason", "说明不超过500字")
	}
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if err := projectAgent(tx, a, lotID); err != nil {
			return err
		}
		l, err := lock(tx, lotID)
		if err != nil {
			return err
		}
		if l.State != StateQualifying {
			return trading.Conflict("lot", "本标的当前没有待资格后审的竞得候选人")
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		reg, price := *l.CandidateReg, *l.CandidatePrice
		code := codeOfReg(tx, reg)
		if err := tx.Exec(`INSERT INTO auction_qualifications (lot_id, registration_id, passed, reason, checked_by, checked_at)
			VALUES (?, ?, ?, ?, ?, ?)`, lotID, reg, in.Passed, reason, a.AccountID, now).Error; err != nil {
			return err
		}
		kind, verdict := "qualified", "合格"
		if !in.Passed {
			kind, verdict = "disqualified", "不合格"
		}
		if err := logEntry(tx, &Entry{LotID: lotID, At: now, Kind: kind, Code: code, Amount: &price,
			Detail: "竞得候选人资格后审" + verdict}); err != nil {
			return err
		}
		summary := fmt.Sprintf("资格后审：竞买号牌 %s（%s 元）%s", code, yuan(price), verdict)
		if reason != "" {
			summary += "：" + reason
		}
		if err := trading.Audit(tx, now, a, "auction."+kind, "lot", fmt.Sprint(lotID), summary); err != nil {
			return err
		}
		if in.Passed {
			// The check is the application's review: the deal path wants an
			// approved buyer.
			if err := tx.Exec(`UPDATE registrations SET status = 'approved', reviewed_by = ?, reviewed_at = ?, updated_at = ?
				WHERE id = ? AND status = 'pending'`, a.AccountID, now, now, reg).Error; err != nil {
				return err
			}
			return s.afterQualified(ctx, tx, l, now, reg, price)
		}
		if l.PostQualification != rules.PostQualNext {
			return s.finish(ctx, tx, l, now, nil, nil, "竞得候选人资格后审不合格，依公告流拍")
		}
		next, nextPrice, err := nextCandidate(tx, l)
		if err != nil {
			return err
		}
		if next == nil {
			return s.finish(ctx, tx, l, now, nil, nil, "竞得候选人资格后审不合格，且无其他竞买人可递补，依公告流拍")
		}
		ok, err := meetsReserve(tx, lotID, *nextPrice)
		if err != nil {
			return err
		}
		if !ok {
			return s.finish(ctx, tx, l, now, nil, nil, "竞得候选人资格后审不合格，递补竞买人的报价未达到底价，依公告流拍")
		}
		return s.awaitQualification(ctx, tx, l, now, *next, *nextPrice)
	})
}

// nextCandidate is the best bidder not yet checked, at its own best quote:
// for the L15 second criterion the best value, at the cap; otherwise the
// highest amount, ties to the earlier (L16). nil when nobody is left.
func nextCandidate(tx *gorm.DB, l *Lot) (*int64, *decimal.Decimal, error) {
	phases := []string{"open", "timed", "sealed"}
	var capped int64
	if err := tx.Model(&Quote{}).Where("lot_id = ? AND phase = 'capped'", l.LotID).Count(&capped).Error; err != nil {
		return nil, nil, err
	}
	if capped > 0 {
		phases = []string{"capped"}
	}
	var rows []struct {
		RegistrationID int64           `gorm:"column:registration_id"`
		Amount         decimal.Decimal `gorm:"column:amount;type:numeric(18,2)"`
	}
	// Equivalent SQL: each unchecked bidder's best quote (the earliest of
	// equal ones), then the best of those, ties to the earlier.
	if err := tx.Raw(`SELECT registration_id, amount FROM (
			SELECT DISTINCT ON (registration_id) registration_id, amount, id FROM auction_quotes
			WHERE lot_id = ? AND phase IN ? AND registration_id NOT IN (SELECT registration_id FROM auction_qualifications WHERE lot_id = ?)
			ORDER BY registration_id, amount DESC, id) best
		ORDER BY amount DESC, id LIMIT 1`, l.LotID, phases, l.LotID).Scan(&rows).Error; err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	price := rows[0].Amount
	if capped > 0 && l.PriceCap != nil {
		price = *l.PriceCap
	}
	return &rows[0].RegistrationID, &price, nil
}
