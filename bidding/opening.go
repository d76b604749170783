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
	"github.com/ggzy/ggzy/trading/rules"
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
		// The category names the lot: hall openings are of 标段 and 包.
		// Equivalent SQL: SELECT p.category FROM openings o JOIN lots l … JOIN projects p … WHERE o.lot_id = ? LIMIT 1
		var hall []trading.Category
		if err := tx.Table("openings o").Select("p.category").Joins("JOIN lots l ON l.id = o.lot_id").
			Joins("JOIN projects p ON p.id = l.project_id").Where("o.lot_id = ?", lotID).Limit(1).Scan(&hall).Error; err != nil {
			return err
		}
		if len(hall) > 0 {
			return trading.Conflict("lot_id", "本%s在网上开标大厅开标，开标记录由平台生成（EB7），不能手工录入", hall[0].LotNoun())
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
		// The agent's form and the hall take the same path; the hall gives
		// E7/G10 as the rule book had them when it opened.
		book, err := s.Trading.RuleBook(ctx)
		if err != nil {
			return err
		}
		bk := *book
		bk.E7MinBidders, bk.G10MinSuppliers = e7, g10
		out, err = s.recordOpening(ctx, tx, a, p, lot, r, in, &bk, now)
		return err
	}()
	return out, err
}

// recordOpening is RecordOpening inside tx, on a locked lot. An empty
// record is a record too: nobody registered, or nobody submitted a bid,
// and the lot fails at once (E7 for engineering, G10 for procurement).
func (s *Service) recordOpening(ctx context.Context, tx *gorm.DB, a trading.Actor, p *trading.Project, lot *trading.Lot, r *LotResult,
	in OpeningInput, book *rules.Book, now time.Time) (*LotResult, error) {
	lotID := lot.ID
	if !isBidTender(p.Category) {
		return nil, trading.Invalid("bids", "%s没有开标记录，请录入成交结果", p.Category.Name())
	}
	if r != nil && r.Stage != StageOpened {
		return nil, stageConflict(r, "重新录入开标记录")
	}
	if len(in.Bids) > 500 {
		return nil, trading.Invalid("bids", "开标记录最多500家")
	}
	bids := make([]LotBid, 0, len(in.Bids))
	seen := map[int64]bool{}
	valid := 0
	for i, b := range in.Bids {
		field := fmt.Sprintf("bids[%d]", i)
		if strings.TrimSpace(b.IDNumber) == "" {
			return nil, trading.Invalid(field+".id_number", "第%d行：请填写投标人的统一社会信用代码", i+1)
		}
		id, _, err := registeredBidder(tx, lotID, b.IDNumber)
		if err != nil {
			return nil, err
		}
		if id == 0 {
			return nil, trading.Invalid(field+".id_number", "第%d行：%s 未报名本%s或报名已撤回", i+1, b.IDNumber, p.Category.LotNoun())
		}
		if seen[id] {
			return nil, trading.Invalid(field+".id_number", "第%d行：%s 重复录入", i+1, b.IDNumber)
		}
		seen[id] = true
		bid := LotBid{LotID: lotID, BidderID: id, RejectedReason: strings.TrimSpace(b.RejectedReason)}
		if utf8.RuneCountInString(bid.RejectedReason) > 200 {
			return nil, trading.Invalid(field+".rejected_reason", "第%d行：否决理由不超过200字", i+1)
		}
		if b.Price != "" { // " 100 " is refused by ParseAmount, not trimmed
			price, err := trading.ParseAmount(b.Price)
			if err != nil || !price.IsPositive() {
				return nil, trading.Invalid(field+".price", "第%d行：投标报价应为大于0、最多两位小数的金额（元）", i+1)
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
	notOpened := p.Category == trading.Engineering && len(bids) < book.E7MinBidders
	if !notOpened {
		for i, b := range bids {
			if b.Price == nil {
				return nil, trading.Invalid(fmt.Sprintf("bids[%d].price", i), "第%d行：开标时须录入投标报价", i+1)
			}
		}
	}
	if err := tx.Exec("DELETE FROM lot_bids WHERE lot_id = ?", lotID).Error; err != nil {
		return nil, err
	}
	out := &LotResult{LotID: lotID, Stage: StageOpened, OpenedAt: &now, CreatedAt: now, UpdatedAt: now}
	if r != nil {
		out.CreatedAt = r.CreatedAt
	}
	switch {
	case notOpened:
		out.Stage, out.FailedRule = StageFailed, "E7"
		out.FailedReason = fmt.Sprintf("递交投标文件的投标人%d个，少于%d个，不得开标，应重新招标", len(bids), book.E7MinBidders)
	case p.Category == trading.Procurement && valid < book.G10MinSuppliers:
		out.Stage, out.FailedRule = StageFailed, "G10"
		out.FailedReason = fmt.Sprintf("实质响应的供应商%d家，不足%d家，废标", valid, book.G10MinSuppliers)
	case valid == 0:
		out.Stage, out.FailedReason = StageFailed, "所有投标均被否决，应重新招标"
	}
	if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "lot_id"}}, UpdateAll: true}).Create(out).Error; err != nil {
		return nil, err
	}
	if len(bids) > 0 {
		if err := tx.Create(&bids).Error; err != nil {
			return nil, err
		}
	}
	summary := fmt.Sprintf("项目 %s %s%d 录入开标记录：%d家投标，有效%d家", p.Code, p.Category.LotNoun(), lot.Seq, len(bids), valid)
	if out.Stage == StageFailed {
		summary += "；" + out.FailedReason
		if err := s.fail(ctx, tx, a, p, lot, out, now); err != nil {
			return nil, err
		}
	}
	return out, trading.Audit(tx, now, a, "result.opening", "lot", fmt.Sprint(lotID), summary)
}

// DeclareFailed ends a lot without a winner, with the reason. An opened
// lot fails when the committee rejected every bid, every candidate
// declined, or the winner would not sign. A lot with nothing recorded
// fails in this one step too: for engineering and procurement it is an
// empty opening record (nobody registered or nobody bid: E7, G10); for
// land and property it is a no-sale (流拍, L10), told by its result announcement.
func (s *Service) DeclareFailed(ctx context.Context, a trading.Actor, lotID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n > 0 && (n < 4 || n > 500) {
		return trading.Invalid("reason", "请写明流标/废标的理由（4至500字）")
	}
	now := s.Clock.Now()
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return err
	}
	noSale := false
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if !isBidTender(p.Category) {
			noSale = true // RecordDeal, in its own transaction, checks again
			return nil
		}
		if r == nil {
			_, err := s.recordOpening(ctx, tx, a, p, lot, nil, OpeningInput{}, book, now)
			return err
		}
		if reason == "" {
			return trading.Invalid("reason", "请写明流标/废标的理由（4至500字）")
		}
		switch r.Stage {
		case StageOpened, StageCandidates, StageAward, StageAwarded:
			// Every candidate declined, or the winner would not sign (a
			// forfeiture under D7 is the supervisors' step, before this).
		default:
			return stageConflict(r, "宣布流标")
		}
		// Candidate or result announcements still on their way are withdrawn:
		// nothing of a failed lot may still go out.
		for _, id := range []*int64{r.CandidatesAnnouncementID, r.ResultAnnouncementID} {
			if id == nil {
				continue
			}
			if err := tx.Exec(`UPDATE announcements SET status = 'rejected', reject_reason = ?, publish_at = NULL, updated_at = ?
				WHERE id = ? AND status IN ('draft', 'submitted', 'scheduled', 'rejected')`, p.Category.LotNoun()+"已宣布流标", now, *id).Error; err != nil {
				return err
			}
		}
		r.Stage, r.FailedReason, r.UpdatedAt = StageFailed, reason, now
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if err := s.fail(ctx, tx, a, p, lot, r, now); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.failed", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s %s%d 流标：%s", p.Code, p.Category.LotNoun(), lot.Seq, reason))
	})
	if err != nil || !noSale {
		return err
	}
	if reason == "" {
		reason = "无人报名竞买或无人报价，未成交"
	}
	_, err = s.RecordDeal(ctx, a, lotID, DealInput{NoSale: true, Reason: reason})
	return err
}

// fail records a failed lot's outcome (counted apart, never in a rate),
// tells the hooks (deposits refunds everyone), and makes the failure
// public: a failure announcement (流标公告/废标公告) written from the record goes to
// the supervisors for review, like a result announcement.
func (s *Service) fail(ctx context.Context, tx *gorm.DB, a trading.Actor, p *trading.Project, lot *trading.Lot, r *LotResult, at time.Time) error {
	o := &trading.LotOutcome{LotID: lot.ID, ProjectID: p.ID, Category: p.Category, RegionCode: p.RegionCode,
		Status: trading.OutcomeFailed, Rule: r.FailedRule, Reason: r.FailedReason, DecidedOn: civil(at), UpdatedAt: at}
	if err := trading.SetOutcome(tx, o); err != nil {
		return err
	}
	if err := s.emit(ctx, tx, ResultEvent{Kind: EventFailed, Project: p, Lot: lot, Result: r, At: at, Rule: r.FailedRule}); err != nil {
		return err
	}
	title := fmt.Sprintf("%s %s%d 流标公告", p.Title, p.Category.LotNoun(), lot.Seq)
	if p.Category == trading.Procurement {
		title = fmt.Sprintf("%s 包%d 废标公告", p.Title, lot.Seq)
	}
	var body strings.Builder
	fmt.Fprintf(&body, "项目名称：%s\n\n交易编码：%s\n\n%s：%d（%s）\n\n", mdCell(p.Title), p.Code, p.Category.LotNoun(), lot.Seq, mdCell(lot.Name))
	body.WriteString("结果：" + map[bool]string{true: "废标", false: "流标"}[p.Category == trading.Procurement] + "\n\n")
	fmt.Fprintf(&body, "原因：%s", mdCell(r.FailedReason))
	if r.FailedRule != "" {
		fmt.Fprintf(&body, "（%s）", r.FailedRule)
	}
	body.WriteString("\n\n已缴纳的投标保证金依规退还。招标人将依法重新组织招标（采购）。\n")
	n, err := s.Trading.DraftAnnouncementTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.AnnouncementFailure,
		Title: trading.Clip(title, 200), Body: body.String()})
	if err != nil {
		return err
	}
	r.FailureAnnouncementID = &n.ID
	if err := tx.Model(&LotResult{}).Where("lot_id = ?", r.LotID).Update("failure_announcement_id", n.ID).Error; err != nil {
		return err
	}
	return s.Trading.SubmitAnnouncementTx(ctx, tx, a, n, p)
}
