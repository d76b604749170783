package supervision

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ggzy/ggzy/trading"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading/live"
)

// On-site supervision (统一现场监督): the supervisor's dashboard, a
// project's timeline, and suspending a project (暂停/恢复).

// Service is on-site supervision over the trading service: the dashboard
// and the timelines read trading's tables and the sources that bidding and
// deposits contribute (trading.Service.Supervision, a hook cmd wires).
type Service struct{ *trading.Service }

// Dashboard limits: each list shows at most this many items and says when
// there are more.
const (
	dashboardScheduleLimit = 100
	dashboardReviewLimit   = 20
	dashboardAlertLimit    = 50
	dashboardAuditLimit    = 20
	timelineLimit          = 1000
)

// ScheduleItem is a moment of a lot on the supervisors' calendar: a bid
// opening, an auction, the end of registration, document issue or listing.
type ScheduleItem struct {
	At           time.Time `gorm:"column:at" json:"at"`
	Kind         string    `gorm:"column:kind" json:"kind"` // bid_opening, auction, registration_end, doc_issue_end, listing_end
	ProjectCode  string    `gorm:"column:project_code" json:"project_code"`
	ProjectTitle string    `gorm:"column:project_title" json:"project_title"`
	LotID        int64     `gorm:"column:lot_id" json:"lot_id"`
	LotSeq       int       `gorm:"column:lot_seq" json:"lot_seq"`
	LotName      string    `gorm:"column:lot_name" json:"lot_name"`
	// Category names the lot on the page (标段/包/地块/标的); the API keeps lot_seq.
	Category  trading.Category `gorm:"column:category" json:"-"`
	Place     string           `gorm:"column:place" json:"place,omitempty"`
	Suspended bool             `gorm:"column:suspended" json:"suspended"`
}

// KindName is the Chinese name of the moment.
func (i ScheduleItem) KindName() string {
	return map[string]string{"bid_opening": "开标", "auction": "拍卖", "registration_end": "报名截止",
		"doc_issue_end": "文件发售截止", "listing_end": "挂牌截止"}[i.Kind]
}

// ReviewItem is an announcement waiting for a supervisor (submitted or scheduled).
type ReviewItem struct {
	ID          int64                      `gorm:"column:id" json:"id"`
	Type        trading.AnnouncementType   `gorm:"column:type" json:"type"`
	Title       string                     `gorm:"column:title" json:"title"`
	Status      trading.AnnouncementStatus `gorm:"column:status" json:"status"`
	ProjectCode string                     `gorm:"column:project_code" json:"project_code"`
	SubmittedAt *time.Time                 `gorm:"column:submitted_at" json:"submitted_at,omitempty"`
	PublishAt   *time.Time                 `gorm:"column:publish_at" json:"publish_at,omitempty"`
}

// SuspendedProject is a project a supervisor has suspended.
type SuspendedProject struct {
	Code          string    `gorm:"column:code" json:"code"`
	Title         string    `gorm:"column:title" json:"title"`
	SuspendedAt   time.Time `gorm:"column:suspended_at" json:"suspended_at"`
	SuspendReason string    `gorm:"column:suspend_reason" json:"suspend_reason"`
}

// AuditItem is a recent audit record with the project it concerns, if
// any, so the dashboard can link it to the project's supervision page.
type AuditItem struct {
	trading.AuditEvent
	ProjectCode string `json:"project_code,omitempty"`
}

// codeInText finds a trading code (统一交易编码) in an audit summary: the
// records of registrations, documents and deposits name their project.
var codeInText = regexp.MustCompile(`\b[0-9]{6}-[0-9]{4}-[A-Z]{2}-[0-9]{4,}\b`)

// auditItems attaches project codes to audit records: by their object
// (project, announcement, lot), else by the code their summary names.
func auditItems(tx *gorm.DB, events []trading.AuditEvent) ([]AuditItem, error) {
	var announcements, lots []string
	for _, e := range events {
		switch e.ObjectType {
		case "announcement":
			announcements = append(announcements, e.ObjectID)
		case "lot":
			lots = append(lots, e.ObjectID)
		}
	}
	type pair struct {
		ID   string `gorm:"column:id"`
		Code string `gorm:"column:code"`
	}
	codes := map[string]string{}
	for _, q := range []struct {
		kind, sql string
		ids       []string
	}{{"announcement", "SELECT a.id::text AS id, p.code FROM announcements a JOIN projects p ON p.id = a.project_id WHERE a.id IN ?", announcements},
		{"lot", "SELECT l.id::text AS id, p.code FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id IN ?", lots}} {
		// Integer ids, so the primary keys are used (object ids are text).
		var ids []int64
		for _, x := range q.ids {
			if id, err := strconv.ParseInt(x, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		var rows []pair
		if err := tx.Raw(q.sql, ids).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			codes[q.kind+":"+r.ID] = r.Code
		}
	}
	out := make([]AuditItem, len(events))
	for i, e := range events {
		out[i] = AuditItem{AuditEvent: e, ProjectCode: codes[e.ObjectType+":"+e.ObjectID]}
		switch {
		case e.ObjectType == "project":
			out[i].ProjectCode = e.ObjectID
		case out[i].ProjectCode == "":
			out[i].ProjectCode = codeInText.FindString(e.Summary)
		}
	}
	return out, nil
}

// Section is one list of the dashboard with its count; More says the list
// was cut at its limit.
type Section[T any] struct {
	Count int64 `json:"count"`
	More  bool  `json:"more,omitempty"`
	Items []T   `json:"items"`
}

// Dashboard is the supervisor's page of what needs a look (统一现场监督).
type Dashboard struct {
	Now           time.Time                 `json:"now"`
	WeekStart     time.Time                 `json:"week_start"`
	Today         Section[ScheduleItem]     `json:"today"`
	Week          Section[ScheduleItem]     `json:"week"`
	Reviews       Section[ReviewItem]       `json:"reviews"`
	DepositAlerts Section[trading.Alert]    `json:"deposit_alerts"`
	RuleItems     Section[trading.Alert]    `json:"rule_items"`
	Suspended     Section[SuspendedProject] `json:"suspended"`
	Audit         Section[AuditItem]        `json:"audit"`
	LiveSeq       int64                     `json:"live_seq"` // the feed's last event when read (SupervisionTopic)
}

// dayStart is midnight in Shanghai of t's day.
func dayStart(t time.Time) time.Time {
	y, m, d := t.In(trading.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, trading.Shanghai)
}

// weekStart is Monday 00:00 in Shanghai of t's week.
func weekStart(t time.Time) time.Time {
	d := dayStart(t)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// schedule lists the moments of active projects' lots in [from, to), with
// their count.
func schedule(db *gorm.DB, from, to time.Time, limit int) (Section[ScheduleItem], error) {
	// Equivalent SQL: one row per (lot, moment) whose time falls in the range.
	q := db.Table("lots l").Joins("JOIN projects p ON p.id = l.project_id").
		Joins(`CROSS JOIN LATERAL (VALUES (l.bid_deadline, 'bid_opening'), (l.auction_at, 'auction'),
			(l.registration_end, 'registration_end'), (l.doc_issue_end, 'doc_issue_end'), (l.listing_end, 'listing_end')) x(at, kind)`).
		Where("p.status = ? AND x.at >= ? AND x.at < ?", trading.ProjectActive, from, to)
	var out Section[ScheduleItem]
	if err := q.Count(&out.Count).Error; err != nil {
		return out, err
	}
	err := q.Select(`x.at, x.kind, p.code AS project_code, p.title AS project_title, l.id AS lot_id, l.seq AS lot_seq,
		l.name AS lot_name, p.category, l.opening_place AS place, p.suspended_at IS NOT NULL AS suspended`).
		Order("x.at, l.id, x.kind").Limit(limit).Scan(&out.Items).Error
	out.More = out.Count > int64(len(out.Items))
	return out, err
}

// ruleOf finds the first rule id in a rule-book refusal message.
var ruleOf = regexp.MustCompile(`违反统一交易规则：([A-Z]+[0-9]*)`)

// returnedAnnouncements are the scheduled announcements the publisher sent back because
// they broke a rule at the moment of publication, still not redrafted.
func returnedAnnouncements(db *gorm.DB, limit int) ([]trading.Alert, error) {
	var rows []struct {
		ID           int64     `gorm:"column:id"`
		Title        string    `gorm:"column:title"`
		RejectReason string    `gorm:"column:reject_reason"`
		UpdatedAt    time.Time `gorm:"column:updated_at"`
		Code         string    `gorm:"column:code"`
	}
	err := db.Table("announcements a").Select("a.id, a.title, a.reject_reason, a.updated_at, p.code").
		Joins("JOIN projects p ON p.id = a.project_id").
		Where("a.status = ? AND a.reject_reason LIKE ?", trading.AnnouncementRejected, "定时发布时%").
		Order("a.updated_at DESC, a.id DESC").Limit(limit).Scan(&rows).Error
	out := make([]trading.Alert, len(rows))
	for i, r := range rows {
		out[i] = trading.Alert{Kind: "announcement_returned", Title: "定时发布的公告被退回：“" + r.Title + "”", Detail: r.RejectReason,
			ProjectCode: r.Code, At: r.UpdatedAt, Link: fmt.Sprintf("/supervisor/announcements/%d", r.ID)}
		if m := ruleOf.FindStringSubmatch(r.RejectReason); m != nil {
			out[i].Rule = m[1]
		}
	}
	return out, err
}

// supervisionLookAction marks the supervisors' looks at the dashboard and
// timelines, which the dashboard's recent-events list leaves out.
const supervisionLookAction = "supervision.view"

// Dashboard gathers what a supervisor should look at today: this week's
// openings, auctions and deadlines, announcements waiting for review, deposit
// alerts and rule-book items from the sources, suspended projects and the
// latest audit events. The audit events name who registered for what, so
// each look is itself recorded (K4/K5).
func (s *Service) Dashboard(ctx context.Context, a trading.Actor) (*Dashboard, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以查看现场监督工作台")
	}
	now := s.Clock.Now()
	d := &Dashboard{Now: now, WeekStart: weekStart(now)}
	// Read first: the live feed then brings whatever happens after.
	seq, err := live.Last(ctx, s.DB, trading.SupervisionTopic)
	if err != nil {
		return nil, err
	}
	d.LiveSeq = seq
	// Sources read outside the transaction: each on its own connection.
	for _, src := range s.Supervision {
		alerts, err := src.Alerts(ctx, now, dashboardAlertLimit+1)
		if err != nil {
			return nil, err
		}
		sec := &d.RuleItems
		if ss, ok := src.(trading.SectionedSource); ok && ss.Section() == trading.SectionDeposits {
			sec = &d.DepositAlerts
		}
		sec.Items = append(sec.Items, alerts...)
	}
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		today := dayStart(now)
		if d.Today, err = schedule(tx, today, today.AddDate(0, 0, 1), dashboardScheduleLimit); err != nil {
			return err
		}
		if d.Week, err = schedule(tx, d.WeekStart, d.WeekStart.AddDate(0, 0, 7), dashboardScheduleLimit); err != nil {
			return err
		}
		reviews := tx.Table("announcements a").Joins("JOIN projects p ON p.id = a.project_id").
			Where("a.status IN ?", []trading.AnnouncementStatus{trading.AnnouncementSubmitted, trading.AnnouncementScheduled})
		if err := reviews.Count(&d.Reviews.Count).Error; err != nil {
			return err
		}
		if err := reviews.Select("a.id, a.type, a.title, a.status, p.code AS project_code, a.submitted_at, a.publish_at").
			Order("a.submitted_at, a.id").Limit(dashboardReviewLimit).Scan(&d.Reviews.Items).Error; err != nil {
			return err
		}
		returned, err := returnedAnnouncements(tx, dashboardAlertLimit+1)
		if err != nil {
			return err
		}
		d.RuleItems.Items = append(returned, d.RuleItems.Items...)
		suspended := tx.Model(&trading.Project{}).Where("suspended_at IS NOT NULL AND status = ?", trading.ProjectActive)
		if err := suspended.Count(&d.Suspended.Count).Error; err != nil {
			return err
		}
		if err := suspended.Select("code, title, suspended_at, suspend_reason").Order("suspended_at DESC").
			Limit(dashboardAlertLimit).Scan(&d.Suspended.Items).Error; err != nil {
			return err
		}
		var recent []trading.AuditEvent
		// Looks are left out, and so are the events that name who
		// registered or downloaded (K4/K5): those are for the audit log and
		// the lot's registrant list, where each look is recorded per lot;
		// a sealed bid's are in the log once the lot's deadline has passed.
		if err := tx.Where("action NOT IN ? AND action NOT LIKE 'registration.%' AND action NOT LIKE 'document.download%' AND object_type <> 'sealed_bid'",
			[]string{supervisionLookAction, "audit.view"}).Order("id DESC").Limit(dashboardAuditLimit).
			Find(&recent).Error; err != nil {
			return err
		}
		if d.Audit.Items, err = auditItems(tx, recent); err != nil {
			return err
		}
		d.Audit.Count = int64(len(d.Audit.Items))
		return trading.Audit(tx, now, a, supervisionLookAction, "supervision", "dashboard", "查看现场监督工作台")
	})
	if err != nil {
		return nil, err
	}
	d.Suspended.More = d.Suspended.Count > int64(len(d.Suspended.Items))
	d.Reviews.More = d.Reviews.Count > int64(len(d.Reviews.Items))
	for _, sec := range []*Section[trading.Alert]{&d.DepositAlerts, &d.RuleItems} {
		sort.SliceStable(sec.Items, func(i, j int) bool { return sec.Items[i].At.After(sec.Items[j].At) })
		if len(sec.Items) > dashboardAlertLimit {
			sec.Items, sec.More = sec.Items[:dashboardAlertLimit], true
		}
		sec.Count = int64(len(sec.Items))
		if sec.Items == nil {
			sec.Items = []trading.Alert{}
		}
	}
	return d, nil
}

// ProjectTimeline is everything that happened to one project, in order.
type ProjectTimeline struct {
	Project   *trading.Project        `json:"-"`
	Events    []trading.TimelineEvent `json:"events"`
	Truncated bool                    `json:"truncated,omitempty"` // only the latest timelineLimit events are shown
}

// lotDeadline is the moment a lot's registrants stop being secret: the bid
// deadline; for land and property the auction or the close of listing
// (the same moment bidding.WindowOf calls Deadline).
func lotDeadline(cat trading.Category, l *trading.Lot) *time.Time {
	if cat == trading.Engineering || cat == trading.Procurement {
		return l.BidDeadline
	}
	for _, t := range []*time.Time{l.AuctionAt, l.ListingEnd, l.BidDeadline} {
		if t != nil {
			return t
		}
	}
	return nil
}

// Timeline merges a project's announcements, audit records and what the sources
// (registration, documents, deposits, results) report, sorted by time.
// The registration counts of a lot before its deadline are secret to all
// but supervisors (K4/K5), so such a look is audited per lot, as
// bidding's registrant list does.
func (s *Service) Timeline(ctx context.Context, a trading.Actor, code string) (*ProjectTimeline, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以查看项目监督时间线")
	}
	now := s.Clock.Now()
	p, err := trading.LoadProject(s.DB.WithContext(ctx), "code = ?", code)
	if err != nil {
		return nil, err
	}
	var events []trading.TimelineEvent
	for _, src := range s.Supervision {
		evs, err := src.Timeline(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		events = append(events, evs...)
	}
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var announcements []trading.Announcement
		if err := tx.Where("project_id = ?", p.ID).Order("id").Find(&announcements).Error; err != nil {
			return err
		}
		// The project's own records, its announcements' and its lots'.
		where, args := "(object_type = 'project' AND object_id = ?)", []any{p.Code}
		if len(announcements) > 0 {
			ids := make([]string, len(announcements))
			for i, n := range announcements {
				ids[i] = fmt.Sprint(n.ID)
				events = append(events, announcementEvents(&n)...)
			}
			where, args = where+" OR (object_type = 'announcement' AND object_id IN ?)", append(args, ids)
		}
		if len(p.Lots) > 0 {
			ids := make([]string, len(p.Lots))
			for i, l := range p.Lots {
				ids[i] = fmt.Sprint(l.ID)
			}
			where, args = where+" OR (object_type = 'lot' AND object_id IN ?)", append(args, ids)
		}
		var audit []trading.AuditEvent
		// Looks (this page's own, the registrant lists') would crowd out the
		// history: left out.
		if err := tx.Where("("+where+") AND action NOT IN ?", append(args, []string{supervisionLookAction, "registration.view", "audit.view"})...).
			Order("id DESC").Limit(timelineLimit).Find(&audit).Error; err != nil {
			return err
		}
		for _, e := range audit {
			events = append(events, trading.TimelineEvent{At: e.OccurredAt, Kind: "audit", Title: e.Summary,
				Detail: fmt.Sprintf("%s（%s） %s", e.Actor, trading.Label(trading.LabelRole, e.Role), trading.Label(trading.LabelAction, e.Action)),
				Link:   fmt.Sprintf("/supervisor/audit?object_type=%s&object_id=%s", e.ObjectType, e.ObjectID)})
		}
		if p.OpenedAt != nil {
			for i := range p.Lots {
				l := &p.Lots[i]
				if dl := lotDeadline(p.Category, l); dl == nil || now.Before(*dl) {
					if err := trading.Audit(tx, now, a, "registration.view", "lot", fmt.Sprint(l.ID),
						fmt.Sprintf("截止前在监督时间线查看项目 %s %s%d 的报名与保证金情况", p.Code, p.Category.LotNoun(), l.Seq)); err != nil {
						return err
					}
				}
			}
		}
		return trading.Audit(tx, now, a, supervisionLookAction, "project", p.Code, "查看项目监督时间线")
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
	t := &ProjectTimeline{Project: p, Events: events}
	if len(events) > timelineLimit {
		t.Events, t.Truncated = events[len(events)-timelineLimit:], true
	}
	if t.Events == nil {
		t.Events = []trading.TimelineEvent{}
	}
	return t, nil
}

// announcementEvents are the steps an announcement has taken, as far as its row tells.
func announcementEvents(n *trading.Announcement) []trading.TimelineEvent {
	link := fmt.Sprintf("/supervisor/announcements/%d", n.ID)
	name := n.Type.Name() + "“" + n.Title + "”"
	out := []trading.TimelineEvent{{At: n.CreatedAt, Kind: "announcement", Title: "起草" + name, Link: link}}
	if n.SubmittedAt != nil {
		out = append(out, trading.TimelineEvent{At: *n.SubmittedAt, Kind: "announcement", Title: "提交审核" + name, Link: link})
	}
	switch {
	case n.Status == trading.AnnouncementRejected && n.ReviewedAt != nil:
		out = append(out, trading.TimelineEvent{At: *n.ReviewedAt, Kind: "announcement", Title: "退回" + name, Detail: n.RejectReason, Link: link})
	case n.Status == trading.AnnouncementScheduled && n.PublishAt != nil:
		out = append(out, trading.TimelineEvent{At: *n.PublishAt, Kind: "announcement", Title: "定时发布" + name + "（待发布）", Link: link})
	}
	if n.PublishedAt != nil {
		out = append(out, trading.TimelineEvent{At: *n.PublishedAt, Kind: "announcement", Title: "发布" + name, Link: fmt.Sprintf("/notices/%d", n.ID)})
	}
	return out
}

// ErrNotSuspended is the refusal to resume a running project.
var ErrNotSuspended = fmt.Errorf("project not suspended: %w", trading.ErrConflict)

// Suspend stops an active project (暂停): until it is resumed,
// registration, uploads and results are refused with the reason
// (Project.CheckRunning). Supervisors only; audited.
func Suspend(ctx context.Context, s *trading.Service, a trading.Actor, code, reason string) (*trading.Project, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以暂停项目")
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 2 || n > 500 {
		return nil, trading.Invalid("reason", "暂停须写明理由（2至500个字符）")
	}
	if strings.IndexFunc(reason, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		return nil, trading.Invalid("reason", "理由不能包含控制字符")
	}
	now := s.Clock.Now()
	var p *trading.Project
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		if p, err = trading.LoadProject(tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "projects"}}), "code = ?", code); err != nil {
			return err
		}
		if p.Status != trading.ProjectActive {
			return trading.Conflict("status", "只能暂停进行中的项目（当前：%s）", p.Status.Name())
		}
		if p.SuspendedAt != nil {
			return trading.Conflict("status", "项目已于 %s 暂停：%s", p.SuspendedAt.In(trading.Shanghai).Format("2006-01-02 15:04"), p.SuspendReason)
		}
		// The project row is locked FOR UPDATE (above): a registration in
		// flight holds a key-share lock on it until it commits, so this
		// waits for it, and one that starts later waits for this and then
		// reads the suspension (bidding's lotLite).
		p.SuspendedAt, p.SuspendedBy, p.SuspendReason, p.UpdatedAt = &now, &a.AccountID, reason, now
		if err := tx.Model(&trading.Project{}).Where("id = ?", p.ID).Updates(map[string]any{
			"suspended_at": now, "suspended_by": a.AccountID, "suspend_reason": reason, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := trading.PublishSupervision(ctx, tx, "project.suspended", trading.FeedItem{At: now, Project: p.Code,
			Link: "/supervise/projects/" + p.Code, Text: "项目 " + p.Code + " 已暂停：" + reason}); err != nil {
			return err
		}
		for _, hook := range s.OnSuspension {
			if err := hook(ctx, tx, p, true, reason, now); err != nil {
				return err
			}
		}
		return trading.Audit(tx, now, a, "project.suspend", "project", p.Code, "暂停项目："+reason)
	})
	return p, err
}

// Resume lifts a suspension (恢复). note is an optional remark for
// the audit log.
func Resume(ctx context.Context, s *trading.Service, a trading.Actor, code, note string) (*trading.Project, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以恢复项目")
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > 500 {
		return nil, trading.Invalid("reason", "说明不超过500个字符")
	}
	now := s.Clock.Now()
	var p *trading.Project
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		if p, err = trading.LoadProject(tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "projects"}}), "code = ?", code); err != nil {
			return err
		}
		if p.SuspendedAt == nil {
			return trading.Conflict("status", "项目未暂停，无需恢复").Wrapping(ErrNotSuspended)
		}
		if p.Status != trading.ProjectActive {
			return trading.Conflict("status", "只能恢复进行中的项目（当前：%s）", p.Status.Name())
		}
		old := p.SuspendReason
		p.SuspendedAt, p.SuspendedBy, p.SuspendReason, p.UpdatedAt = nil, nil, "", now
		if err := tx.Model(&trading.Project{}).Where("id = ?", p.ID).Updates(map[string]any{
			"suspended_at": nil, "suspended_by": nil, "suspend_reason": "", "updated_at": now}).Error; err != nil {
			return err
		}
		for _, hook := range s.OnSuspension {
			if err := hook(ctx, tx, p, false, "", now); err != nil {
				return err
			}
		}
		summary := "恢复项目（原暂停理由：" + old + "）"
		if note != "" {
			summary += "：" + note
		}
		if err := trading.PublishSupervision(ctx, tx, "project.resumed", trading.FeedItem{At: now, Project: p.Code,
			Link: "/supervise/projects/" + p.Code, Text: "项目 " + p.Code + " 已恢复"}); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "project.resume", "project", p.Code, summary)
	})
	return p, err
}
