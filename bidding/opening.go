package bidding

// 开标: the bid-opening record of an engineering or procurement lot
// (RecordOpening; too few bidders fail it, E7, G10), and an opened lot
// ended without a winner (DeclareFailed).

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
)

// BidInput is one line of the opening record as the agent enters it.
type BidInput struct {
	IDNumber       string `json:"id_number" form:"id_number"` // the bidder's unified social credit code
	Price          string `json:"price" form:"price"`         // yuan; may be empty when fewer than 3 bid (not opened, E7)
	RejectedReason string `json:"rejected_reason" form:"rejected_reason"`
}

// OpeningInput is the bid-opening record (开标记录) of a lot.
type OpeningInput struct {
	Bids []BidInput `json:"bids"`

	fromHall bool // the hall's record: no bid at all is a record too (E7)
}

// RecordOpening enters the bid-opening record of an engineering or
// procurement lot after its deadline (E6). Fewer than 3 bidders fails the
// tender without opening (E7); fewer than 3 qualified suppliers fails a
// procurement (G10); all bids rejected fails it too. Until candidates are
// ranked the record may be entered again, replacing the previous one.
func (s *Service) RecordOpening(ctx context.Context, a trading.Actor, lotID int64, in OpeningInput) (*LotResult, error) {
	now := s.Clock.Now()
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	var out *LotResult
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("openings").Where("lot_id = ?", lotID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return trading.Conflict("lot_id", "本标段在网上开标大厅开标，开标记录由平台生成（EB7），不能手工录入")
		}
		var err error
		out, err = s.recordOpeningTx(ctx, tx, a, lotID, in, book.E7MinBidders, book.G10MinSuppliers, now)
		return err
	})
	return out, err
}

// recordOpeningTx writes the opening record in tx: the agent's form (paper
// bids) and the hall's generated record (EB7) both come through here.
func (s *Service) recordOpeningTx(ctx context.Context, tx *gorm.DB, a trading.Actor, lotID int64, in OpeningInput, e7, g10 int, now time.Time) (*LotResult, error) {
	var out *LotResult
	err := func() error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if !isBidTender(p.Category) {
			return trading.Invalid("bids", "%s没有开标记录，请录入成交结果", p.Category.Name())
		}
		if r != nil && r.Stage != StageOpened {
			return stageConflict(r, "重新录入开标记录")
		}
		if len(in.Bids) == 0 && !in.fromHall {
			return trading.Invalid("bids", "请录入递交投标文件的投标人（没有投标人的，同样录入为流标）")
		}
		if len(in.Bids) > 500 {
			return trading.Invalid("bids", "开标记录最多500家")
		}
		bids := make([]LotBid, 0, len(in.Bids))
		seen := map[int64]bool{}
		valid := 0
		for i, b := range in.Bids {
			field := fmt.Sprintf("bids[%d]", i)
			if strings.TrimSpace(b.IDNumber) == "" {
				return trading.Invalid(field+".id_number", "第%d行：请填写投标人的统一社会信用代码", i+1)
			}
			id, _, err := registeredBidder(tx, lotID, b.IDNumber)
			if err != nil {
				return err
			}
			if id == 0 {
				return trading.Invalid(field+".id_number", "第%d行：%s 未报名本标段或报名已撤回", i+1, b.IDNumber)
			}
			if seen[id] {
				return trading.Invalid(field+".id_number", "第%d行：%s 重复录入", i+1, b.IDNumber)
			}
			seen[id] = true
			bid := LotBid{LotID: lotID, BidderID: id, RejectedReason: strings.TrimSpace(b.RejectedReason)}
			if utf8.RuneCountInString(bid.RejectedReason) > 200 {
				return trading.Invalid(field+".rejected_reason", "第%d行：否决理由不超过200字", i+1)
			}
			if strings.TrimSpace(b.Price) != "" {
				price, err := trading.ParseAmount(b.Price)
				if err != nil || !price.IsPositive() {
					return trading.Invalid(field+".price", "第%d行：投标报价应为大于0、最多两位小数的金额（元）", i+1)
				}
				bid.Price = &price
			}
			if bid.RejectedReason == "" {
				valid++
			}
			bids = append(bids, bid)
		}
		// Fewer than E7's number of bidders: not opened, so prices may be
		// missing; otherwise every bid has its price read out.
		notOpened := p.Category == "engineering" && len(bids) < e7
		if !notOpened {
			for i, b := range bids {
				if b.Price == nil {
					return trading.Invalid(fmt.Sprintf("bids[%d].price", i), "第%d行：开标时须录入投标报价", i+1)
				}
			}
		}
		if err := tx.Exec("DELETE FROM lot_bids WHERE lot_id = ?", lotID).Error; err != nil {
			return err
		}
		out = &LotResult{LotID: lotID, Stage: StageOpened, OpenedAt: &now, CreatedAt: now, UpdatedAt: now}
		if r != nil {
			out.CreatedAt = r.CreatedAt
		}
		switch {
		case notOpened:
			out.Stage, out.FailedRule = StageFailed, "E7"
			out.FailedReason = fmt.Sprintf("递交投标文件的投标人%d个，少于%d个，不得开标，应重新招标", len(bids), e7)
		case p.Category == "procurement" && valid < g10:
			out.Stage, out.FailedRule = StageFailed, "G10"
			out.FailedReason = fmt.Sprintf("实质响应的供应商%d家，不足%d家，废标", valid, g10)
		case valid == 0:
			out.Stage, out.FailedReason = StageFailed, "所有投标均被否决，应重新招标"
		}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "lot_id"}}, UpdateAll: true}).Create(out).Error; err != nil {
			return err
		}
		if len(bids) > 0 {
			if err := tx.Create(&bids).Error; err != nil {
				return err
			}
		}
		summary := fmt.Sprintf("项目 %s 标段%d 录入开标记录：%d家投标，有效%d家", p.Code, lot.Seq, len(bids), valid)
		if out.Stage == StageFailed {
			summary += "；" + out.FailedReason
			if err := s.fail(ctx, tx, p, lot, out, now); err != nil {
				return err
			}
		}
		return trading.Audit(tx, now, a, "result.opening", "lot", fmt.Sprint(lotID), summary)
	}()
	return out, err
}

// DeclareFailed ends an opened lot without a winner (all bids rejected by
// the committee, or another lawful reason), with the reason.
func (s *Service) DeclareFailed(ctx context.Context, a trading.Actor, lotID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 4 || n > 500 {
		return trading.Invalid("reason", "请写明流标/废标的理由（4至500字）")
	}
	now := s.Clock.Now()
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if r == nil {
			return trading.Conflict("stage", "请先录入开标记录")
		}
		switch r.Stage {
		case StageOpened, StageCandidates, StageAward, StageAwarded:
			// Every candidate declined, or the winner would not sign (a
			// forfeiture under D7 is the supervisors' step, before this).
		default:
			return stageConflict(r, "宣布流标")
		}
		// Candidate or result notices still on their way are withdrawn:
		// nothing of a failed lot may still go out.
		for _, id := range []*int64{r.CandidatesNoticeID, r.ResultNoticeID} {
			if id == nil {
				continue
			}
			if err := tx.Exec(`UPDATE announcements SET status = 'rejected', reject_reason = '标段已宣布流标', publish_at = NULL, updated_at = ?
				WHERE id = ? AND status IN ('draft', 'submitted', 'scheduled', 'rejected')`, now, *id).Error; err != nil {
				return err
			}
		}
		r.Stage, r.FailedReason, r.UpdatedAt = StageFailed, reason, now
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if err := s.fail(ctx, tx, p, lot, r, now); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.failed", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s 标段%d 流标：%s", p.Code, lot.Seq, reason))
	})
}

// fail records a failed lot's outcome (counted apart, never in a rate)
// and tells the hooks (deposits refunds everyone).
func (s *Service) fail(ctx context.Context, tx *gorm.DB, p *trading.Project, lot *trading.Lot, r *LotResult, at time.Time) error {
	o := &trading.LotOutcome{LotID: lot.ID, ProjectID: p.ID, Category: p.Category, RegionCode: p.RegionCode,
		Status: trading.OutcomeFailed, Rule: r.FailedRule, Reason: r.FailedReason, DecidedOn: civil(at), UpdatedAt: at}
	if err := trading.SetOutcome(tx, o); err != nil {
		return err
	}
	return s.emit(ctx, tx, ResultEvent{Kind: EventFailed, Project: p, Lot: lot, Result: r, At: at, Rule: r.FailedRule})
}
