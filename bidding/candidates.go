package bidding

// 中标候选人公示: ranking the candidates (E11) and their publicity announcement
// (E12), and the rule book's check of candidate and result announcements.

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// CandidatesInput ranks the candidates (E11) for their publicity (E12).
type CandidatesInput struct {
	IDNumbers    []string  `json:"id_numbers"`    // in rank order, first = no. 1
	PublicityEnd time.Time `json:"publicity_end"` // end of the publicity period
	Note         string    `json:"note"`          // extra text for the announcement
}

// SetCandidates ranks up to 3 candidates (E11) among the valid bids and
// writes the candidate publicity announcement (中标候选人公示), which goes to the
// supervisors for review at once. The publicity lasts until PublicityEnd,
// at least 3 days from publication for engineering (E12, checked at
// submission and again at publication).
func (s *Service) SetCandidates(ctx context.Context, a trading.Actor, lotID int64, in CandidatesInput) (*trading.Announcement, error) {
	now := s.Clock.Now()
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.IDNumbers) == 0 {
		return nil, trading.Invalid("id_numbers", "请按排序选择中标候选人")
	}
	if len(in.IDNumbers) > book.E11MaxCandidates {
		return nil, trading.RuleBroken("E11", "id_numbers", "中标候选人不得超过%d个（E11，实施条例第五十三条），实际%d个", book.E11MaxCandidates, len(in.IDNumbers))
	}
	if in.Note = strings.TrimSpace(in.Note); utf8.RuneCountInString(in.Note) > 2000 {
		return nil, trading.Invalid("note", "说明不超过2000字")
	}
	var n *trading.Announcement
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if r == nil || !isBidTender(p.Category) {
			return trading.Conflict("stage", "请先录入开标记录")
		}
		var existing *trading.Announcement
		if r.Stage == StageCandidates && r.CandidatesAnnouncementID != nil {
			existing = &trading.Announcement{}
			if err := tx.First(existing, *r.CandidatesAnnouncementID).Error; err != nil {
				return err
			}
			if existing.Status != trading.AnnouncementDraft && existing.Status != trading.AnnouncementRejected {
				return trading.Conflict("stage", "候选人公示已%s，不能重新排序（待审核的请先撤回）", existing.Status.Name())
			}
		} else if r.Stage != StageOpened {
			return stageConflict(r, "确定中标候选人")
		}
		if p.Category == trading.Engineering && in.PublicityEnd.IsZero() {
			return trading.Invalid("publicity_end", "请填写公示截止时间（E12：公示期不少于%d日）", book.E12MinDays)
		}
		if !in.PublicityEnd.IsZero() && !in.PublicityEnd.After(now) {
			return trading.Invalid("publicity_end", "公示截止时间应晚于现在")
		}
		bids, err := bidsOf(tx, lotID)
		if err != nil {
			return err
		}
		byID := map[string]*LotBid{}
		for i := range bids {
			byID[bids[i].IDNumber] = &bids[i]
		}
		if err := tx.Exec("UPDATE lot_bids SET rank = NULL, declined_reason = '' WHERE lot_id = ?", lotID).Error; err != nil {
			return err
		}
		var ranked []*LotBid
		for i, id := range in.IDNumbers {
			field := fmt.Sprintf("id_numbers[%d]", i)
			b := byID[strings.ToUpper(strings.TrimSpace(id))]
			switch {
			case b == nil:
				return trading.Invalid(field, "第%d名 %s 不在开标记录中", i+1, id)
			case b.RejectedReason != "":
				return trading.Invalid(field, "第%d名 %s 的投标已被否决（%s），不能作为中标候选人", i+1, b.BidderName, b.RejectedReason)
			case b.Rank != nil:
				return trading.Invalid(field, "%s 重复排序", b.BidderName)
			}
			rank := i + 1
			b.Rank = &rank
			if err := tx.Exec("UPDATE lot_bids SET rank = ? WHERE lot_id = ? AND bidder_id = ?", rank, lotID, b.BidderID).Error; err != nil {
				return err
			}
			ranked = append(ranked, b)
		}
		title := fmt.Sprintf("%s %s%d 中标候选人公示", p.Title, p.Category.LotNoun(), lot.Seq)
		if p.Category == trading.Procurement {
			title = fmt.Sprintf("%s 包%d 评审结果（候选供应商）公示", p.Title, lot.Seq)
		}
		title = trading.Clip(title, 200)
		body := candidatesBody(p, lot, ranked, in.PublicityEnd, in.Note)
		if existing != nil {
			if n, err = s.Trading.RewriteAnnouncementTx(tx, a, existing.ID, title, body); err != nil {
				return err
			}
		} else {
			if n, err = s.Trading.DraftAnnouncementTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.AnnouncementCandidates, Title: title, Body: body}); err != nil {
				return err
			}
		}
		r.Stage, r.CandidatesAnnouncementID, r.UpdatedAt = StageCandidates, &n.ID, now
		r.PublicityEnd = nil
		if !in.PublicityEnd.IsZero() {
			end := in.PublicityEnd
			r.PublicityEnd = &end
		}
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if err := s.Trading.SubmitAnnouncementTx(ctx, tx, a, n, p); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.candidates", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s %s%d 确定中标候选人%d名，公示提交审核", p.Code, p.Category.LotNoun(), lot.Seq, len(ranked)))
	})
	return n, err
}

// mdCell keeps a name from breaking the Markdown table of an announcement.
func mdCell(s string) string {
	return strings.NewReplacer("|", "｜", "\n", " ", "\r", " ").Replace(s)
}

func candidatesBody(p *trading.Project, lot *trading.Lot, ranked []*LotBid, end time.Time, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "项目名称：%s\n\n交易编码：%s\n\n%s：%d（%s）\n\n", mdCell(p.Title), p.Code, p.Category.LotNoun(), lot.Seq, mdCell(lot.Name))
	b.WriteString("| 排序 | 中标候选人 | 统一社会信用代码 | 投标报价（元） |\n|---|---|---|---|\n")
	for _, c := range ranked {
		fmt.Fprintf(&b, "| 第%d名 | %s | %s | %s |\n", *c.Rank, mdCell(c.BidderName), c.IDNumber, trading.Yuan(*c.Price))
	}
	if !end.IsZero() {
		fmt.Fprintf(&b, "\n公示期：自本公告发布之日起至 %s 止。投标人或者其他利害关系人对评标结果有异议的，应当在公示期间提出。\n", fmtTime(end))
	}
	if note != "" {
		b.WriteString("\n" + note + "\n")
	}
	return b.String()
}

// CheckResultAnnouncement is the rule book's part for candidate and result announcements
// (trading.Service.CheckAnnouncement): they come only from a lot's result
// record; a candidate publicity lasts at least E12's days from the moment
// of publication.
func (s *Service) CheckResultAnnouncement(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project, at time.Time) ([]rules.Violation, error) {
	if !n.Type.IsGenerated() {
		return nil, nil
	}
	if n.Type == trading.AnnouncementOpening {
		found, err := trading.Lookup(tx.WithContext(ctx), &Opening{}, "announcement_id = ?", n.ID)
		if err != nil || found {
			return nil, err
		}
		return []rules.Violation{{Rule: "EB7", Field: "type",
			Requirement: "开标记录公告须由网上开标大厅生成的开标记录发布",
			Actual:      "该公告未关联任何网上开标"}}, nil
	}
	var r LotResult
	col := map[trading.AnnouncementType]string{trading.AnnouncementCandidates: "candidates_announcement_id",
		trading.AnnouncementResult: "result_announcement_id", trading.AnnouncementFailure: "failure_announcement_id",
		trading.AnnouncementContract: "contract_announcement_id"}[n.Type]
	found, err := trading.Lookup(tx.WithContext(ctx), &r, col+" = ?", n.ID)
	if err != nil {
		return nil, err
	}
	if !found {
		return []rules.Violation{{Rule: rules.RuleRequired, Field: "type",
			Requirement: n.Type.Name() + "须在" + p.Category.LotNoun() + "的“开标与结果”页面由开标记录生成",
			Actual:      "该公告未关联任何" + p.Category.LotNoun() + "的结果"}}, nil
	}
	if n.Type != trading.AnnouncementCandidates || p.Category != trading.Engineering {
		return nil, nil
	}
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	min := at.AddDate(0, 0, book.E12MinDays)
	if r.PublicityEnd == nil || r.PublicityEnd.Before(min) {
		return []rules.Violation{{Rule: "E12", Field: "publicity_end", Source: "招标投标法实施条例第五十四条",
			Requirement: fmt.Sprintf("中标候选人公示期不得少于%d日", book.E12MinDays),
			Actual:      fmt.Sprintf("公示截止 %s，按 %s 发布计，应不早于 %s", fmtTime(deref(r.PublicityEnd)), fmtTime(at), fmtTime(min))}}, nil
	}
	return nil, nil
}
