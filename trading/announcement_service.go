package trading

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading/rules"
)

// AnnouncementInput is what an agent writes for a notice.
type AnnouncementInput struct {
	Type     AnnouncementType `json:"type" form:"type"`
	Title    string           `json:"title" form:"title"`
	Body     string           `json:"body" form:"body"`
	AmendsID int64            `json:"amends_id" form:"amends_id"`
	// Changes of an amendment: new times per lot, as entered.
	Changes []LotChangeInput `json:"changes"`
}

// LotChangeInput moves one lot's times ("" leaves a time as it is).
type LotChangeInput struct {
	LotID           int64  `json:"lot_id"`
	DocIssueEnd     string `json:"doc_issue_end"`
	RegistrationEnd string `json:"registration_end"`
	BidDeadline     string `json:"bid_deadline"`
	ListingEnd      string `json:"listing_end"`
	AuctionAt       string `json:"auction_at"`
	OpeningPlace    string `json:"opening_place"`
}

// openingType is the first notice each category publishes.
var openingTypes = map[Category][]AnnouncementType{
	"engineering": {NoticeTender},
	"procurement": {NoticeProcurement},
	"land":        {NoticeTransfer, NoticeListing},
	"property":    {NoticeListing},
}

// publishLockKey serialises the moment of publication so that
// published_seq grows in commit order ("ggzypub").
const publishLockKey = 0x67677a79707562

func (in *AnnouncementInput) validate() error {
	in.Title = strings.TrimSpace(in.Title)
	if !in.Type.Valid() {
		return Invalid("type", "公告类型不正确")
	}
	if n := utf8.RuneCountInString(in.Title); n < 4 || n > 200 {
		return Invalid("title", "公告标题须为4至200个字符")
	}
	for _, r := range in.Title {
		if r < 0x20 || r == 0x7f {
			return Invalid("title", "公告标题不能包含控制字符")
		}
	}
	return ValidateNoticeBody(in.Body)
}

// changesFor parses an amendment's schedule changes against the lots.
func changesFor(p *Project, in []LotChangeInput) (*LotChanges, error) {
	if len(in) == 0 {
		return nil, nil
	}
	lotIDs := map[int64]bool{}
	for _, l := range p.Lots {
		lotIDs[l.ID] = true
	}
	out := &LotChanges{}
	seen := map[int64]bool{}
	for i, c := range in {
		prefix := fmt.Sprintf("changes[%d].", i)
		if !lotIDs[c.LotID] {
			return nil, Invalid(prefix+"lot_id", "标段 %d 不属于本项目", c.LotID)
		}
		if seen[c.LotID] {
			return nil, Invalid(prefix+"lot_id", "标段 %d 重复", c.LotID)
		}
		seen[c.LotID] = true
		ch := LotChange{LotID: c.LotID}
		var err error
		for _, f := range []struct {
			name, v string
			dst     **time.Time
		}{{"doc_issue_end", c.DocIssueEnd, &ch.DocIssueEnd}, {"registration_end", c.RegistrationEnd, &ch.RegistrationEnd},
			{"bid_deadline", c.BidDeadline, &ch.BidDeadline}, {"listing_end", c.ListingEnd, &ch.ListingEnd}, {"auction_at", c.AuctionAt, &ch.AuctionAt}} {
			if *f.dst, err = ParseTime(prefix+f.name, f.v); err != nil {
				return nil, err
			}
		}
		if place := strings.TrimSpace(c.OpeningPlace); place != "" {
			ch.OpeningPlace = &place
		}
		if ch == (LotChange{LotID: c.LotID}) {
			continue
		}
		out.Lots = append(out.Lots, ch)
	}
	if len(out.Lots) == 0 {
		return nil, nil
	}
	return out, nil
}

// apply returns the lot with an amendment's changes made.
func (c *LotChange) apply(l Lot) Lot {
	if c.DocIssueEnd != nil {
		l.DocIssueEnd = c.DocIssueEnd
	}
	if c.RegistrationEnd != nil {
		l.RegistrationEnd = c.RegistrationEnd
	}
	if c.BidDeadline != nil {
		l.BidDeadline = c.BidDeadline
	}
	if c.ListingEnd != nil {
		l.ListingEnd = c.ListingEnd
	}
	if c.AuctionAt != nil {
		l.AuctionAt = c.AuctionAt
	}
	if c.OpeningPlace != nil {
		l.OpeningPlace = *c.OpeningPlace
	}
	return l
}

// checkRules runs the rule book for a notice at the given moment: an
// opening notice checks every lot's schedule and money (E1, E2, G1, L1, P1,
// D1, …); an amendment checks the changed lots (E4/G4 plus the schedule).
func (s *Service) checkRules(ctx context.Context, db *gorm.DB, p *Project, n *Announcement, at time.Time) ([]rules.Violation, error) {
	book, err := s.ruleBookOn(ctx, db)
	if err != nil {
		return nil, err
	}
	var out []rules.Violation
	prefixed := func(l *Lot, vs []rules.Violation) {
		for _, v := range vs {
			if v.Field != "" {
				v.Field = fmt.Sprintf("lots[%d].%s", l.Seq-1, v.Field)
			}
			v.Actual = fmt.Sprintf("标段%d（%s）：%s", l.Seq, l.Name, v.Actual)
			out = append(out, v)
		}
	}
	switch {
	case n.Type.IsOpening():
		for i := range p.Lots {
			rl := p.Lots[i].RuleLot(p.Category)
			rl.NoticeAt = at
			prefixed(&p.Lots[i], book.CheckSchedule(rl, at))
		}
	case n.Type == NoticeAmendment:
		// The schedule keeps counting from the original notice (L1, G3, P1).
		var opened Announcement
		err := db.WithContext(ctx).Where("project_id = ? AND status = ? AND type IN ?", p.ID, NoticePublished, openingTypes[p.Category]).
			Order("published_seq").First(&opened).Error
		if err != nil {
			return nil, fmt.Errorf("opening notice of %s: %w", p.Code, err)
		}
		// E4/G4: every amendment reaches all document holders; one issued
		// less than 15 days before a deadline must move that deadline.
		// Whether it "affects the bids" is not knowable here, so all count.
		for i := range p.Lots {
			changed := p.Lots[i]
			if n.Changes != nil {
				for _, ch := range n.Changes.Lots {
					if ch.LotID == changed.ID {
						changed = ch.apply(changed)
					}
				}
			}
			old, nw := p.Lots[i].RuleLot(p.Category), changed.RuleLot(p.Category)
			old.NoticeAt, nw.NoticeAt = *opened.PublishedAt, *opened.PublishedAt
			prefixed(&p.Lots[i], book.CheckAmendment(old, nw, at))
		}
	}
	for _, check := range s.CheckNotice {
		vs, err := check(ctx, db, n, p, at)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// DraftAnnouncement writes a new notice for one of the agent's projects.
func (s *Service) DraftAnnouncement(ctx context.Context, a Actor, code string, in AnnouncementInput) (*Announcement, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	if in.Type == NoticeCandidates || in.Type == NoticeResult {
		return nil, Invalid("type", "%s由标段的“开标与结果”页面根据开标记录生成，不能直接起草", in.Type.Name())
	}
	var n *Announcement
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, err := s.ownProject(tx, a, code)
		if err != nil {
			return err
		}
		n, err = s.DraftNoticeTx(ctx, tx, a, p, in)
		return err
	})
	return n, err
}

// DraftNoticeTx writes a draft notice of p inside tx: the body of
// DraftAnnouncement, for packages that generate notices (bidding's
// candidate and result notices) in their own transaction. The caller has
// checked that a may write for p.
func (s *Service) DraftNoticeTx(ctx context.Context, tx *gorm.DB, a Actor, p *Project, in AnnouncementInput) (*Announcement, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	if err := s.checkTypeAllowed(tx, p, &in); err != nil {
		return nil, err
	}
	changes, err := changesFor(p, in.Changes)
	if err != nil {
		return nil, err
	}
	n := &Announcement{ProjectID: p.ID, Type: in.Type, Title: in.Title, Body: in.Body, BodyHTML: RenderMarkdown(in.Body),
		Status: NoticeDraft, Changes: changes, AuthorID: a.AccountID, CreatedAt: now, UpdatedAt: now}
	if in.Type == NoticeAmendment {
		n.AmendsID = &in.AmendsID
	}
	if err := tx.Omit(clause.Associations).Create(n).Error; err != nil {
		return nil, err
	}
	return n, Audit(tx, now, a, "announcement.draft", "announcement", fmt.Sprint(n.ID),
		fmt.Sprintf("项目 %s 起草%s“%s”", p.Code, in.Type.Name(), in.Title))
}

// checkTypeAllowed enforces which notice may follow which.
func (s *Service) checkTypeAllowed(tx *gorm.DB, p *Project, in *AnnouncementInput) error {
	if p.Status == ProjectTerminated {
		return Conflict("status", "项目已终止，不能再发布公告")
	}
	if in.Type.IsOpening() {
		if !containsType(openingTypes[p.Category], in.Type) {
			return Invalid("type", "%s项目的首次公告应为%s", p.Category.Name(), typeNames(openingTypes[p.Category]))
		}
		if p.Status != ProjectDraft {
			return Conflict("type", "项目已发布%s，修改请发布变更公告", in.Type.Name())
		}
		return nil
	}
	if p.Status != ProjectActive {
		return Conflict("type", "项目尚未发布首次公告，不能发布%s", in.Type.Name())
	}
	if in.Type == NoticeAmendment {
		var orig Announcement
		err := tx.First(&orig, "id = ? AND project_id = ? AND status = ?", in.AmendsID, p.ID, NoticePublished).Error
		if err != nil {
			return Invalid("amends_id", "变更公告须指向本项目一则已发布的公告")
		}
	}
	return nil
}

func containsType(ts []AnnouncementType, t AnnouncementType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func typeNames(ts []AnnouncementType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name()
	}
	return strings.Join(names, "或")
}

// ownProject loads a project the agent runs, locked for the transaction.
func (s *Service) ownProject(tx *gorm.DB, a Actor, code string) (*Project, error) {
	p, err := loadProject(tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "projects"}}), "code = ?", code)
	if err != nil {
		return nil, err
	}
	if a.Role != RoleAgent || p.AgentID != a.AccountID {
		if a.Role == RoleAgent {
			return nil, NotFound("交易项目")
		}
		return nil, Forbidden("只有项目的代理机构可以起草和提交公告")
	}
	return p, nil
}

// lockAnnouncement loads a notice and its project for a workflow step.
func (s *Service) lockAnnouncement(tx *gorm.DB, id int64) (*Announcement, *Project, error) {
	var n Announcement
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&n, id).Error; err != nil {
		return nil, nil, notFound(err, "公告")
	}
	p, err := loadProject(tx, "id = ?", n.ProjectID)
	if err != nil {
		return nil, nil, err
	}
	return &n, p, nil
}

// lockOwnAnnouncement locks a notice for a step only its project's agent
// may take; to anyone else it does not exist.
func (s *Service) lockOwnAnnouncement(tx *gorm.DB, a Actor, id int64) (*Announcement, *Project, error) {
	n, p, err := s.lockAnnouncement(tx, id)
	if err != nil {
		return nil, nil, err
	}
	if a.Role != RoleAgent || p.AgentID != a.AccountID {
		return nil, nil, NotFound("公告")
	}
	return n, p, nil
}

// UpdateAnnouncement edits a draft or a rejected notice.
func (s *Service) UpdateAnnouncement(ctx context.Context, a Actor, id int64, in AnnouncementInput) (*Announcement, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var n *Announcement
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var p *Project
		var err error
		if n, p, err = s.lockOwnAnnouncement(tx, a, id); err != nil {
			return err
		}
		if n.Status != NoticeDraft && n.Status != NoticeRejected {
			return Conflict("status", "%s的公告不能修改", n.Status.Name())
		}
		if in.Type != n.Type {
			return Invalid("type", "公告类型创建后不能修改")
		}
		if n.Type == NoticeCandidates || n.Type == NoticeResult {
			// Its text states the lot's result record: change that, on the
			// lot's result page, and the notice is written again from it.
			return Conflict("type", "%s由标段的“开标与结果”页面生成，不能直接修改；请在该页面重新确定后重新生成", n.Type.Name())
		}
		in.AmendsID = derefID(n.AmendsID)
		changes, err := changesFor(p, in.Changes)
		if err != nil {
			return err
		}
		n.Title, n.Body, n.BodyHTML, n.Changes, n.Status, n.UpdatedAt = in.Title, in.Body, RenderMarkdown(in.Body), changes, NoticeDraft, now
		if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
			return err
		}
		return Audit(tx, now, a, "announcement.update", "announcement", fmt.Sprint(n.ID), "修改公告“"+n.Title+"”")
	})
	return n, err
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// SubmitAnnouncement sends a draft to the supervisors. The rule book runs
// now: a notice whose schedule breaks a rule is refused with every
// violation listed, and stays a draft.
func (s *Service) SubmitAnnouncement(ctx context.Context, a Actor, id int64) (*Announcement, error) {
	var n *Announcement
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var p *Project
		var err error
		if n, p, err = s.lockOwnAnnouncement(tx, a, id); err != nil {
			return err
		}
		return s.SubmitNoticeTx(ctx, tx, a, n, p)
	})
	return n, err
}

// SubmitNoticeTx submits a draft or rejected notice inside tx (the body of
// SubmitAnnouncement); n must be locked by the caller.
func (s *Service) SubmitNoticeTx(ctx context.Context, tx *gorm.DB, a Actor, n *Announcement, p *Project) error {
	now := s.Clock.Now()
	if n.Status != NoticeDraft && n.Status != NoticeRejected {
		return Conflict("status", "%s的公告不能提交", n.Status.Name())
	}
	if vs, err := s.checkRules(ctx, tx, p, n, now); err != nil {
		return err
	} else if len(vs) > 0 {
		return RuleViolations("提交公告", vs)
	}
	n.Status, n.SubmittedAt, n.UpdatedAt, n.RejectReason = NoticeSubmitted, &now, now, ""
	if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
		return err
	}
	if err := publishSupervision(ctx, tx, "announcement.submitted", FeedItem{At: now, Project: p.Code,
		Link: fmt.Sprintf("/supervisor/announcements/%d", n.ID), Text: "新公告待审核：" + p.Code + " " + n.Title}); err != nil {
		return err
	}
	return Audit(tx, now, a, "announcement.submit", "announcement", fmt.Sprint(n.ID), "提交审核：“"+n.Title+"”")
}

// RewriteNoticeTx replaces the title and body of a draft or rejected
// notice inside tx (a regenerated candidate or result notice).
func (s *Service) RewriteNoticeTx(tx *gorm.DB, a Actor, id int64, title, body string) (*Announcement, error) {
	in := AnnouncementInput{Type: NoticeResult, Title: title, Body: body}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var n Announcement
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&n, id).Error; err != nil {
		return nil, notFound(err, "公告")
	}
	if n.Status != NoticeDraft && n.Status != NoticeRejected {
		return nil, Conflict("status", "公告已%s，不能重新生成；如需修改请先撤回", n.Status.Name())
	}
	now := s.Clock.Now()
	n.Title, n.Body, n.BodyHTML, n.UpdatedAt = in.Title, in.Body, RenderMarkdown(in.Body), now
	if err := tx.Omit(clause.Associations).Save(&n).Error; err != nil {
		return nil, err
	}
	return &n, Audit(tx, now, a, "announcement.update", "announcement", fmt.Sprint(n.ID), "重新生成公告“"+n.Title+"”")
}

// WithdrawAnnouncement takes a submitted or scheduled notice back to draft.
func (s *Service) WithdrawAnnouncement(ctx context.Context, a Actor, id int64) error {
	now := s.Clock.Now()
	return Transact(ctx, s.DB, func(tx *gorm.DB) error {
		n, _, err := s.lockOwnAnnouncement(tx, a, id)
		if err != nil {
			return err
		}
		if n.Status != NoticeSubmitted && n.Status != NoticeScheduled {
			return Conflict("status", "%s的公告不能撤回", n.Status.Name())
		}
		n.Status, n.PublishAt, n.UpdatedAt = NoticeDraft, nil, now
		if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
			return err
		}
		return Audit(tx, now, a, "announcement.withdraw", "announcement", fmt.Sprint(n.ID), "撤回公告“"+n.Title+"”")
	})
}

// ApproveAnnouncement is a supervisor's approval: it publishes at once, or
// at publishAt if that is in the future. The rule book runs again at the
// moment of publication.
func (s *Service) ApproveAnnouncement(ctx context.Context, a Actor, id int64, publishAt *time.Time) (*Announcement, error) {
	if a.Role != RoleSupervisor {
		return nil, Forbidden("只有交易中心监督可以审核公告")
	}
	now := s.Clock.Now()
	var n *Announcement
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var p *Project
		var err error
		if n, p, err = s.lockAnnouncement(tx, id); err != nil {
			return err
		}
		if n.Status != NoticeSubmitted {
			return Conflict("status", "只能审核待审核的公告（当前：%s）", n.Status.Name())
		}
		n.ReviewerID, n.ReviewedAt = &a.AccountID, &now
		if publishAt != nil && publishAt.After(now) {
			if vs, err := s.checkRules(ctx, tx, p, n, *publishAt); err != nil {
				return err
			} else if len(vs) > 0 {
				return RuleViolations("按定时发布", vs)
			}
			n.Status, n.PublishAt, n.UpdatedAt = NoticeScheduled, publishAt, now
			if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
				return err
			}
			return Audit(tx, now, a, "announcement.approve", "announcement", fmt.Sprint(n.ID),
				"审核通过，定于 "+publishAt.In(Shanghai).Format("2006-01-02 15:04")+" 发布")
		}
		if err := Audit(tx, now, a, "announcement.approve", "announcement", fmt.Sprint(n.ID), "审核通过，立即发布"); err != nil {
			return err
		}
		return s.publish(ctx, tx, a, n, p, now)
	})
	return n, err
}

// RejectAnnouncement sends a notice back to the agent with a reason.
func (s *Service) RejectAnnouncement(ctx context.Context, a Actor, id int64, reason string) error {
	if a.Role != RoleSupervisor {
		return Forbidden("只有交易中心监督可以审核公告")
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 2 || n > 1000 {
		return Invalid("reason", "退回须写明理由（2至1000个字符）")
	}
	now := s.Clock.Now()
	return Transact(ctx, s.DB, func(tx *gorm.DB) error {
		n, _, err := s.lockAnnouncement(tx, id)
		if err != nil {
			return err
		}
		if n.Status != NoticeSubmitted && n.Status != NoticeScheduled {
			return Conflict("status", "只能退回待审核或待发布的公告（当前：%s）", n.Status.Name())
		}
		n.Status, n.RejectReason, n.ReviewerID, n.ReviewedAt, n.PublishAt, n.UpdatedAt = NoticeRejected, reason, &a.AccountID, &now, nil, now
		if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
			return err
		}
		return Audit(tx, now, a, "announcement.reject", "announcement", fmt.Sprint(n.ID), "退回：“"+reason+"”")
	})
}

// publish makes a notice public inside tx: the rule book runs at this
// moment, an amendment's changes reach the lots, the project's status
// follows, and published_seq is taken under a lock held until commit.
func (s *Service) publish(ctx context.Context, tx *gorm.DB, a Actor, n *Announcement, p *Project, now time.Time) error {
	// The project may have moved on since the notice was drafted (another
	// opening notice, a termination): check again under the project's lock.
	var fresh Project
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "code", "status", "opened_at", "suspended_at", "suspend_reason").
		First(&fresh, p.ID).Error; err != nil {
		return err
	}
	p.Status, p.OpenedAt = fresh.Status, fresh.OpenedAt
	// A suspended project publishes nothing but its termination: results,
	// candidates and amendments wait until a supervisor resumes it.
	if n.Type != NoticeTermination {
		if err := fresh.CheckRunning(); err != nil {
			return err
		}
	}
	if err := s.checkTypeAllowed(tx, p, &AnnouncementInput{Type: n.Type, AmendsID: derefID(n.AmendsID)}); err != nil {
		return err
	}
	if vs, err := s.checkRules(ctx, tx, p, n, now); err != nil {
		return err
	} else if len(vs) > 0 {
		return RuleViolations("发布公告", vs)
	}
	if n.Type == NoticeAmendment && n.Changes != nil {
		for _, ch := range n.Changes.Lots {
			for i := range p.Lots {
				if p.Lots[i].ID == ch.LotID {
					l := ch.apply(p.Lots[i])
					if err := tx.Select("doc_issue_end", "registration_end", "bid_deadline", "listing_end", "auction_at", "opening_place").
						Save(&l).Error; err != nil {
						return err
					}
					p.Lots[i] = l
				}
			}
		}
	}
	status := p.Status
	switch {
	case n.Type.IsOpening():
		status = ProjectActive
	case n.Type == NoticeTermination:
		status = ProjectTerminated
	}
	if status != p.Status {
		changes := map[string]any{"status": status, "updated_at": now}
		if n.Type.IsOpening() {
			changes["opened_at"] = now
			p.OpenedAt = &now
		}
		if err := tx.Model(&Project{}).Where("id = ?", p.ID).Updates(changes).Error; err != nil {
			return err
		}
		p.Status = status
	}
	if n.Type == NoticeTermination {
		// Lots without a result are cancelled: counted apart in the
		// savings report, never in a rate.
		if err := tx.Exec(`INSERT INTO lot_outcomes (lot_id, project_id, category, region_code, status, reason, decided_on, updated_at)
			SELECT l.id, p.id, p.category, p.region_code, 'cancelled', '项目终止', (?::timestamptz AT TIME ZONE 'Asia/Shanghai')::date, ?
			FROM lots l JOIN projects p ON p.id = l.project_id WHERE p.id = ?
			ON CONFLICT (lot_id) DO NOTHING`, now, now, p.ID).Error; err != nil {
			return err
		}
		// Nothing else of a terminated project may still go out.
		if err := tx.Model(&Announcement{}).Where("project_id = ? AND id <> ? AND status IN ?", p.ID, n.ID,
			[]AnnouncementStatus{NoticeSubmitted, NoticeScheduled}).
			Updates(map[string]any{"status": NoticeRejected, "reject_reason": "项目已终止", "publish_at": nil, "updated_at": now}).Error; err != nil {
			return err
		}
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", publishLockKey).Error; err != nil {
		return err
	}
	var seq int64
	if err := tx.Raw("SELECT nextval('announcements_published_seq')").Scan(&seq).Error; err != nil {
		return err
	}
	n.Status, n.PublishedAt, n.PublishedSeq, n.UpdatedAt = NoticePublished, &now, &seq, now
	if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
		return err
	}
	for _, hook := range s.OnPublish {
		if err := hook(ctx, tx, n, p); err != nil {
			return err
		}
	}
	return Audit(tx, now, a, "announcement.publish", "announcement", fmt.Sprint(n.ID),
		fmt.Sprintf("发布%s“%s”（项目 %s）", n.Type.Name(), n.Title, p.Code))
}

// PublishDue publishes the scheduled notices whose time has come; several
// instances may run it at once (SKIP LOCKED). A notice that now breaks a
// rule is returned to the agent with the violations as the reason.
func (s *Service) PublishDue(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	published := 0
	for {
		var done bool
		err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
			var n Announcement
			err := tx.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
				Where("status = ? AND publish_at <= ?", NoticeScheduled, now).Order("publish_at, id").First(&n).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				done = true
				return nil
			}
			if err != nil {
				return err
			}
			p, err := loadProject(tx, "id = ?", n.ProjectID)
			if err != nil {
				return err
			}
			err = s.publish(ctx, tx.SavePoint("publish"), SystemActor, &n, p, now)
			var de *Error
			if errors.As(err, &de) && de.Status < 500 {
				if err := tx.RollbackTo("publish").Error; err != nil {
					return err
				}
				n.Status, n.RejectReason, n.PublishAt, n.UpdatedAt = NoticeRejected, "定时发布时"+de.Message, nil, now
				if err := tx.Omit(clause.Associations).Save(&n).Error; err != nil {
					return err
				}
				return Audit(tx, now, SystemActor, "announcement.reject", "announcement", fmt.Sprint(n.ID), n.RejectReason)
			}
			if err == nil {
				published++
			}
			return err
		})
		if err != nil || done {
			return published, err
		}
	}
}

// RunPublisher publishes due notices every interval until ctx ends.
func (s *Service) RunPublisher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.PublishDue(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("scheduled publishing", "err", err)
		} else if n > 0 {
			s.Log.Info("published scheduled notices", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Announcement returns a notice for its agent or a supervisor (any state),
// or for anyone once published.
func (s *Service) Announcement(ctx context.Context, a Actor, id int64) (*Announcement, *Project, error) {
	var n Announcement
	if err := s.DB.WithContext(ctx).First(&n, id).Error; err != nil {
		return nil, nil, notFound(err, "公告")
	}
	p, err := loadProject(s.DB.WithContext(ctx), "id = ?", n.ProjectID)
	if err != nil {
		return nil, nil, err
	}
	if n.Status != NoticePublished && !CanSeeSecrets(a, p) {
		return nil, nil, NotFound("公告")
	}
	return &n, p, nil
}

// ProjectAnnouncements lists a project's notices: every one for its agent
// and supervisors, the published ones for everyone else.
func (s *Service) ProjectAnnouncements(ctx context.Context, a Actor, p *Project) ([]Announcement, error) {
	q := s.DB.WithContext(ctx).Where("project_id = ?", p.ID)
	if !CanSeeSecrets(a, p) {
		q = q.Where("status = ?", NoticePublished)
	}
	var out []Announcement
	return out, q.Order("id").Find(&out).Error
}

// ReviewQueue lists the notices waiting for a supervisor, oldest first.
func (s *Service) ReviewQueue(ctx context.Context, a Actor) ([]Announcement, error) {
	if a.Role != RoleSupervisor {
		return nil, Forbidden("只有交易中心监督可以审核公告")
	}
	var out []Announcement
	err := s.DB.WithContext(ctx).Preload("Project").Where("status IN ?", []AnnouncementStatus{NoticeSubmitted, NoticeScheduled}).
		Order("submitted_at, id").Limit(200).Find(&out).Error
	return out, err
}
