package bidding

// 定标: naming the winner among the candidates (E13) and writing the result
// announcement (中标结果公告).

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// AwardInput names the winner among the candidates (E13).
type AwardInput struct {
	IDNumber string `json:"id_number"`
	// Declined says why higher-ranked candidates are passed over (E13):
	// id number → reason (放弃中标, 不能履行合同, 查实违法…).
	Declined map[string]string `json:"declined"`
	Note     string            `json:"note"`
}

// Award names the winner among the ranked candidates once their publicity
// is over (E12) and writes the result announcement (中标结果公告) for review. For
// state-funded projects the winner is the best-ranked candidate not
// declined for a stated reason (E13). The winning amount is the winner's
// bid price.
func (s *Service) Award(ctx context.Context, a trading.Actor, lotID int64, in AwardInput) (*trading.Announcement, error) {
	now := s.Clock.Now()
	if in.Note = strings.TrimSpace(in.Note); utf8.RuneCountInString(in.Note) > 2000 {
		return nil, trading.Invalid("note", "说明不超过2000字")
	}
	var n *trading.Announcement
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if r == nil || !isBidTender(p.Category) || (r.Stage != StageCandidates && r.Stage != StageAward && r.Stage != StageAwarded) {
			if r == nil {
				return trading.Conflict("stage", "请先录入开标记录并公示中标候选人")
			}
			return stageConflict(r, "确定中标人")
		}
		// After an award, the next candidate may be named only because the
		// winner declined (放弃中标, refused to sign, E13 / 实施条例第五十五条):
		// the reason is required, and a new result announcement goes out.
		if r.Stage == StageAwarded {
			var prevID string
			if err := tx.Raw("SELECT id_number FROM bidders WHERE account_id = ?", *r.WinnerID).Scan(&prevID).Error; err != nil {
				return err
			}
			if strings.EqualFold(strings.TrimSpace(in.IDNumber), prevID) {
				return trading.Conflict("id_number", "该投标人已是中标人")
			}
			if strings.TrimSpace(in.Declined[prevID]) == "" {
				return trading.Invalid("declined", "已定标后改定中标人，须写明原中标人未签订合同的理由（放弃中标、拒签合同等）")
			}
		}
		var existing *trading.Announcement
		if r.Stage == StageAward {
			existing = &trading.Announcement{}
			if err := tx.First(existing, *r.ResultAnnouncementID).Error; err != nil {
				return err
			}
			if existing.Status != trading.AnnouncementDraft && existing.Status != trading.AnnouncementRejected {
				return trading.Conflict("stage", "结果公告已%s，不能更换中标人（待审核的请先撤回）", existing.Status.Name())
			}
		}
		var cn trading.Announcement
		if err := tx.First(&cn, *r.CandidatesAnnouncementID).Error; err != nil {
			return err
		}
		if cn.Status != trading.AnnouncementPublished {
			return trading.Conflict("stage", "中标候选人公示尚未发布（当前：%s）", cn.Status.Name())
		}
		if r.PublicityEnd != nil && now.Before(*r.PublicityEnd) {
			return trading.RuleBroken("E12", "publicity_end", "中标候选人公示期至 %s 结束，公示期满前不能确定中标人（E12）", fmtTime(*r.PublicityEnd))
		}
		// A new award states its own reasons: earlier ones go.
		if err := tx.Exec("UPDATE lot_bids SET declined_reason = '' WHERE lot_id = ?", lotID).Error; err != nil {
			return err
		}
		bids, err := bidsOf(tx, lotID)
		if err != nil {
			return err
		}
		var winner *LotBid
		id := strings.ToUpper(strings.TrimSpace(in.IDNumber))
		for i := range bids {
			if bids[i].IDNumber == id && bids[i].Rank != nil {
				winner = &bids[i]
			}
		}
		if winner == nil {
			return trading.Invalid("id_number", "中标人须是公示的中标候选人之一")
		}
		// E13: every better-ranked candidate must be declined with a reason.
		reasons := []string{}
		for i := range bids {
			b := &bids[i]
			if b.Rank == nil || *b.Rank >= *winner.Rank {
				continue
			}
			why := strings.TrimSpace(in.Declined[b.IDNumber])
			if why == "" {
				if p.StateFunded {
					return trading.RuleBroken("E13", "declined", "国有资金占控股或主导地位的项目应确定排名第一的中标候选人为中标人；跳过第%d名 %s 须写明其放弃中标等理由（E13，实施条例第五十五条）",
						*b.Rank, b.BidderName)
				}
				return trading.Invalid("declined", "未按排序确定中标人的，须写明第%d名 %s 未被确定的理由", *b.Rank, b.BidderName)
			}
			if utf8.RuneCountInString(why) > 200 {
				return trading.Invalid("declined", "理由不超过200字")
			}
			if err := tx.Exec("UPDATE lot_bids SET declined_reason = ? WHERE lot_id = ? AND bidder_id = ?", why, lotID, b.BidderID).Error; err != nil {
				return err
			}
			reasons = append(reasons, fmt.Sprintf("第%d名 %s：%s", *b.Rank, b.BidderName, why))
		}
		title := trading.Clip(fmt.Sprintf("%s %s%d 中标结果公告", p.Title, p.Category.LotNoun(), lot.Seq), 200)
		if p.Category == trading.Procurement {
			title = trading.Clip(fmt.Sprintf("%s 包%d 中标（成交）结果公告", p.Title, lot.Seq), 200)
		}
		var body strings.Builder
		fmt.Fprintf(&body, "项目名称：%s\n\n交易编码：%s\n\n%s：%d（%s）\n\n中标人：%s（统一社会信用代码 %s）\n\n中标金额：%s 元\n",
			mdCell(p.Title), p.Code, p.Category.LotNoun(), lot.Seq, mdCell(lot.Name), mdCell(winner.BidderName), winner.IDNumber, trading.Yuan(*winner.Price))
		if len(reasons) > 0 {
			body.WriteString("\n排名在前的中标候选人未被确定为中标人的理由：\n\n")
			for _, x := range reasons {
				body.WriteString("- " + mdCell(x) + "\n")
			}
		}
		if in.Note != "" {
			body.WriteString("\n" + in.Note + "\n")
		}
		if existing != nil {
			n, err = s.Trading.RewriteAnnouncementTx(tx, a, existing.ID, title, body.String())
		} else {
			n, err = s.Trading.DraftAnnouncementTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.AnnouncementResult, Title: title, Body: body.String()})
		}
		if err != nil {
			return err
		}
		r.Stage, r.WinnerID, r.Amount, r.ResultAnnouncementID, r.UpdatedAt = StageAward, &winner.BidderID, winner.Price, &n.ID, now
		r.AwardReason = strings.Join(reasons, "；")
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if err := s.Trading.SubmitAnnouncementTx(ctx, tx, a, n, p); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.award", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s %s%d 确定中标人 %s，中标金额 %s 元，结果公告提交审核", p.Code, p.Category.LotNoun(), lot.Seq, winner.BidderName, trading.Yuan(*winner.Price)))
	})
	return n, err
}
