package trading

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading/rules"
)

// AnnouncementInput is what an agent writes for an announcement.
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

// openingType is the first announcement each category publishes.
var openingTypes = map[Category][]AnnouncementType{
	Engineering: {AnnouncementTender},
	Procurement: {AnnouncementProcurement},
	Land:        {AnnouncementTransfer, AnnouncementListing},
	Property:    {AnnouncementListing},
}

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
	return ValidateAnnouncementBody(in.Body)
}

// changesFor parses an amendment's schedule changes against the lots.
func changesFor(p *Project, in []LotChangeInput) (_ *LotChanges, err error) {
	defer func() { err = inCategory(err, p.Category) }() // "changes[0].lot_id" is 第1个变更的地块…
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
			return nil, Invalid(prefix+"lot_id", "%s %d 不属于本项目", p.Category.LotNoun(), c.LotID)
		}
		if seen[c.LotID] {
			return nil, Invalid(prefix+"lot_id", "%s %d 重复", p.Category.LotNoun(), c.LotID)
		}
		seen[c.LotID] = true
		ch := LotChange{LotID: c.LotID}
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

// checkRules runs the rule book for an announcement at the given moment: an
// opening announcement checks every lot's schedule and money (E1, E2, G1, L1, P1,
// D1, …); an amendment checks the changed lots (E4/G4 plus the schedule).
//
// The notes that come with it (a working-day rule held by a provisional
// calendar, 按暂行日历计算; HOL) never refuse: they go to the agent at
// submission and to the supervisor at review.
func (s *Service) checkRules(ctx context.Context, db *gorm.DB, p *Project, n *Announcement, at time.Time) (rules.Result, error) {
	book, err := s.ruleBookOn(ctx, db)
	if err != nil {
		return rules.Result{}, err
	}
	var out rules.Result
	prefixed := func(l *Lot, res rules.Result) {
		for _, v := range res.Violations {
			if v.Field != "" {
				v.Field = fmt.Sprintf("lots[%d].%s", l.Seq-1, v.Field)
			}
			v.Actual = fmt.Sprintf("%s%d（%s）：%s", p.Category.LotNoun(), l.Seq, l.Name, v.Actual)
			out.Violations = append(out.Violations, v)
		}
		for _, nt := range res.Notes {
			if nt.Field != "" {
				nt.Field = fmt.Sprintf("lots[%d].%s", l.Seq-1, nt.Field)
			}
			nt.Message = fmt.Sprintf("%s%d（%s）：%s", p.Category.LotNoun(), l.Seq, l.Name, nt.Message)
			out.Notes = append(out.Notes, nt)
		}
	}
	switch {
	case n.Type.IsOpening():
		for i := range p.Lots {
			rl := p.Lots[i].RuleLot(p.Category)
			rl.AnnouncementAt = at
			prefixed(&p.Lots[i], book.Check(rl, at))
		}
	case n.Type == AnnouncementAmendment:
		// The schedule keeps counting from the original announcement (L1, G3, P1).
		var opened Announcement
		err := db.WithContext(ctx).Where("project_id = ? AND status = ? AND type IN ?", p.ID, AnnouncementPublished, openingTypes[p.Category]).
			Order("published_seq").First(&opened).Error
		if err != nil {
			return rules.Result{}, fmt.Errorf("opening announcement of %s: %w", p.Code, err)
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
			old.AnnouncementAt, nw.AnnouncementAt = *opened.PublishedAt, *opened.PublishedAt
			prefixed(&p.Lots[i], book.CheckAmended(old, nw, at))
		}
	}
	// TXT: a date written in the text that matches none of the times.
	out.Notes = append(out.Notes, textDateNotes(p, n)...)
	for _, check := range s.CheckAnnouncement {
		vs, err := check(ctx, db, n, p, at)
		if err != nil {
			return rules.Result{}, err
		}
		out.Violations = append(out.Violations, vs...)
	}
	return out, nil
}

// DraftAnnouncement writes a new announcement for one of the agent's projects.
func (s *Service) DraftAnnouncement(ctx context.Context, a Actor, code string, in AnnouncementInput) (*Announcement, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	if in.Type.IsGenerated() {
		return nil, Invalid("type", "%s由%s的“开标与结果”页面生成，不能直接起草", in.Type.Name(), AnyLot)
	}
	var n *Announcement
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, err := s.ownProject(tx, a, code)
		if err != nil {
			return err
		}
		n, err = s.DraftAnnouncementTx(ctx, tx, a, p, in)
		return err
	})
	return n, err
}

// DraftAnnouncementTx writes a draft announcement of p inside tx: the body of
// DraftAnnouncement, for packages that generate announcements (bidding's
// candidate and result announcements) in their own transaction. The caller has
// checked that a may write for p.
func (s *Service) DraftAnnouncementTx(ctx context.Context, tx *gorm.DB, a Actor, p *Project, in AnnouncementInput) (*Announcement, error) {
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
		Status: AnnouncementDraft, Changes: changes, AuthorID: a.AccountID, CreatedAt: now, UpdatedAt: now}
	if in.Type == AnnouncementAmendment {
		n.AmendsID = &in.AmendsID
	}
	if err := tx.Omit(clause.Associations).Create(n).Error; err != nil {
		return nil, err
	}
	return n, Audit(tx, now, a, "announcement.draft", "announcement", fmt.Sprint(n.ID),
		fmt.Sprintf("项目 %s 起草%s“%s”", p.Code, in.Type.Name(), in.Title))
}

// checkTypeAllowed enforces which announcement may follow which.
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
	if in.Type == AnnouncementContract && p.Category != "procurement" {
		return Invalid("type", "合同公告只适用于政府采购项目（G13）")
	}
	if in.Type == AnnouncementAmendment {
		var orig Announcement
		err := tx.First(&orig, "id = ? AND project_id = ? AND status = ?", in.AmendsID, p.ID, AnnouncementPublished).Error
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
	p, err := LoadProject(tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "projects"}}), "code = ?", code)
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

// lockAnnouncement loads an announcement and its project for a workflow step.
func (s *Service) lockAnnouncement(tx *gorm.DB, id int64) (*Announcement, *Project, error) {
	var n Announcement
	if err := First(tx.Clauses(clause.Locking{Strength: "UPDATE"}), &n, "公告", id); err != nil {
		return nil, nil, err
	}
	p, err := LoadProject(tx, "id = ?", n.ProjectID)
	if err != nil {
		return nil, nil, err
	}
	return &n, p, nil
}

// lockOwnAnnouncement locks an announcement for a step only its project's agent
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

// UpdateAnnouncement edits a draft or a rejected announcement.
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
		if n.Status != AnnouncementDraft && n.Status != AnnouncementRejected {
			return Conflict("status", "%s的公告不能修改", n.Status.Name())
		}
		if in.Type != n.Type {
			return Invalid("type", "公告类型创建后不能修改")
		}
		if n.Type.IsGenerated() {
			// Its text states the lot's result record: change that, on the
			// lot's result page, and the announcement is written again from it.
			return Conflict("type", "%s由%s的“开标与结果”页面生成，不能直接修改；请在该页面重新确定后重新生成", n.Type.Name(), p.Category.LotNoun())
		}
		in.AmendsID = derefID(n.AmendsID)
		changes, err := changesFor(p, in.Changes)
		if err != nil {
			return err
		}
		n.Title, n.Body, n.BodyHTML, n.Changes, n.Status, n.UpdatedAt = in.Title, in.Body, RenderMarkdown(in.Body), changes, AnnouncementDraft, now
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
// now: an announcement whose schedule breaks a rule is refused with every
// violation listed, and stays a draft.
func (s *Service) SubmitAnnouncement(ctx context.Context, a Actor, id int64) (*Announcement, error) {
	var n *Announcement
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var p *Project
		var err error
		if n, p, err = s.lockOwnAnnouncement(tx, a, id); err != nil {
			return err
		}
		return s.SubmitAnnouncementTx(ctx, tx, a, n, p)
	})
	return n, err
}

// SubmitAnnouncementTx submits a draft or rejected announcement inside tx (the body of
// SubmitAnnouncement); n must be locked by the caller.
func (s *Service) SubmitAnnouncementTx(ctx context.Context, tx *gorm.DB, a Actor, n *Announcement, p *Project) error {
	now := s.Clock.Now()
	if n.Status != AnnouncementDraft && n.Status != AnnouncementRejected {
		return Conflict("status", "%s的公告不能提交", n.Status.Name())
	}
	res, err := s.checkRules(ctx, tx, p, n, now)
	if err != nil {
		return err
	} else if len(res.Violations) > 0 {
		return RuleViolations("提交公告", res.Violations).InCategory(p.Category)
	}
	n.RuleNotes = res.Notes
	n.Status, n.SubmittedAt, n.UpdatedAt, n.RejectReason = AnnouncementSubmitted, &now, now, ""
	if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
		return err
	}
	if err := PublishSupervision(ctx, tx, "announcement.submitted", FeedItem{At: now, Project: p.Code,
		Link: fmt.Sprintf("/supervisor/announcements/%d", n.ID), Text: "新公告待审核：" + p.Code + " " + n.Title}); err != nil {
		return err
	}
	return Audit(tx, now, a, "announcement.submit", "announcement", fmt.Sprint(n.ID), "提交审核：“"+n.Title+"”")
}

// RewriteAnnouncementTx replaces the title and body of a draft or rejected
// announcement inside tx (a regenerated candidate or result announcement).
func (s *Service) RewriteAnnouncementTx(tx *gorm.DB, a Actor, id int64, title, body string) (*Announcement, error) {
	in := AnnouncementInput{Type: AnnouncementResult, Title: title, Body: body}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var n Announcement
	if err := First(tx.Clauses(clause.Locking{Strength: "UPDATE"}), &n, "公告", id); err != nil {
		return nil, err
	}
	if n.Status != AnnouncementDraft && n.Status != AnnouncementRejected {
		return nil, Conflict("status", "公告已%s，不能重新生成；如需修改请先撤回", n.Status.Name())
	}
	now := s.Clock.Now()
	n.Title, n.Body, n.BodyHTML, n.UpdatedAt = in.Title, in.Body, RenderMarkdown(in.Body), now
	if err := tx.Omit(clause.Associations).Save(&n).Error; err != nil {
		return nil, err
	}
	return &n, Audit(tx, now, a, "announcement.update", "announcement", fmt.Sprint(n.ID), "重新生成公告“"+n.Title+"”")
}

// WithdrawAnnouncement takes a submitted or scheduled announcement back to draft.
func (s *Service) WithdrawAnnouncement(ctx context.Context, a Actor, id int64) error {
	now := s.Clock.Now()
	return Transact(ctx, s.DB, func(tx *gorm.DB) error {
		n, _, err := s.lockOwnAnnouncement(tx, a, id)
		if err != nil {
			return err
		}
		if n.Status != AnnouncementSubmitted && n.Status != AnnouncementScheduled {
			return Conflict("status", "%s的公告不能撤回", n.Status.Name())
		}
		n.Status, n.PublishAt, n.UpdatedAt = AnnouncementDraft, nil, now
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
		if n.Status != AnnouncementSubmitted {
			return Conflict("status", "只能审核待审核的公告（当前：%s）", n.Status.Name())
		}
		n.ReviewerID, n.ReviewedAt = &a.AccountID, &now
		if publishAt != nil && publishAt.After(now) {
			if res, err := s.checkRules(ctx, tx, p, n, *publishAt); err != nil {
				return err
			} else if len(res.Violations) > 0 {
				return RuleViolations("按定时发布", res.Violations).InCategory(p.Category)
			}
			n.Status, n.PublishAt, n.UpdatedAt = AnnouncementScheduled, publishAt, now
			if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
				return err
			}
			when := publishAt.In(Shanghai).Format("2006-01-02 15:04")
			if err := Notify(tx, now, Message{Title: "公告审核通过", Link: agentAnnouncementLink(p),
				Body: fmt.Sprintf("项目 %s 的%s《%s》已审核通过，定于 %s 发布。", p.Code, n.Type.Name(), n.Title, when)}, p.AgentID); err != nil {
				return err
			}
			return Audit(tx, now, a, "announcement.approve", "announcement", fmt.Sprint(n.ID), "审核通过，定于 "+when+" 发布")
		}
		if err := Notify(tx, now, Message{Title: "公告审核通过", Link: fmt.Sprintf("/notices/%d", n.ID),
			Body: fmt.Sprintf("项目 %s 的%s《%s》已审核通过并发布。", p.Code, n.Type.Name(), n.Title)}, p.AgentID); err != nil {
			return err
		}
		if err := Audit(tx, now, a, "announcement.approve", "announcement", fmt.Sprint(n.ID), "审核通过，立即发布"); err != nil {
			return err
		}
		return s.publish(ctx, tx, a, n, p, now)
	})
	return n, err
}

// RejectAnnouncement sends an announcement back to the agent with a reason.
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
		n, p, err := s.lockAnnouncement(tx, id)
		if err != nil {
			return err
		}
		if n.Status != AnnouncementSubmitted && n.Status != AnnouncementScheduled {
			return Conflict("status", "只能退回待审核或待发布的公告（当前：%s）", n.Status.Name())
		}
		n.Status, n.RejectReason, n.ReviewerID, n.ReviewedAt, n.PublishAt, n.UpdatedAt = AnnouncementRejected, reason, &a.AccountID, &now, nil, now
		if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
			return err
		}
		if err := Notify(tx, now, Message{Title: "公告被退回", Link: agentAnnouncementLink(p),
			Body: fmt.Sprintf("项目 %s 的%s《%s》被交易中心退回：%s", p.Code, n.Type.Name(), n.Title, reason)}, p.AgentID); err != nil {
			return err
		}
		return Audit(tx, now, a, "announcement.reject", "announcement", fmt.Sprint(n.ID), "退回：“"+reason+"”")
	})
}

// Announcement returns an announcement for its agent or a supervisor (any state),
// or for anyone once published.
func (s *Service) Announcement(ctx context.Context, a Actor, id int64) (*Announcement, *Project, error) {
	var n Announcement
	if err := First(s.DB.WithContext(ctx), &n, "公告", id); err != nil {
		return nil, nil, err
	}
	p, err := LoadProject(s.DB.WithContext(ctx), "id = ?", n.ProjectID)
	if err != nil {
		return nil, nil, err
	}
	if n.Status != AnnouncementPublished && !CanSeeSecrets(a, p) {
		return nil, nil, NotFound("公告")
	}
	return &n, p, nil
}

// ProjectAnnouncements lists a project's announcements: every one for its agent
// and supervisors, the published ones for everyone else.
func (s *Service) ProjectAnnouncements(ctx context.Context, a Actor, p *Project) ([]Announcement, error) {
	q := s.DB.WithContext(ctx).Where("project_id = ?", p.ID)
	if !CanSeeSecrets(a, p) {
		q = q.Where("status = ?", AnnouncementPublished)
	}
	var out []Announcement
	return out, q.Order("id").Find(&out).Error
}

// ReviewQueue lists the announcements waiting for a supervisor, oldest first.
func (s *Service) ReviewQueue(ctx context.Context, a Actor) ([]Announcement, error) {
	if a.Role != RoleSupervisor {
		return nil, Forbidden("只有交易中心监督可以审核公告")
	}
	var out []Announcement
	err := s.DB.WithContext(ctx).Preload("Project").Where("status IN ?", []AnnouncementStatus{AnnouncementSubmitted, AnnouncementScheduled}).
		Order("submitted_at, id").Limit(200).Find(&out).Error
	return out, err
}

// agentAnnouncementLink is where the agent finds a project's announcements.
func agentAnnouncementLink(p *Project) string { return "/agent/projects/" + p.Code }
