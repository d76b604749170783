package bidding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
)

// Service is registration and tender documents.
type Service struct {
	DB      *gorm.DB
	Clock   trading.Clock
	Trading *trading.Service
	Storage *trading.Storage
	Log     *slog.Logger
	// MaxUpload bounds one uploaded file (default 500 MB).
	MaxUpload int64
	// OnRegister runs inside the transaction of a new or revived
	// registration: how deposits opens its virtual account without bidding
	// importing it. An error rolls the registration back.
	OnRegister []RegisterHook
	// OnWithdraw runs inside the transaction of a withdrawal (D6 refunds).
	OnWithdraw []func(tx *gorm.DB, reg *Registration, p *trading.Project, lot *trading.Lot) error
	// OnResult runs inside the transaction of a result event (failure,
	// award, contract, sale): deposits refunds and converts on it.
	OnResult []func(tx *gorm.DB, ev ResultEvent) error
	// DepositCovered tells whether a registration's deposit is paid or
	// guaranteed (deposits provides it): a land or property buyer must be.
	DepositCovered func(tx *gorm.DB, registrationID int64) (bool, string, error)

	lots  lotCache   // lots as registerAtOnce last read them
	batch regBatcher // first registrations written together
}

// RegisterHook is work done in the transaction of new registrations to a
// lot it Applies to (deposits opens the virtual accounts of a lot that asks
// for a deposit). Run is given the registrations written together: one,
// or under a burst those of one statement (batch.go).
type RegisterHook struct {
	Applies func(p *trading.Project, lot *trading.Lot) bool
	Run     func(tx *gorm.DB, regs []Registered) error
}

// Registered is a registration just written, with the lot and project it
// was admitted on and its window.
type Registered struct {
	Reg *Registration
	P   *trading.Project
	Lot *trading.Lot
	W   Window
}

// DefaultMaxUpload is the size limit of one document.
const DefaultMaxUpload = 500 << 20

// NewService wires registration to the trading service (whose clock it
// shares) and the object store, and hooks into publication.
func NewService(ts *trading.Service, st *trading.Storage) *Service {
	s := &Service{DB: ts.DB, Clock: ts.Clock, Trading: ts, Storage: st, Log: ts.Log, MaxUpload: DefaultMaxUpload}
	ts.OnPublish = append(ts.OnPublish, s.onPublish, s.onResultPublished)
	ts.CheckNotice = append(ts.CheckNotice, s.checkNotice)
	ts.LotAwards = s.lotAwards
	return s
}

// Errors of registration.
var (
	ErrClosed            = errors.New("registration closed")
	ErrAlreadyRegistered = errors.New("already registered")
)

// lotOf loads a lot and its project (with lots, region, agent).
func lotOf(tx *gorm.DB, lotID int64) (*trading.Project, *trading.Lot, error) {
	var lot trading.Lot
	if err := tx.First(&lot, lotID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, trading.NotFound("标段")
		}
		return nil, nil, err
	}
	var p trading.Project
	err := tx.Preload("Region").Preload("Agent").Preload("Lots", func(db *gorm.DB) *gorm.DB { return db.Order("seq") }).
		First(&p, lot.ProjectID).Error
	if err != nil {
		return nil, nil, err
	}
	return &p, &lot, nil
}

// Window is when a lot takes registrations and when bidding closes.
type Window struct {
	Opens    time.Time // documents first obtainable / applications accepted
	Closes   time.Time // last moment to register
	Deadline time.Time // bid deadline, listing end or auction: withdrawal ends, names may be seen
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func first(ts ...*time.Time) time.Time {
	for _, t := range ts {
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

// WindowOf derives a lot's registration window from its schedule:
// engineering registers by obtaining the documents during the issue period
// (E2, K5); procurement until the registration or issue end; land and
// property take applications from the notice until the registration end or
// the close of listing.
func WindowOf(p *trading.Project, lot *trading.Lot, opened time.Time) Window {
	switch p.Category {
	case "engineering":
		return Window{Opens: first(lot.DocIssueStart, &opened), Closes: first(lot.RegistrationEnd, lot.DocIssueEnd, lot.BidDeadline),
			Deadline: deref(lot.BidDeadline)}
	case "procurement":
		return Window{Opens: first(lot.DocIssueStart, &opened), Closes: first(lot.RegistrationEnd, lot.DocIssueEnd, lot.BidDeadline),
			Deadline: deref(lot.BidDeadline)}
	}
	return Window{Opens: opened, Closes: first(lot.RegistrationEnd, lot.ListingEnd, lot.AuctionAt, lot.BidDeadline),
		Deadline: first(lot.AuctionAt, lot.ListingEnd, lot.BidDeadline)}
}

// openedAt is when the project's opening notice was published (zero: not).
func openedAt(p *trading.Project) time.Time { return deref(p.OpenedAt) }

// lotLite loads a lot and its project without the project's other lots,
// region and agent: what registering and downloading need, in one query.
func lotLite(tx *gorm.DB, lotID int64, keyShare ...clause.Expression) (*trading.Project, *trading.Lot, error) {
	row, err := lotVersioned(tx, lotID, keyShare...)
	if err != nil {
		return nil, nil, err
	}
	return &row.P, &row.Lot, nil
}

// lotRow is a lot and its project as lotLite reads them, with the row
// versions (xmin) they were read at: a later statement that finds the same
// versions sees the same rows.
type lotRow struct {
	trading.Lot
	P        trading.Project `gorm:"embedded;embeddedPrefix:p_"`
	LotXmin  string          `gorm:"column:lot_xmin"`
	ProjXmin string          `gorm:"column:project_xmin"`
}

func lotVersioned(tx *gorm.DB, lotID int64, keyShare ...clause.Expression) (*lotRow, error) {
	var row lotRow
	// Equivalent SQL: SELECT l.*, p.* (prefixed p_) FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?
	err := tx.Table("lots l").Select(`l.*, p.id AS p_id, p.code AS p_code, p.category AS p_category, p.title AS p_title,
		p.owner_name AS p_owner_name, p.region_code AS p_region_code, p.agent_id AS p_agent_id, p.status AS p_status,
		p.opened_at AS p_opened_at, p.suspended_at AS p_suspended_at, p.suspended_by AS p_suspended_by,
		p.suspend_reason AS p_suspend_reason, l.xmin::text AS lot_xmin, p.xmin::text AS project_xmin`).
		Joins("JOIN projects p ON p.id = l.project_id").Where("l.id = ?", lotID).Clauses(keyShare...).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, trading.NotFound("标段")
	}
	if err != nil {
		return nil, err
	}
	return &row, nil
}

// checkOpen refuses registration outside the window, for unpublished or
// terminated projects, with the reason in Chinese.
func checkOpen(p *trading.Project, w Window, opened, now time.Time) error {
	switch {
	case opened.IsZero() || p.Status == trading.ProjectDraft:
		return trading.NotFound("标段") // a draft is not public: it does not exist for bidders
	case p.Status == trading.ProjectTerminated:
		return &trading.Error{Status: 409, Code: "closed", Message: "该项目已终止，不再接受报名", Err: ErrClosed}
	case now.Before(w.Opens):
		return &trading.Error{Status: 409, Code: "closed", Message: "报名尚未开始，开始时间为 " + w.Opens.In(trading.Shanghai).Format("2006-01-02 15:04"), Err: ErrClosed}
	case !w.Closes.IsZero() && !now.Before(w.Closes):
		return &trading.Error{Status: 409, Code: "closed", Message: "报名已截止（截止时间 " + w.Closes.In(trading.Shanghai).Format("2006-01-02 15:04") + "）", Err: ErrClosed}
	}
	return nil
}

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
		reg, err = s.register(tx, a, lotID, in, now)
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
	return fmt.Sprintf("%s：项目 %s 标段%d（%s）", kind.Name(), p.Code, lot.Seq, lot.Name)
}

func (s *Service) register(tx *gorm.DB, a trading.Actor, lotID int64, in RegisterInput, now time.Time) (*Registration, error) {
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
			return &old, &trading.Error{Status: 409, Code: "already_registered", Field: "lot_id",
				Message: "您已" + kind.Name() + "，当前状态：" + old.Status.Name(), Err: ErrAlreadyRegistered}
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
			if err := hook.Run(tx, []Registered{{Reg: reg, P: p, Lot: lot, W: w}}); err != nil {
				return nil, err
			}
		}
	}
	return reg, trading.Audit(tx, now, a, "registration.create", "registration", fmt.Sprint(reg.ID), registeredSummary(kind, p, lot))
}

// Withdraw withdraws a registration before the deadline (D6: the deposit is
// refunded within 5 days of the notice).
func (s *Service) Withdraw(ctx context.Context, a trading.Actor, lotID int64) error {
	now := s.Clock.Now()
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, err := lotOf(tx, lotID)
		if err != nil {
			return err
		}
		var reg Registration
		err = tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).First(&reg).Error
		if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !reg.Status.Live()) {
			return trading.NotFound("报名记录")
		}
		if err != nil {
			return err
		}
		opened := openedAt(p)
		if w := WindowOf(p, lot, opened); !w.Deadline.IsZero() && !now.Before(w.Deadline) {
			return trading.RuleBroken("D7", "lot_id", "投标截止后不能撤回；截止后撤回投标的，保证金可不予退还（D7，实施条例第三十五条）")
		}
		reg.Status, reg.WithdrawnAt, reg.UpdatedAt = StatusWithdrawn, &now, now
		if err := tx.Save(&reg).Error; err != nil {
			return err
		}
		for _, hook := range s.OnWithdraw {
			if err := hook(tx, &reg, p, lot); err != nil {
				return err
			}
		}
		return trading.Audit(tx, now, a, "registration.withdraw", "registration", fmt.Sprint(reg.ID),
			fmt.Sprintf("撤回%s：项目 %s 标段%d（D6）", reg.Kind.Name(), p.Code, lot.Seq))
	})
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
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&reg, regID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return trading.NotFound("竞买申请")
			}
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
		note := fmt.Sprintf("项目 %s 标段%d（%s）的竞买申请%s", p.Code, lot.Seq, lot.Name, reg.Status.Name())
		if reason != "" {
			note += "：" + reason
		}
		if err := tx.Create(&Notification{AccountID: reg.BidderID, Title: "竞买申请" + reg.Status.Name(), Body: note,
			Link: fmt.Sprintf("/lots/%d", lot.ID), CreatedAt: now}).Error; err != nil {
			return err
		}
		return trading.Audit(tx, now, a, action, "registration", fmt.Sprint(reg.ID), note)
	})
}

// RegistrantView is a registration as the agent or a supervisor sees it.
type RegistrantView struct {
	Registration
	BidderName string `json:"bidder_name"`
	IDNumber   string `json:"id_number"`
	Downloads  int    `json:"downloads"`
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
			if beforeDeadline && KindFor(p.Category) != KindApplication {
				return trading.Forbidden("投标截止前不得查看获取招标文件或报名的单位名称和数量（K4/K5，招标投标法第二十二条）")
			}
		default:
			return trading.NotFound("标段")
		}
		// Equivalent SQL: SELECT r.*, b.name, b.id_number, count(downloads) FROM registrations r
		//   JOIN bidders b ON b.account_id = r.bidder_id WHERE r.lot_id = ? ORDER BY r.id
		err = tx.Table("registrations r").Select(`r.*, b.name AS bidder_name, b.id_number,
			(SELECT count(*) FROM downloads d JOIN documents doc ON doc.id = d.document_id
			  WHERE doc.lot_id = r.lot_id AND d.account_id = r.bidder_id) AS downloads`).
			Joins("JOIN bidders b ON b.account_id = r.bidder_id").Where("r.lot_id = ?", lotID).Order("r.id").Scan(&out).Error
		if err != nil {
			return err
		}
		// Every look at registrants before the deadline is audited: the
		// supervisors', and the agent's at the applications it reviews.
		if beforeDeadline {
			return trading.Audit(tx, now, a, "registration.view", "lot", fmt.Sprint(lotID),
				fmt.Sprintf("截止前查看项目 %s 标段%d 报名名单（%d家）", p.Code, lot.Seq, len(out)))
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
}

// outcomeFor tells a bidder how a lot ended for them, once it is public
// (the result notice published, or the lot failed); "" before.
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
	if err := db.Where("bidder_id = ?", a.AccountID).Order("id DESC").Limit(200).Find(&regs).Error; err != nil {
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
		out = append(out, m)
	}
	return out, nil
}

// Notifications lists a person's notifications, newest first.
func (s *Service) Notifications(ctx context.Context, a trading.Actor) ([]Notification, error) {
	var out []Notification
	return out, s.DB.WithContext(ctx).Where("account_id = ?", a.AccountID).Order("id DESC").Limit(100).Find(&out).Error
}

// MarkRead marks all of a person's notifications read.
func (s *Service) MarkRead(ctx context.Context, a trading.Actor) error {
	return s.DB.WithContext(ctx).Model(&Notification{}).Where("account_id = ? AND read_at IS NULL", a.AccountID).
		Update("read_at", s.Clock.Now()).Error
}

// onPublish releases documents with a publication: the originals with the
// opening notice, a clarification's new version with its amendment, whose
// registrants are told a newer version exists.
func (s *Service) onPublish(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project) error {
	if !n.Type.IsOpening() && n.Type != trading.NoticeAmendment {
		return nil
	}
	lotIDs := make([]int64, len(p.Lots))
	for i, l := range p.Lots {
		lotIDs[i] = l.ID
	}
	// A clarification's files take their version when released: one more
	// than the lot's released set, whatever an upload racing the
	// publication guessed.
	res := tx.Exec(`UPDATE documents d SET released_at = ?,
			version = CASE WHEN ? THEN d.version ELSE 1 + coalesce((SELECT max(x.version) FROM documents x
				WHERE x.lot_id = d.lot_id AND x.released_at IS NOT NULL AND x.kind <> 'material'), 0) END
		WHERE d.lot_id IN ? AND d.released_at IS NULL AND d.kind <> 'material'`, *n.PublishedAt, n.Type.IsOpening(), lotIDs)
	if res.Error != nil || res.RowsAffected == 0 || n.Type.IsOpening() {
		return res.Error
	}
	var bidders []int64
	if err := tx.Model(&Registration{}).Where("lot_id IN ? AND status IN ?", lotIDs,
		[]RegistrationStatus{StatusActive, StatusPending, StatusApproved}).Distinct().Pluck("bidder_id", &bidders).Error; err != nil {
		return err
	}
	for _, b := range bidders {
		if err := tx.Create(&Notification{AccountID: b, Title: "招标文件有新的澄清/修改版本",
			Body: fmt.Sprintf("项目 %s 发布了《%s》，请下载最新版本的文件。", p.Code, n.Title),
			Link: fmt.Sprintf("/notices/%d", n.ID), CreatedAt: *n.PublishedAt}).Error; err != nil {
			return err
		}
	}
	return nil
}

// DownloadAccess decides, inside tx, whether the actor may download the
// lot's released documents now, and registers an engineering bidder on
// their first download (K5: obtaining the documents is the registration,
// and no approval may gate it). Agents of the project and supervisors may
// always read them.
func (s *Service) DownloadAccess(tx *gorm.DB, a trading.Actor, lotID int64) error {
	p, _, err := lotLite(tx, lotID)
	if err != nil {
		return err
	}
	return s.downloadAccess(tx, a, p, lotID)
}

// downloadAccess is DownloadAccess with the lot's project already read.
func (s *Service) downloadAccess(tx *gorm.DB, a trading.Actor, p *trading.Project, lotID int64) error {
	if trading.CanSeeSecrets(a, p) {
		return nil
	}
	if a.Role != trading.RoleBidder {
		return trading.Forbidden("请以投标人/竞买人账号登录后下载")
	}
	var reg Registration
	err := tx.Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).First(&reg).Error
	if err == nil && reg.Status.Live() {
		return nil
	}
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return err
	}
	if KindFor(p.Category) == KindDownload {
		_, err := s.register(tx, a, lotID, RegisterInput{}, s.Clock.Now())
		return err
	}
	return trading.Forbidden("请先完成" + KindFor(p.Category).Name() + "后下载文件")
}
