package trading

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading/rules"
)

// ProjectInput is what an agent enters for a project (API JSON or form).
type ProjectInput struct {
	Category     Category   `json:"category" form:"category"`
	SubType      SubType    `json:"sub_type" form:"sub_type"` // 交易子类; empty: the category's usual one
	Title        string     `json:"title" form:"title"`
	OwnerName    string     `json:"owner_name" form:"owner_name"`
	OwnerContact string     `json:"owner_contact" form:"owner_contact"`
	RegionCode   string     `json:"region_code" form:"region_code"`
	StateFunded  bool       `json:"state_funded" form:"state_funded"`
	Lots         []LotInput `json:"lots"`
}

// LotInput is a lot as entered. Amounts and times are strings so that the
// platform, not a JSON decoder, decides what is acceptable: amounts are
// strict yuan ("1234.50"), times are "2006-01-02T15:04" in Asia/Shanghai or
// RFC 3339.
type LotInput struct {
	Name             string `json:"name" form:"name"`
	ControlPrice     string `json:"control_price" form:"control_price"`
	EstimatedPrice   string `json:"estimated_price" form:"estimated_price"`
	Budget           string `json:"budget" form:"budget"`
	StartingPrice    string `json:"starting_price" form:"starting_price"`
	ReservePrice     string `json:"reserve_price" form:"reserve_price"`
	Increment        string `json:"increment" form:"increment"`
	ListingPrice     string `json:"listing_price" form:"listing_price"`
	AppraisedValue   string `json:"appraised_value" form:"appraised_value"`
	Deposit          string `json:"deposit" form:"deposit"`
	DocIssueStart    string `json:"doc_issue_start" form:"doc_issue_start"`
	DocIssueEnd      string `json:"doc_issue_end" form:"doc_issue_end"`
	RegistrationEnd  string `json:"registration_end" form:"registration_end"`
	BidDeadline      string `json:"bid_deadline" form:"bid_deadline"`
	ListingStart     string `json:"listing_start" form:"listing_start"`
	ListingEnd       string `json:"listing_end" form:"listing_end"`
	AuctionAt        string `json:"auction_at" form:"auction_at"`
	OpeningPlace     string `json:"opening_place" form:"opening_place"`
	Prequalification bool   `json:"prequalification" form:"prequalification"`
	SurveyDesign     bool   `json:"survey_design" form:"survey_design"`
	Relisting        bool   `json:"relisting" form:"relisting"`
	ListingApproved  bool   `json:"listing_approved" form:"listing_approved"`
	// Land and property: how the lot is sold (issue 15 §1): listing 挂牌,
	// auction 拍卖, multi 多次报价, sealed 一次报价, offline 线下.
	BiddingMode       string `json:"bidding_mode" form:"bidding_mode"`
	PriceCap          string `json:"price_cap" form:"price_cap"`
	IncrementMultiple bool   `json:"increment_multiple" form:"increment_multiple"`
	// Online lots: 资格后审 ("next": the next bidder if the winner fails,
	// "no_sale": 流拍; "" 资格前审) and the priority-right holder's credit
	// code or resident id (P7, property).
	PostQualification string `json:"post_qualification" form:"post_qualification"`
	PriorityHolder    string `json:"priority_holder" form:"priority_holder"`
}

// categoryCode is the category part of the unified trading code.
var categoryCode = map[Category]string{Engineering: "GC", Procurement: "CG", Land: "TD", Property: "CQ"}

// ParseTime reads a wall-clock time in Asia/Shanghai ("2006-01-02T15:04",
// "2006-01-02 15:04", with optional seconds) or an RFC 3339 time.
func ParseTime(field, s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, Shanghai); err == nil {
			return &t, nil
		}
	}
	return nil, Invalid(field, "时间格式应为 YYYY-MM-DDTHH:MM（北京时间）或 RFC 3339，实际为“%s”", s)
}

// parseMoney parses an optional amount exactly as sent: "" is absent, and
// anything else, " 100 " included, must pass ParseAmount.
func parseMoney(field, label, s string) (*decimal.Decimal, error) {
	if s == "" {
		return nil, nil
	}
	d, err := ParseAmount(s)
	if err != nil {
		var ae *AmountError
		if errors.As(err, &ae) {
			return nil, Invalid(field, "%s：%s", label, ae.Reason)
		}
		return nil, Invalid(field, "%s格式不正确", label)
	}
	return &d, nil
}

// moneyFields are the lot's amounts, each allowed only in its categories.
var moneyFields = []struct {
	field, label string
	cats         []Category // the categories the amount applies to
	required     []Category // those that cannot do without it (REQ at submission, refused empty at creation)
	get          func(*LotInput) string
	set          func(*Lot, *decimal.Decimal)
}{
	{"control_price", "招标控制价", []Category{Engineering}, []Category{Engineering}, func(l *LotInput) string { return l.ControlPrice }, func(l *Lot, d *decimal.Decimal) { l.ControlPrice = d }},
	{"estimated_price", "估算价", []Category{Engineering}, nil, func(l *LotInput) string { return l.EstimatedPrice }, func(l *Lot, d *decimal.Decimal) { l.EstimatedPrice = d }},
	{"budget", "预算金额", []Category{Procurement}, []Category{Procurement}, func(l *LotInput) string { return l.Budget }, func(l *Lot, d *decimal.Decimal) { l.Budget = d }},
	{"starting_price", "起始价", []Category{Land, Property}, []Category{Land}, func(l *LotInput) string { return l.StartingPrice }, func(l *Lot, d *decimal.Decimal) { l.StartingPrice = d }},
	{"reserve_price", "底价", []Category{Land, Property}, nil, func(l *LotInput) string { return l.ReservePrice }, func(l *Lot, d *decimal.Decimal) { l.ReservePrice = d }},
	{"increment", "加价幅度", []Category{Land, Property}, []Category{Land}, func(l *LotInput) string { return l.Increment }, func(l *Lot, d *decimal.Decimal) { l.Increment = d }},
	{"listing_price", "挂牌价", []Category{Property}, []Category{Property}, func(l *LotInput) string { return l.ListingPrice }, func(l *Lot, d *decimal.Decimal) { l.ListingPrice = d }},
	{"appraised_value", "评估值", []Category{Property}, []Category{Property}, func(l *LotInput) string { return l.AppraisedValue }, func(l *Lot, d *decimal.Decimal) { l.AppraisedValue = d }},
	{"price_cap", "最高限价", []Category{Land, Property}, nil, func(l *LotInput) string { return l.PriceCap }, func(l *Lot, d *decimal.Decimal) { l.PriceCap = d }},
}

// lotFromInput parses a lot of the given category; field names in errors
// are prefixed with the lot's position ("lots[1].bid_deadline").
func lotFromInput(cat Category, i int, in LotInput) (Lot, error) {
	prefix := fmt.Sprintf("lots[%d].", i)
	l := Lot{Seq: i + 1, Name: strings.TrimSpace(in.Name), OpeningPlace: strings.TrimSpace(in.OpeningPlace),
		Prequalification: in.Prequalification, SurveyDesign: in.SurveyDesign, Relisting: in.Relisting, ListingApproved: in.ListingApproved,
		BiddingMode: strings.TrimSpace(in.BiddingMode), IncrementMultiple: in.IncrementMultiple,
		PostQualification: strings.TrimSpace(in.PostQualification), PriorityHolder: strings.ToUpper(strings.TrimSpace(in.PriorityHolder))}
	if l.BiddingMode != "" && !containsCat([]Category{"land", "property"}, cat) {
		return l, Invalid(prefix+"bidding_mode", "竞价方式只适用于土地矿权出让和国有产权交易项目")
	}
	if l.BiddingMode != "" && !rules.ValidMode(cat, l.BiddingMode) {
		return l, Invalid(prefix+"bidding_mode", "竞价方式不正确：土地为 listing（挂牌）、auction（拍卖）或 offline（线下），产权为 multi（多次报价）、sealed（一次报价）或 offline（线下）")
	}
	if l.PostQualification != "" && rules.PostQualName(l.PostQualification) == "" {
		return l, Invalid(prefix+"post_qualification", "资格审查方式须为空（资格前审）、next（资格后审，不合格由下一顺位递补）或 no_sale（资格后审，不合格流拍）")
	}
	// The holder is matched to a signed-up bidder's id number (checked at
	// sign-up), so the form is enough here: 18 characters of a credit code
	// or a resident id.
	if l.PriorityHolder != "" && (len(l.PriorityHolder) != 18 || strings.Trim(l.PriorityHolder, creditCharset) != "") {
		return l, Invalid(prefix+"priority_holder", "优先购买权人须填写有效的统一社会信用代码或居民身份证号码（P7）")
	}
	if n := utf8.RuneCountInString(l.Name); n < 1 || n > 200 {
		return l, Invalid(prefix+"name", "%s名称须为1至200个字符", cat.LotNoun())
	}
	if utf8.RuneCountInString(l.OpeningPlace) > 200 {
		return l, Invalid(prefix+"opening_place", "开标地点不超过200个字符")
	}
	for _, m := range moneyFields {
		d, err := parseMoney(prefix+m.field, m.label, m.get(&in))
		if err != nil {
			return l, err
		}
		if d != nil && !containsCat(m.cats, cat) {
			return l, Invalid(prefix+m.field, "%s不适用于%s项目", m.label, cat.Name())
		}
		if d == nil && containsCat(m.required, cat) {
			// Refused here, naming the field, rather than only at submission (REQ).
			return l, Invalid(prefix+m.field, "%s项目须填写%s，不能为空", cat.Name(), m.label)
		}
		m.set(&l, d)
	}
	dep, err := parseMoney(prefix+"deposit", "保证金", in.Deposit)
	if err != nil && !errors.Is(err, ErrZeroAmount) {
		return l, err
	}
	if dep != nil {
		l.Deposit = *dep
	}
	times := []struct {
		field, value string
		dst          **time.Time
	}{
		{"doc_issue_start", in.DocIssueStart, &l.DocIssueStart}, {"doc_issue_end", in.DocIssueEnd, &l.DocIssueEnd},
		{"registration_end", in.RegistrationEnd, &l.RegistrationEnd}, {"bid_deadline", in.BidDeadline, &l.BidDeadline},
		{"listing_start", in.ListingStart, &l.ListingStart}, {"listing_end", in.ListingEnd, &l.ListingEnd},
		{"auction_at", in.AuctionAt, &l.AuctionAt},
	}
	for _, t := range times {
		if *t.dst, err = ParseTime(prefix+t.field, t.value); err != nil {
			return l, err
		}
	}
	return l, nil
}

func containsCat(cs []Category, c Category) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

func (in *ProjectInput) validate() error {
	in.Title, in.OwnerName = strings.TrimSpace(in.Title), strings.TrimSpace(in.OwnerName)
	in.OwnerContact, in.RegionCode = strings.TrimSpace(in.OwnerContact), strings.TrimSpace(in.RegionCode)
	if !in.Category.Valid() {
		return Invalid("category", "交易类别须为%s", CategoryChoices())
	}
	in.SubType = SubType(strings.TrimSpace(string(in.SubType)))
	if in.SubType == "" {
		in.SubType = defaultSubType(in.Category, in.Lots)
	}
	if !in.SubType.ValidFor(in.Category) {
		return Invalid("sub_type", "%s项目的交易子类须为%s", in.Category.Name(), subTypeChoices(in.Category))
	}
	if err := validateName("title", "项目名称", in.Title, 4, 200); err != nil {
		return err
	}
	if err := validateName("owner_name", "招标人/采购人/出让人", in.OwnerName, 2, 100); err != nil {
		return err
	}
	if utf8.RuneCountInString(in.OwnerContact) > 200 {
		return Invalid("owner_contact", "联系方式不超过200个字符")
	}
	if len(in.Lots) == 0 {
		return Invalid("lots", "至少需要一个%s", in.Category.LotNoun())
	}
	if len(in.Lots) > 100 {
		return Invalid("lots", "一个项目最多100个%s", in.Category.LotNoun())
	}
	return nil
}

// CanSeeSecrets tells whether the actor may see a project's reserve price:
// its own agent and supervisors only (E17, RULES.md secrecy).
func CanSeeSecrets(a Actor, p *Project) bool {
	return a.Role == RoleSupervisor || (a.Role == RoleAgent && a.AccountID == p.AgentID)
}

// CreateProject creates a draft project with its lots and a new trading
// code (统一交易编码: region + year + category + sequence).
func (s *Service) CreateProject(ctx context.Context, a Actor, in ProjectInput) (*Project, error) {
	if a.Role != RoleAgent {
		return nil, Forbidden("只有代理机构可以创建交易项目")
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	lots := make([]Lot, len(in.Lots))
	for i, li := range in.Lots {
		l, err := lotFromInput(in.Category, i, li)
		if err != nil {
			return nil, inCategory(err, in.Category)
		}
		lots[i] = l
	}
	now := s.Clock.Now()
	p := &Project{Category: in.Category, SubType: in.SubType, Title: in.Title, OwnerName: in.OwnerName, OwnerContact: in.OwnerContact,
		RegionCode: in.RegionCode, AgentID: a.AccountID, StateFunded: in.StateFunded, Status: ProjectDraft,
		CreatedAt: now, UpdatedAt: now}
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var region Region
		if err := First(tx, &region, "行政区划", "code = ?", in.RegionCode); errors.Is(err, ErrNotFound) {
			return Invalid("region_code", "行政区划代码“%s”不在本中心的区划表中", in.RegionCode)
		} else if err != nil {
			return err
		}
		code, err := nextTradingCode(tx, in.RegionCode, now.In(Shanghai).Year(), in.Category)
		if err != nil {
			return err
		}
		p.Code = code
		if err := tx.Omit(clause.Associations).Create(p).Error; err != nil {
			return err
		}
		for i := range lots {
			lots[i].ProjectID = p.ID
		}
		if err := tx.Create(&lots).Error; err != nil {
			return err
		}
		p.Lots, p.Region = lots, region
		return Audit(tx, now, a, "project.create", "project", p.Code,
			fmt.Sprintf("创建%s项目“%s”，%d个%s", in.Category.Name(), p.Title, len(lots), in.Category.LotNoun()))
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// nextTradingCode hands out the next sequence number under a row lock; the
// number is used by the project created in the same transaction, so a
// number is never given to two projects nor, once committed, again.
func nextTradingCode(tx *gorm.DB, region string, year int, cat Category) (string, error) {
	var seq int
	// Equivalent SQL: INSERT ... VALUES (region, year, cat, 1) ON CONFLICT DO
	// UPDATE SET last_seq = last_seq + 1 RETURNING last_seq
	err := tx.Raw(`INSERT INTO trading_code_counters (region_code, year, category, last_seq) VALUES (?, ?, ?, 1)
		ON CONFLICT (region_code, year, category) DO UPDATE SET last_seq = trading_code_counters.last_seq + 1
		RETURNING last_seq`, region, year, string(cat)).Scan(&seq).Error
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%d-%s-%04d", region, year, categoryCode[cat], seq), nil
}

// UpdateProject replaces a draft project's fields and lots. Once an announcement
// is published the project changes only through amendment announcements.
func (s *Service) UpdateProject(ctx context.Context, a Actor, code string, in ProjectInput) (*Project, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var p Project
	err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if err := First(tx.Clauses(clause.Locking{Strength: "UPDATE"}), &p, "交易项目", "code = ?", code); err != nil {
			return err
		}
		if a.Role != RoleAgent || p.AgentID != a.AccountID {
			return Forbidden("只有项目的代理机构可以修改项目")
		}
		if p.Status != ProjectDraft {
			return Conflict("status", "项目已发布公告，不能直接修改；请发布变更公告")
		}
		if in.Category != p.Category {
			return Invalid("category", "交易类别创建后不能修改")
		}
		var pending int64
		if err := tx.Model(&Announcement{}).Where("project_id = ? AND status IN ('submitted','scheduled')", p.ID).Count(&pending).Error; err != nil {
			return err
		}
		if pending > 0 {
			return Conflict("status", "项目有待审核或待发布的公告，修改前请先撤回")
		}
		lots := make([]Lot, len(in.Lots))
		for i, li := range in.Lots {
			l, err := lotFromInput(p.Category, i, li)
			if err != nil {
				return inCategory(err, p.Category)
			}
			l.ProjectID = p.ID
			lots[i] = l
		}
		var region Region
		if err := tx.First(&region, "code = ?", in.RegionCode).Error; err != nil {
			return Invalid("region_code", "行政区划代码“%s”不在本中心的区划表中", in.RegionCode)
		}
		p.SubType, p.Title, p.OwnerName, p.OwnerContact, p.RegionCode, p.StateFunded, p.UpdatedAt =
			in.SubType, in.Title, in.OwnerName, in.OwnerContact, in.RegionCode, in.StateFunded, now
		if err := tx.Omit(clause.Associations).Save(&p).Error; err != nil {
			return err
		}
		// Lots are updated in place by position (documents may already
		// refer to them), added, or removed if nothing refers to them.
		var old []Lot
		if err := tx.Where("project_id = ?", p.ID).Order("seq").Find(&old).Error; err != nil {
			return err
		}
		for i := range lots {
			if i < len(old) {
				lots[i].ID = old[i].ID
				if err := tx.Save(&lots[i]).Error; err != nil {
					return err
				}
			} else if err := tx.Create(&lots[i]).Error; err != nil {
				return err
			}
		}
		for _, l := range old[min(len(old), len(lots)):] {
			if err := tx.Delete(&Lot{}, l.ID).Error; err != nil {
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "23503" {
					return Conflict(fmt.Sprintf("lots[%d]", l.Seq-1), "%s%d（%s）已上传文件，不能删除", p.Category.LotNoun(), l.Seq, l.Name).InCategory(p.Category)
				}
				return err
			}
		}
		p.Lots, p.Region = lots, region
		return Audit(tx, now, a, "project.update", "project", p.Code, fmt.Sprintf("修改项目“%s”，%d个%s", p.Title, len(lots), p.Category.LotNoun()))
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// DeleteProject deletes a draft project: only its agent, only while no
// announcement of it has been published (status draft) and none waits for review
// or publication. Its draft and rejected announcements and its lots go with it.
// A lot that already has uploaded documents keeps the project (documents
// are the record of what was uploaded, and are never deleted). Audited.
func (s *Service) DeleteProject(ctx context.Context, a Actor, code string) error {
	now := s.Clock.Now()
	return Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var p Project
		if err := First(tx.Clauses(clause.Locking{Strength: "UPDATE"}), &p, "交易项目", "code = ?", code); err != nil {
			return err
		}
		if a.Role != RoleAgent || p.AgentID != a.AccountID {
			if a.Role == RoleAgent {
				return NotFound("交易项目") // another agent's draft does not exist for this one
			}
			return Forbidden("只有项目的代理机构可以删除项目")
		}
		if p.Status != ProjectDraft {
			return Conflict("status", "项目已发布公告，不能删除；需要停止交易的，请发布终止公告")
		}
		// The announcements locked as a submission locks its announcement: a submission
		// racing this deletion either went first (and is seen here) or
		// waits and then finds its announcement gone.
		var announcements []Announcement
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "status").Where("project_id = ?", p.ID).
			Order("id").Find(&announcements).Error; err != nil {
			return err
		}
		for _, n := range announcements {
			if n.Status != AnnouncementDraft && n.Status != AnnouncementRejected {
				return Conflict("status", "项目有待审核或待发布的公告，删除前请先撤回")
			}
		}
		var lots []Lot
		if err := tx.Where("project_id = ?", p.ID).Order("seq").Find(&lots).Error; err != nil {
			return err
		}
		ids := make([]int64, len(lots))
		for i, l := range lots {
			ids[i] = l.ID
		}
		// Equivalent SQL: DELETE FROM announcements WHERE project_id = ? AND status IN ('draft', 'rejected')
		if err := tx.Where("project_id = ? AND status IN ?", p.ID, []AnnouncementStatus{AnnouncementDraft, AnnouncementRejected}).
			Delete(&Announcement{}).Error; err != nil {
			return err
		}
		if len(ids) > 0 {
			// A paper-bids declaration is a property of the lot, gone with it.
			if err := tx.Exec("DELETE FROM paper_bid_lots WHERE lot_id IN ?", ids).Error; err != nil {
				return err
			}
			if err := tx.Where("id IN ?", ids).Delete(&Lot{}).Error; err != nil {
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "23503" {
					return Conflict("lots", "项目的%s已上传文件，不能删除项目", p.Category.LotNoun())
				}
				return err
			}
		}
		if err := tx.Delete(&Project{}, p.ID).Error; err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23503" { // an announcement drafted meanwhile
				return Conflict("status", "项目刚有新的公告草稿，请刷新后再删除")
			}
			return err
		}
		return Audit(tx, now, a, "project.delete", "project", p.Code,
			fmt.Sprintf("删除草稿项目“%s”（%s，%d个%s，%d份未发布公告）", p.Title, p.Category.Name(), len(lots), p.Category.LotNoun(), len(announcements)))
	})
}

// LoadProject reads a project with its region, agent and lots.
func LoadProject(tx *gorm.DB, where string, arg any) (*Project, error) {
	var p Project
	err := First(tx.Preload("Region").Preload("Agent").Preload("Lots", func(db *gorm.DB) *gorm.DB { return db.Order("seq") }).
		Select(projectColumns).Where(where, arg), &p, "交易项目")
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Project returns a project for its agent or a supervisor. Others get 404
// rather than 403 for drafts, so a draft's existence does not leak.
func (s *Service) Project(ctx context.Context, a Actor, code string) (*Project, error) {
	p, err := LoadProject(s.DB.WithContext(ctx), "code = ?", code)
	if err != nil {
		return nil, err
	}
	if !CanSeeSecrets(a, p) {
		return nil, NotFound("交易项目")
	}
	return p, nil
}

// ProjectFilter selects projects for the agent's and supervisors' lists.
type ProjectFilter struct {
	Category Category
	Status   ProjectStatus
	Query    string
	Offset   int
	Limit    int
}

// ListProjects returns the actor's own projects (agents) or all (supervisors).
func (s *Service) ListProjects(ctx context.Context, a Actor, f ProjectFilter) ([]Project, int64, error) {
	q := s.DB.WithContext(ctx).Model(&Project{})
	switch a.Role {
	case RoleAgent:
		q = q.Where("agent_id = ?", a.AccountID)
	case RoleSupervisor, RoleAdmin:
	default:
		return nil, 0, Forbidden("只有代理机构和交易中心监督可以查看项目列表")
	}
	if f.Category != "" {
		q = q.Where("category = ?", f.Category)
	}
	switch f.Status {
	case "":
	case ProjectCompleted: // a label, not a column value: finished projects
		q = q.Where(projectFinished)
	case ProjectActive:
		q = q.Where("status = ? AND NOT "+projectFinished, f.Status)
	default:
		q = q.Where("status = ?", f.Status)
	}
	if f.Query != "" {
		q = q.Where("title ILIKE ? OR code ILIKE ?", "%"+EscapeLike(f.Query)+"%", "%"+EscapeLike(f.Query)+"%")
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 20
	}
	var out []Project
	err := q.Preload("Region").Preload("Agent").Select(projectColumns).Order("id DESC").Offset(f.Offset).Limit(f.Limit).Find(&out).Error
	return out, total, err
}

// EscapeLike escapes LIKE's wildcards so user text matches literally.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// RegionPrefix is the LIKE pattern of a region and the regions under it:
// it turns 350000 into "35%" and 350100 into "3501%".
func RegionPrefix(code string) string {
	switch {
	case strings.HasSuffix(code, "0000"):
		return code[:2] + "%"
	case strings.HasSuffix(code, "00"):
		return code[:4] + "%"
	}
	return code
}

// Regions lists the regions of the centre's area (GGZY_AREA, region.go)
// for select boxes. The table is reference data changed only by
// migrations, so it is read once a minute, not per page.
func (s *Service) Regions(ctx context.Context) ([]Region, error) {
	s.regionsMu.Lock()
	defer s.regionsMu.Unlock()
	if s.regions != nil && s.Clock.Now().Before(s.regionsUntil) {
		return s.regions, nil
	}
	area := s.area
	if area == "" {
		area = DefaultArea
	}
	var out []Region
	// Equivalent SQL: SELECT * FROM regions WHERE code LIKE '35%' ORDER BY code
	if err := s.DB.WithContext(ctx).Where("code LIKE ?", RegionPrefix(area)).Order("code").Find(&out).Error; err != nil {
		return nil, err
	}
	s.regions, s.regionsUntil = out, s.Clock.Now().Add(time.Minute)
	return out, nil
}
