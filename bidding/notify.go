package bidding

// Who bidding tells what (issue 14 item 6): each message written in the
// transaction of its event with trading.Notify. Texts name the person's
// own lot and outcome, never how many others registered, bid or lost.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// liveRegistrants are the bidders with a live registration on the
// project's lots (or only lotID's, when not 0).
func liveRegistrants(tx *gorm.DB, projectID, lotID int64) ([]int64, error) {
	q := tx.Model(&Registration{}).Where("status IN ?", []RegistrationStatus{StatusActive, StatusPending, StatusApproved})
	if lotID != 0 {
		q = q.Where("lot_id = ?", lotID)
	} else {
		q = q.Where("lot_id IN (SELECT id FROM lots WHERE project_id = ?)", projectID)
	}
	var ids []int64
	return ids, q.Distinct().Pluck("bidder_id", &ids).Error
}

// NotifyPublished (an OnPublish hook of trading, after AdvanceResult)
// tells the bidders concerned of a candidate announcement (their candidacy), a
// result announcement (中标通知书 to the winner, 中标结果通知书 to every other
// bidder, EB12; 成交确认书 for land and property) and a termination.
func (s *Service) NotifyPublished(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project) error {
	at := *n.PublishedAt
	announcement := fmt.Sprintf("/notices/%d", n.ID)
	switch n.Type {
	case trading.AnnouncementTermination:
		ids, err := liveRegistrants(tx, p.ID, 0)
		if err != nil {
			return err
		}
		return trading.Notify(tx, at, trading.Message{Title: "项目终止", Link: announcement,
			Body: fmt.Sprintf("项目 %s（%s）已发布终止公告；已缴纳的保证金将连同银行同期存款利息退还（D8）。", p.Code, p.Title)}, ids...)
	case trading.AnnouncementCandidates:
		var r LotResult
		if err := tx.Where("candidates_announcement_id = ?", n.ID).Limit(1).Find(&r).Error; err != nil || r.LotID == 0 {
			return err
		}
		var lot trading.Lot
		if err := tx.First(&lot, r.LotID).Error; err != nil {
			return err
		}
		var bids []LotBid
		if err := tx.Where("lot_id = ? AND rank IS NOT NULL", r.LotID).Find(&bids).Error; err != nil {
			return err
		}
		for _, b := range bids {
			m := trading.Message{Title: "中标候选人公示", Link: announcement, Key: fmt.Sprintf("candidate:%d", n.ID),
				Body: fmt.Sprintf("您在项目 %s %s%d（%s）被公示为第%d中标候选人，公示期至 %s；公示期满后发布中标结果（E12）。",
					p.Code, p.Category.LotNoun(), lot.Seq, lot.Name, *b.Rank, dateText(r.PublicityEnd))}
			if err := trading.Notify(tx, at, m, b.BidderID); err != nil {
				return err
			}
		}
		return nil
	case trading.AnnouncementResult:
		var r LotResult
		if err := tx.Where("result_announcement_id = ?", n.ID).Limit(1).Find(&r).Error; err != nil || r.LotID == 0 {
			return err
		}
		var lot trading.Lot
		if err := tx.First(&lot, r.LotID).Error; err != nil {
			return err
		}
		// Who took part: the opening record's bidders; a land or property
		// deal has none, so its live applicants; and the winner.
		var bidders []int64
		if err := tx.Model(&LotBid{}).Where("lot_id = ?", r.LotID).Pluck("bidder_id", &bidders).Error; err != nil {
			return err
		}
		if len(bidders) == 0 {
			var err error
			if bidders, err = liveRegistrants(tx, p.ID, r.LotID); err != nil {
				return err
			}
		}
		if r.WinnerID != nil && !slices.Contains(bidders, *r.WinnerID) {
			bidders = append(bidders, *r.WinnerID)
		}
		where := fmt.Sprintf("项目 %s %s%d（%s）", p.Code, p.Category.LotNoun(), lot.Seq, lot.Name)
		for _, b := range bidders {
			var m trading.Message
			won := r.WinnerID != nil && *r.WinnerID == b
			kind := LetterKindFor(p.Category, won)
			switch {
			case r.Stage == StageNoSale:
				m = trading.Message{Title: "未成交", Link: announcement, Body: where + "未成交：" + r.FailedReason}
			case won && r.Stage == StageSold:
				m = trading.Message{Title: "成交确认书", Link: letterLink(lot.ID, kind),
					Body: where + "由您竞得，成交价 " + trading.Yuan(*r.Amount) + " 元" + "。请下载成交确认书，按出让公告签订合同（L5）。"}
			case won:
				m = trading.Message{Title: "中标通知书", Link: letterLink(lot.ID, kind),
					Body: where + "您已中标，中标金额 " + trading.Yuan(*r.Amount) + " 元" + "。请下载中标通知书，并在30日内签订合同（E14）。"}
			default:
				m = trading.Message{Title: "中标结果通知书", Link: letterLink(lot.ID, kind),
					Body: where + "的中标结果已公告，您未中标（EB12）。请下载中标结果通知书。"}
				if r.Stage == StageSold {
					m.Title, m.Body, m.Link = "竞买结果", where+"的成交结果已公告，您未竞得。", announcement
				}
			}
			m.Key = fmt.Sprintf("result:%d", n.ID)
			if err := trading.Notify(tx, at, m, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func dateText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(trading.Shanghai).Format("2006-01-02 15:04")
}

// NotifySuspension (a trading.Service.OnSuspension hook) tells the live
// registrants of a suspended or resumed project.
func (s *Service) NotifySuspension(ctx context.Context, tx *gorm.DB, p *trading.Project, suspended bool, reason string, at time.Time) error {
	ids, err := liveRegistrants(tx, p.ID, 0)
	if err != nil {
		return err
	}
	m := trading.Message{Title: "项目恢复", Link: "/projects/" + p.Code,
		Body: fmt.Sprintf("项目 %s（%s）已恢复，可继续报名和上传文件；时间安排以公告为准。", p.Code, p.Title)}
	if suspended {
		m.Title, m.Body = "项目暂停", fmt.Sprintf("项目 %s（%s）已被交易中心暂停：%s。恢复前不能报名或上传文件。", p.Code, p.Title, reason)
	}
	return trading.Notify(tx, at, m, ids...)
}

// NeedsReview is the lots whose registrations are applications the agent
// reviews (land and property).
func NeedsReview(p *trading.Project, _ *trading.Lot) bool {
	return KindFor(p.Category) == KindApplication
}

// NotifyApplications (an OnRegister hook) tells the project's agent that an
// application waits for review. One message per application; it names the
// lot, not how many applied.
func (s *Service) NotifyApplications(ctx context.Context, tx *gorm.DB, regs []Registered) error {
	for _, r := range regs {
		if r.Reg.Status != StatusPending || r.Lot.PostQualification != "" {
			continue // 资格后审: nothing to review before the bidding, and nothing to count
		}
		m := trading.Message{Title: "竞买申请待审核", Link: fmt.Sprintf("/agent/lots/%d/registrations", r.Lot.ID),
			Key:  fmt.Sprintf("application:%d:%d", r.Reg.ID, r.Reg.UpdatedAt.UnixMicro()),
			Body: fmt.Sprintf("项目 %s %s%d（%s）有新的竞买申请，请及时审核。", r.P.Code, r.P.Category.LotNoun(), r.Lot.Seq, r.Lot.Name)}
		if err := trading.Notify(tx, r.Reg.UpdatedAt, m, r.P.AgentID); err != nil {
			return err
		}
	}
	return nil
}

// NotifyDeadlines tells each agent, once per lot, that a lot's deadline
// (bid deadline, listing end, auction) has passed: the opening record or
// the result is theirs to enter. Run by the reminder sweep; it returns how
// many lots it told about.
func (s *Service) NotifyDeadlines(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	var n int
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO notifications (account_id, title, body, link, created_at, key)
			SELECT p.agent_id, '截止时间已到',
				'项目 ' || p.code || ' ' || `+trading.SQLLotNoun("p.category")+` || l.seq || '（' || l.name || '）的截止时间已到，请组织开标并录入开标记录或交易结果。',
				'/agent/lots/' || l.id || '/result', ?, 'deadline:lot:' || l.id
			FROM lots l JOIN projects p ON p.id = l.project_id
			WHERE p.status = 'active' AND p.opened_at IS NOT NULL
				AND coalesce(l.auction_at, l.listing_end, l.bid_deadline) <= ?
				AND coalesce(l.auction_at, l.listing_end, l.bid_deadline) > ?::timestamptz - interval '30 days'
			ON CONFLICT (account_id, key) WHERE key IS NOT NULL DO NOTHING`, now, now, now)
		n = int(res.RowsAffected)
		return res.Error
	})
	return n, err
}

// NotifyFailure (an OnResult hook) tells the live registrants of a lot
// that failed (流标/废标: E7, G10, every bid rejected) and why.
func (s *Service) NotifyFailure(ctx context.Context, tx *gorm.DB, ev ResultEvent) error {
	if ev.Kind != EventFailed || ev.Result.Stage != StageFailed {
		return nil // a land or property lot not sold is told with its result announcement
	}
	ids, err := liveRegistrants(tx, ev.Project.ID, ev.Lot.ID)
	if err != nil {
		return err
	}
	// The reason by its rule only: the record's own wording counts the
	// bidders ("投标人2个"), which registrants are not told.
	why := map[string]string{"E7": "递交投标文件的投标人不足法定数量，不得开标（E7），应重新招标",
		"G10": "实质响应的供应商不足法定数量，废标（G10）"}[ev.Rule]
	if why == "" {
		why = "所有投标均被否决或按规定终止，应重新组织"
	}
	return trading.Notify(tx, ev.At, trading.Message{Title: "流标", Link: fmt.Sprintf("/lots/%d", ev.Lot.ID),
		Key:  fmt.Sprintf("failed:%d:%d", ev.Lot.ID, ev.At.UnixMicro()),
		Body: fmt.Sprintf("项目 %s %s%d（%s）流标：%s。已缴纳的保证金将依法退还。", ev.Project.Code, ev.Project.Category.LotNoun(), ev.Lot.Seq, ev.Lot.Name, why)}, ids...)
}
