package bidding

// Who registered for a lot (the agent's list, after the deadline, K4) and
// each bidder's own registrations with their documents and outcomes.

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// RegistrantView is a registration as the agent or a supervisor sees it.
type RegistrantView struct {
	Registration
	BidderName string `json:"bidder_name"`
	IDNumber   string `json:"id_number"`
	Downloads  int    `json:"downloads"`
	// PriorityHolder marks the holder of the lot's priority right (P7),
	// whom the announcement names.
	PriorityHolder bool `json:"priority_holder"`
}

// Registrants lists who registered for a lot. Before the deadline nobody
// but supervisors may know who or how many (K4, K5; ggzy is stricter than
// K5 and hides it from the agent too), and every supervisor look is
// audited. The refusal is decided before anything is read, so neither its
// content nor its timing depends on the registrations. Land and property
// applications are the exception: their agent reviews them.
func (s *Service) Registrants(ctx context.Context, a trading.Actor, lotID int64) ([]RegistrantView, *Window, error) {
	now := s.Clock.Now()
	var out []RegistrantView
	var win Window
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, err := lotOf(tx, lotID)
		if err != nil {
			return err
		}
		opened := openedAt(p)
		win = WindowOf(p, lot, opened)
		beforeDeadline := win.Deadline.IsZero() || now.Before(win.Deadline)
		switch {
		case a.Role == trading.RoleSupervisor:
		case a.Role == trading.RoleAgent && a.AccountID == p.AgentID:
			secret, err := BiddersSecretFromAgent(tx, p, lot, now)
			if err != nil {
				return err
			}
			if secret && lot.PostQualification != "" {
				// 资格后审 (issue 15 §2): bidders are admitted on their deposit
				// alone, so that nobody but supervisors knows who bids, until
				// the bidding has ended.
				return trading.Forbidden("本" + p.Category.LotNoun() + "实行资格后审：竞价结束前竞买人名单对代理机构保密，竞价结束后审查竞得人资格")
			}
			if secret {
				return trading.Forbidden("投标截止前不得查看获取招标文件或报名的单位名称和数量（K4/K5，招标投标法第二十二条）")
			}
		default:
			return trading.NotFound(trading.AnyLot)
		}
		// Equivalent SQL: SELECT r.*, b.name, b.id_number, count(downloads) FROM registrations r
		//   JOIN bidders b ON b.account_id = r.bidder_id WHERE r.lot_id = ? ORDER BY r.created_at, r.id (ids are random: migration 00020)
		err = tx.Table("registrations r").Select(`r.*, b.name AS bidder_name, b.id_number,
			(SELECT count(*) FROM downloads d JOIN documents doc ON doc.id = d.document_id
			  WHERE doc.lot_id = r.lot_id AND d.account_id = r.bidder_id) AS downloads`).
			Joins("JOIN bidders b ON b.account_id = r.bidder_id").Where("r.lot_id = ?", lotID).Order("r.created_at, r.id").Scan(&out).Error
		if err != nil {
			return err
		}
		markHolder(out, lot)
		// Every look at registrants before the deadline is audited: the
		// supervisors', and the agent's at the applications it reviews.
		if beforeDeadline {
			return trading.Audit(tx, now, a, "registration.view", "lot", fmt.Sprint(lotID),
				fmt.Sprintf("截止前查看项目 %s %s%d 报名名单（%d家）", p.Code, p.Category.LotNoun(), lot.Seq, len(out)))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, &win, nil
}

// MyRegistration is a row of the bidder's "my projects" page.
type MyRegistration struct {
	Registration Registration
	Project      *trading.Project
	Lot          trading.Lot
	Window       Window
	// LatestVersion is the lot's released document-set version;
	// DownloadedVersion the newest the bidder has downloaded (0: none).
	LatestVersion     int
	DownloadedVersion int
	Downloads         []DownloadView
	// Outcome is how the lot ended for the bidder, once public.
	Outcome string
	// Letter is the document the result gives the bidder (中标通知书…), if any.
	Letter LetterKind
}

// outcomeFor tells a bidder how a lot ended for them, once it is public
// (the result announcement published, or the lot failed); "" before.
func outcomeFor(r *LotResult, bidder int64) string {
	switch {
	case r.LotID == 0:
		return ""
	case r.Stage == StageFailed:
		return "流标：" + r.FailedReason
	case r.Stage == StageNoSale:
		return "未成交"
	case r.WinnerID != nil && *r.WinnerID == bidder && r.Stage == StageSold:
		return "已竞得，成交价 " + trading.Yuan(*r.Amount) + " 元"
	case r.WinnerID != nil && *r.WinnerID == bidder:
		return "已中标，中标金额 " + trading.Yuan(*r.Amount) + " 元"
	case r.Stage == StageSold:
		return "未竞得"
	}
	return "未中标"
}

// NewerVersion reports a clarification the bidder has not downloaded.
func (m *MyRegistration) NewerVersion() bool {
	return m.LatestVersion > 1 && m.DownloadedVersion < m.LatestVersion
}

// DownloadView is one of the bidder's downloads.
type DownloadView struct {
	Filename string
	Version  int
	At       time.Time
}

// MyRegistrations lists the bidder's registrations, newest first.
func (s *Service) MyRegistrations(ctx context.Context, a trading.Actor) ([]MyRegistration, error) {
	db := s.DB.WithContext(ctx)
	var regs []Registration
	if err := db.Where("bidder_id = ?", a.AccountID).Order("created_at DESC, id DESC").Limit(200).Find(&regs).Error; err != nil {
		return nil, err
	}
	out := make([]MyRegistration, 0, len(regs))
	for _, r := range regs {
		p, lot, err := lotOf(db, r.LotID)
		if err != nil {
			return nil, err
		}
		opened := openedAt(p)
		m := MyRegistration{Registration: r, Project: p, Lot: *lot, Window: WindowOf(p, lot, opened)}
		if err := db.Model(&Document{}).Where("lot_id = ? AND released_at IS NOT NULL AND kind <> ?", r.LotID, DocMaterial).
			Select("coalesce(max(version), 0)").Scan(&m.LatestVersion).Error; err != nil {
			return nil, err
		}
		if err := db.Table("downloads d").Select("doc.filename, doc.version, d.at").
			Joins("JOIN documents doc ON doc.id = d.document_id").
			Where("doc.lot_id = ? AND d.account_id = ?", r.LotID, a.AccountID).Order("d.at DESC").Limit(20).
			Scan(&m.Downloads).Error; err != nil {
			return nil, err
		}
		for _, d := range m.Downloads {
			m.DownloadedVersion = max(m.DownloadedVersion, d.Version)
		}
		var res LotResult
		if err := db.Where("lot_id = ? AND stage IN ?", r.LotID,
			[]Stage{StageFailed, StageAwarded, StageContracted, StageSold, StageNoSale}).Limit(1).Find(&res).Error; err != nil {
			return nil, err
		}
		m.Outcome = outcomeFor(&res, a.AccountID)
		if res.WinnerID != nil && (res.Stage == StageAwarded || res.Stage == StageContracted || res.Stage == StageSold) {
			var bid int64
			if err := db.Model(&LotBid{}).Where("lot_id = ? AND bidder_id = ?", r.LotID, a.AccountID).Count(&bid).Error; err != nil {
				return nil, err
			}
			if bid > 0 || *res.WinnerID == a.AccountID {
				m.Letter = LetterKindFor(p.Category, *res.WinnerID == a.AccountID)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func markHolder(list []RegistrantView, lot *trading.Lot) {
	for i := range list {
		list[i].PriorityHolder = lot.PriorityHolder != "" && list[i].IDNumber == lot.PriorityHolder
	}
}

// HolderApplications is the priority-right holder's application on a lot
// sold with post-qualification (资格后审) and a priority right (P7), for its
// agent and supervisors while the bidders are secret from the agent
// (Registrants refuses the agent the list then). The holder buys without a
// check after the bidding, so its application is reviewed before (Review),
// and the announcement names the holder anyway; without this the agent could not
// find it, and the right lapsed for an application nobody had approved.
// Nothing else is shown: no other applicant, no count, and no bidder code
// (who holds which code stays with the supervisors, A2). Each look is
// audited, like a look at the registrants before the deadline.
func (s *Service) HolderApplications(ctx context.Context, a trading.Actor, lotID int64) ([]RegistrantView, *Window, error) {
	now := s.Clock.Now()
	var out []RegistrantView
	var win Window
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, err := lotOf(tx, lotID)
		if err != nil {
			return err
		}
		if !(a.Role == trading.RoleSupervisor || (a.Role == trading.RoleAgent && a.AccountID == p.AgentID)) {
			return trading.NotFound(trading.AnyLot)
		}
		if lot.PostQualification == "" || lot.PriorityHolder == "" {
			return trading.NotFound("优先购买权人的竞买申请")
		}
		win = WindowOf(p, lot, openedAt(p))
		// Equivalent SQL: SELECT r.*, b.name, b.id_number FROM registrations r JOIN bidders b ON b.account_id = r.bidder_id
		//   WHERE r.lot_id = ? AND b.id_number = ? ORDER BY r.created_at, r.id
		err = tx.Table("registrations r").Select(`r.*, b.name AS bidder_name, b.id_number`).
			Joins("JOIN bidders b ON b.account_id = r.bidder_id").Where("r.lot_id = ? AND b.id_number = ?", lotID, lot.PriorityHolder).
			Order("r.created_at, r.id").Scan(&out).Error
		if err != nil {
			return err
		}
		markHolder(out, lot)
		return trading.Audit(tx, now, a, "registration.view", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("资格后审：查看项目 %s %s%d 优先购买权人的竞买申请（%d份）", p.Code, p.Category.LotNoun(), lot.Seq, len(out)))
	})
	if err != nil {
		return nil, nil, err
	}
	return out, &win, nil
}
