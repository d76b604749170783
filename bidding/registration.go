// Package bidding is unified online registration (统一网上报名) and tender
// documents online (网上下载标书): registering for a lot the way its
// category requires, the secrecy of who registered (K4/K5), the documents
// in MinIO with their clarifications, and each bidder's page of their
// registrations.
package bidding

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ggzy/ggzy/trading"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RegistrationKind is what registering means in a category (RULES.md K5).
type RegistrationKind string

const (
	KindDownload     RegistrationKind = "download"     // engineering: 获取文件登记 — obtaining the documents is the registration
	KindRegistration RegistrationKind = "registration" // procurement: 报名 with the supplier's declarations
	KindApplication  RegistrationKind = "application"  // land, property: 竞买申请, reviewed by the agent
)

// KindFor is the registration kind of a category.
func KindFor(c trading.Category) RegistrationKind {
	switch c {
	case trading.Engineering:
		return KindDownload
	case trading.Procurement:
		return KindRegistration
	}
	return KindApplication
}

// Name is the Chinese name of the kind.
func (k RegistrationKind) Name() string {
	return map[RegistrationKind]string{KindDownload: "获取招标文件登记", KindRegistration: "报名", KindApplication: "竞买申请"}[k]
}

// RegistrationStatus is where a registration stands.
type RegistrationStatus string

const (
	StatusActive    RegistrationStatus = "active"    // registered (engineering, procurement)
	StatusPending   RegistrationStatus = "pending"   // application waiting for the agent
	StatusApproved  RegistrationStatus = "approved"  // application approved: may bid once the deposit is paid
	StatusRejected  RegistrationStatus = "rejected"  // application rejected, with a reason
	StatusWithdrawn RegistrationStatus = "withdrawn" // withdrawn before the deadline (D6)
)

// Name is the Chinese name of the status.
func (s RegistrationStatus) Name() string {
	return map[RegistrationStatus]string{StatusActive: "已报名", StatusPending: "待审核", StatusApproved: "审核通过",
		StatusRejected: "未通过", StatusWithdrawn: "已撤回"}[s]
}

// Live reports whether the registration still counts.
func (s RegistrationStatus) Live() bool {
	return s == StatusActive || s == StatusPending || s == StatusApproved
}

// Registration is one bidder's registration for one lot.
type Registration struct {
	ID           int64              `gorm:"column:id;primaryKey" json:"id"`
	LotID        int64              `gorm:"column:lot_id" json:"lot_id"`
	BidderID     int64              `gorm:"column:bidder_id" json:"bidder_id"`
	Kind         RegistrationKind   `gorm:"column:kind" json:"kind"`
	Status       RegistrationStatus `gorm:"column:status" json:"status"`
	ContactName  string             `gorm:"column:contact_name" json:"contact_name"`
	ContactPhone string             `gorm:"column:contact_phone" json:"contact_phone"`
	Declarations json.RawMessage    `gorm:"column:declarations;type:jsonb" json:"declarations,omitempty"`
	RejectReason string             `gorm:"column:reject_reason" json:"reject_reason,omitempty"`
	ReviewedBy   *int64             `gorm:"column:reviewed_by" json:"-"`
	ReviewedAt   *time.Time         `gorm:"column:reviewed_at" json:"reviewed_at,omitempty"`
	WithdrawnAt  *time.Time         `gorm:"column:withdrawn_at" json:"withdrawn_at,omitempty"`
	CreatedAt    time.Time          `gorm:"column:created_at" json:"created_at"`
	UpdatedAt    time.Time          `gorm:"column:updated_at" json:"updated_at"`
}

func (Registration) TableName() string { return "registrations" }

// RegisterInput is what a bidder enters to register.
type RegisterInput struct {
	ContactName  string `json:"contact_name" form:"contact_name"`
	ContactPhone string `json:"contact_phone" form:"contact_phone"`
	// Declarations of a procurement supplier (政府采购法 22): each must be true.
	Declarations map[string]bool `json:"declarations"`
}

// ProcurementDeclarations are the supplier's statements of 政府采购法第二十二条.
var ProcurementDeclarations = []struct{ Key, Text string }{
	{"civil_capacity", "具有独立承担民事责任的能力"},
	{"good_reputation", "具有良好的商业信誉和健全的财务会计制度"},
	{"equipment", "具有履行合同所必需的设备和专业技术能力"},
	{"taxes", "有依法缴纳税收和社会保障资金的良好记录"},
	{"no_violation", "参加政府采购活动前三年内，在经营活动中没有重大违法记录"},
}

func (in *RegisterInput) validate(kind RegistrationKind) (json.RawMessage, error) {
	in.ContactName, in.ContactPhone = strings.TrimSpace(in.ContactName), strings.TrimSpace(in.ContactPhone)
	if strings.IndexFunc(in.ContactName, unicode.IsControl) >= 0 {
		return nil, trading.Invalid("contact_name", "联系人姓名不能含控制字符")
	}
	if strings.IndexFunc(in.ContactPhone, unicode.IsControl) >= 0 {
		return nil, trading.Invalid("contact_phone", "联系电话格式不正确")
	}
	if kind == KindDownload {
		return nil, nil // obtaining the documents needs nothing more (K5)
	}
	if n := utf8.RuneCountInString(in.ContactName); n < 2 || n > 50 {
		return nil, trading.Invalid("contact_name", "联系人姓名须为2至50个字符")
	}
	if n := len(in.ContactPhone); n < 7 || n > 20 || strings.Trim(in.ContactPhone, "0123456789-+ ") != "" {
		return nil, trading.Invalid("contact_phone", "联系电话格式不正确")
	}
	if kind != KindRegistration {
		return nil, nil
	}
	for _, d := range ProcurementDeclarations {
		if !in.Declarations[d.Key] {
			return nil, trading.Invalid("declarations."+d.Key, "须声明：%s（政府采购法第二十二条）", d.Text)
		}
	}
	b, _ := json.Marshal(in.Declarations)
	return b, nil
}

// Register registers the bidder for a lot the way its category requires.
// The database keeps one registration per bidder per lot.
func (s *Service) Register(ctx context.Context, a trading.Actor, lotID int64, in RegisterInput) (*Registration, error) {
	if a.Role != trading.RoleBidder {
		return nil, trading.Forbidden("只有投标人/竞买人可以报名")
	}
	now := s.Clock.Now()
	if reg, err := s.registerAtOnce(ctx, a, lotID, in, now); reg != nil || err != nil {
		return reg, err
	}
	var reg *Registration
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		reg, err = s.register(ctx, tx, a, lotID, in, now)
		return err
	})
	return reg, err
}

// registerAtOnce writes the common case, a first registration, without a
// transaction of five round trips of its own (BENCHMARKS.md,
// registration burst). It checks the lot and project as register does, on
// a copy kept for a second, then hands the registration to the batch
// writer (batch.go): one statement inserts it and its audit record only if
// both rows still have the versions that were checked, holding the same
// key-share lock on the project as register, so a suspension in between
// makes it write nothing. It returns nil and no error for what it leaves to
// register: a changed row, a bidder who already has a row (a withdrawn or
// rejected one comes back to life there), or a batch that failed (a hook's
// work is done in the batch's transaction).
func (s *Service) registerAtOnce(ctx context.Context, a trading.Actor, lotID int64, in RegisterInput, now time.Time) (*Registration, error) {
	row := s.lots.get(lotID)
	var adm admission
	var err error
	if row != nil {
		adm, err = admit(&row.P, &row.Lot, &in, now)
	}
	if row == nil || err != nil { // a refusal is never made on a kept copy
		if row, err = lotVersioned(s.DB.WithContext(ctx), lotID); err != nil {
			return nil, err
		}
		s.lots.put(row)
		if adm, err = admit(&row.P, &row.Lot, &in, now); err != nil {
			return nil, err
		}
	}
	var hooks []int // of s.OnRegister, run in the batch's transaction
	for i, hook := range s.OnRegister {
		if hook.Applies(&row.P, &row.Lot) {
			hooks = append(hooks, i)
		}
	}
	reg := &Registration{LotID: lotID, BidderID: a.AccountID, Kind: adm.kind, Status: adm.status, ContactName: in.ContactName,
		ContactPhone: in.ContactPhone, Declarations: adm.declarations, CreatedAt: now, UpdatedAt: now}
	audit := trading.AuditValuesOf(now, a, registeredSummary(adm.kind, &row.P, &row.Lot))
	written, err := s.batch.write(ctx, s, &regRequest{row: row, reg: reg, audit: audit, hooks: hooks})
	if err != nil {
		return nil, err // the caller gave up before a statement took it
	}
	if !written {
		s.lots.drop(lotID) // perhaps changed: register reads it again
		return nil, nil
	}
	return reg, nil
}

// lotCache keeps lots and their projects, as registerAtOnce read them, for
// a second: under a burst of registrations to one lot it is read once a
// second instead of once a registration. A stale entry can neither admit
// a registration (the insert checks the row versions it was read at, and
// a mismatch sends the registration through register, which reads
// afresh) nor refuse one (a refusal is checked again on a fresh read).
// Each instance keeps its own. Entries are shared: never modified.
type lotCache struct {
	TTL time.Duration // how long a copy is kept (zero: lotCacheTTL)
	mu  sync.Mutex
	m   map[int64]cachedLot
}

type cachedLot struct {
	row   *lotRow
	until time.Time // wall-clock time: how long to keep, not a business time
}

const (
	lotCacheTTL = time.Second
	lotCacheMax = 10000
)

func (c *lotCache) get(id int64) *lotRow {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok && time.Now().Before(e.until) {
		return e.row
	}
	return nil
}

func (c *lotCache) put(row *lotRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= lotCacheMax {
		c.m = map[int64]cachedLot{}
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = lotCacheTTL
	}
	c.m[row.ID] = cachedLot{row: row, until: time.Now().Add(ttl)}
}

func (c *lotCache) drop(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// admission is what a registration admitted by admit is.
type admission struct {
	kind         RegistrationKind
	status       RegistrationStatus
	declarations json.RawMessage
}

// admit checks that the bidder may register for the lot now, and what the
// registration is: its kind, first status and declarations. It trims in's
// contact fields.
func admit(p *trading.Project, lot *trading.Lot, in *RegisterInput, now time.Time) (admission, error) {
	opened := openedAt(p)
	if err := checkOpen(p, WindowOf(p, lot, opened), opened, now); err != nil {
		return admission{}, err
	}
	if err := p.CheckRunning(); err != nil { // suspended by a supervisor: say why
		return admission{}, err
	}
	kind := KindFor(p.Category)
	decl, err := in.validate(kind)
	if err != nil {
		return admission{}, err
	}
	adm := admission{kind: kind, status: StatusActive, declarations: decl}
	if kind == KindApplication {
		adm.status = StatusPending
	}
	return adm, nil
}

func registeredSummary(kind RegistrationKind, p *trading.Project, lot *trading.Lot) string {
	return fmt.Sprintf("%s：项目 %s %s%d（%s）", kind.Name(), p.Code, p.Category.LotNoun(), lot.Seq, lot.Name)
}

func (s *Service) register(ctx context.Context, tx *gorm.DB, a trading.Actor, lotID int64, in RegisterInput, now time.Time) (*Registration, error) {
	// A key-share lock on the project until commit: a suspension (FOR
	// UPDATE) waits for this registration, and a registration that comes
	// during one waits for it and then reads the suspended project. Key
	// share locks do not block each other, so a burst does not queue.
	p, lot, err := lotLite(tx, lotID, clause.Locking{Strength: "KEY SHARE", Table: clause.Table{Name: "p"}})
	if err != nil {
		return nil, err
	}
	adm, err := admit(p, lot, &in, now)
	if err != nil {
		return nil, err
	}
	kind, status, decl := adm.kind, adm.status, adm.declarations
	reg := &Registration{LotID: lot.ID, BidderID: a.AccountID, Kind: kind, Status: status, ContactName: in.ContactName,
		ContactPhone: in.ContactPhone, Declarations: decl, CreatedAt: now, UpdatedAt: now}
	// One row per bidder and lot, by the database. A withdrawn registration
	// comes back to life instead of a second row.
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(reg)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		var old Registration
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("lot_id = ? AND bidder_id = ?", lot.ID, a.AccountID).First(&old).Error; err != nil {
			return nil, err
		}
		if old.Status != StatusWithdrawn && old.Status != StatusRejected { // a rejected applicant may apply again
			return &old, trading.Conflict("lot_id", "您已%s，当前状态：%s", kind.Name(), old.Status.Name()).
				WithCode("already_registered").Wrapping(ErrAlreadyRegistered)
		}
		old.Status, old.ContactName, old.ContactPhone, old.Declarations = status, in.ContactName, in.ContactPhone, decl
		old.WithdrawnAt, old.RejectReason, old.ReviewedBy, old.ReviewedAt, old.UpdatedAt = nil, "", nil, nil, now
		if err := tx.Save(&old).Error; err != nil {
			return nil, err
		}
		reg = &old
	}
	w := WindowOf(p, lot, openedAt(p))
	for _, hook := range s.OnRegister {
		if hook.Applies(p, lot) {
			if err := hook.Run(ctx, tx, []Registered{{Reg: reg, P: p, Lot: lot, W: w}}); err != nil {
				return nil, err
			}
		}
	}
	return reg, trading.Audit(tx, now, a, "registration.create", "registration", fmt.Sprint(reg.ID), registeredSummary(kind, p, lot))
}

// Review approves or rejects a land or property application (the agent of
// the project, or a supervisor).
func (s *Service) Review(ctx context.Context, a trading.Actor, regID int64, approve bool, reason string) error {
	now := s.Clock.Now()
	reason = strings.TrimSpace(reason)
	if !approve && (utf8.RuneCountInString(reason) < 2 || utf8.RuneCountInString(reason) > 500) {
		return trading.Invalid("reason", "不予通过须写明理由（2至500个字符）")
	}
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var reg Registration
		if err := trading.First(tx.Clauses(clause.Locking{Strength: "UPDATE"}), &reg, "竞买申请", regID); err != nil {
			return err
		}
		p, lot, err := lotOf(tx, reg.LotID)
		if err != nil {
			return err
		}
		if !(a.Role == trading.RoleSupervisor || (a.Role == trading.RoleAgent && a.AccountID == p.AgentID)) {
			return trading.NotFound("竞买申请")
		}
		if reg.Kind != KindApplication {
			return trading.Invalid("id", "只有土地、产权项目的竞买申请需要审核")
		}
		if lot.PostQualification != "" && a.Role == trading.RoleAgent {
			// 资格后审 (issue 15 §2): the deposit admits; the agent checks the
			// winner after the bidding (bidding/auction), not the applicants
			// before. Only the priority-right holder, whom the announcement names
			// anyway, is reviewed before (it buys without a check, P7).
			var idNumber string
			if err := tx.Raw("SELECT id_number FROM bidders WHERE account_id = ?", reg.BidderID).Scan(&idNumber).Error; err != nil {
				return err
			}
			if lot.PriorityHolder == "" || idNumber != lot.PriorityHolder {
				return trading.Conflict("id", "本%s实行资格后审：竞价前不审核竞买申请，竞价结束后由代理机构审查竞得人资格", p.Category.LotNoun())
			}
		}
		if err := p.CheckRunning(); err != nil { // suspended: applications wait
			return err
		}
		if reg.Status != StatusPending {
			return trading.Conflict("status", "该申请当前为“%s”，不能审核", reg.Status.Name())
		}
		reg.ReviewedBy, reg.ReviewedAt, reg.UpdatedAt = &a.AccountID, &now, now
		action := "registration.approve"
		if approve {
			reg.Status = StatusApproved
		} else {
			reg.Status, reg.RejectReason, action = StatusRejected, reason, "registration.reject"
		}
		if err := tx.Save(&reg).Error; err != nil {
			return err
		}
		note := fmt.Sprintf("项目 %s %s%d（%s）的竞买申请%s", p.Code, p.Category.LotNoun(), lot.Seq, lot.Name, reg.Status.Name())
		if reason != "" {
			note += "：" + reason
		}
		if err := trading.Notify(tx, now, trading.Message{Title: "竞买申请" + reg.Status.Name(), Body: note,
			Link: fmt.Sprintf("/lots/%d", lot.ID)}, reg.BidderID); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, action, "registration", fmt.Sprint(reg.ID), note)
	})
}
