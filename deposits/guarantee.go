package deposits

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// GuaranteeKind is the form of a guarantee (保函).
type GuaranteeKind string

const (
	GuaranteeBank       GuaranteeKind = "bank"       // 银行保函
	GuaranteeInsurance  GuaranteeKind = "insurance"  // 保证保险
	GuaranteeElectronic GuaranteeKind = "electronic" // 电子保函
)

// GuaranteeKinds in display order.
var GuaranteeKinds = []GuaranteeKind{GuaranteeBank, GuaranteeInsurance, GuaranteeElectronic}

// Name is the Chinese name of the kind.
func (k GuaranteeKind) Name() string {
	return map[GuaranteeKind]string{GuaranteeBank: "银行保函", GuaranteeInsurance: "保证保险", GuaranteeElectronic: "电子保函"}[k]
}

// GuaranteeStatus is where a guarantee stands.
type GuaranteeStatus string

const (
	GuaranteeSubmitted GuaranteeStatus = "submitted" // waiting for the agent or a supervisor
	GuaranteeVerified  GuaranteeStatus = "verified"  // counts as the deposit
	GuaranteeRejected  GuaranteeStatus = "rejected"  // refused, with the reason
	GuaranteeReleased  GuaranteeStatus = "released"  // returned (registration withdrawn, lot finished)
)

// Name is the Chinese name of the status.
func (s GuaranteeStatus) Name() string {
	return map[GuaranteeStatus]string{GuaranteeSubmitted: "待核验", GuaranteeVerified: "已核验（视同已缴保证金）",
		GuaranteeRejected: "未通过", GuaranteeReleased: "已退还（释放）"}[s]
}

// Live reports whether the guarantee still stands for its registration.
func (s GuaranteeStatus) Live() bool { return s == GuaranteeSubmitted || s == GuaranteeVerified }

// Guarantee is a row of guarantees. Dates are read as text (ValidFromText,
// ValidUntilText in the views) so that no time zone can move them.
type Guarantee struct {
	ID             int64           `gorm:"column:id;primaryKey" json:"id"`
	RegistrationID int64           `gorm:"column:registration_id" json:"registration_id"`
	Kind           GuaranteeKind   `gorm:"column:kind" json:"kind"`
	Number         string          `gorm:"column:number" json:"number"`
	Issuer         string          `gorm:"column:issuer" json:"issuer"`
	Amount         decimal.Decimal `gorm:"column:amount;type:numeric(18,2)" json:"amount"`
	DocumentID     *int64          `gorm:"column:document_id" json:"document_id,omitempty"`
	Status         GuaranteeStatus `gorm:"column:status" json:"status"`
	RejectReason   string          `gorm:"column:reject_reason" json:"reject_reason,omitempty"`
	ReviewedBy     *int64          `gorm:"column:reviewed_by" json:"-"`
	ReviewedAt     *time.Time      `gorm:"column:reviewed_at" json:"reviewed_at,omitempty"`
	CreatedAt      time.Time       `gorm:"column:created_at" json:"created_at"`
}

func (Guarantee) TableName() string { return "guarantees" }

// GuaranteeInput is what a bidder offers: kind, the guarantee's own number,
// the issuer (free text: the centre may not name or restrict it, D9), the
// amount in strict yuan, the validity (YYYY-MM-DD) and optionally an
// uploaded application material holding the scan.
type GuaranteeInput struct {
	Kind       string `json:"kind"`
	Number     string `json:"number"`
	Issuer     string `json:"issuer"`
	Amount     string `json:"amount"`
	ValidFrom  string `json:"valid_from,omitempty"` // optional
	ValidUntil string `json:"valid_until"`
	DocumentID int64  `json:"document_id,omitempty"`
}

// GuaranteeView is a guarantee with its lot, project and bidder.
type GuaranteeView struct {
	Guarantee      `gorm:"embedded"`
	ValidFromText  string           `gorm:"column:valid_from_text" json:"valid_from,omitempty"`
	ValidUntilText string           `gorm:"column:valid_until_text" json:"valid_until"`
	LotID          int64            `gorm:"column:lot_id" json:"lot_id"`
	LotSeq         int              `gorm:"column:lot_seq" json:"lot_seq"`
	LotName        string           `gorm:"column:lot_name" json:"lot_name"`
	ProjectCode    string           `gorm:"column:project_code" json:"project_code"`
	ProjectTitle   string           `gorm:"column:project_title" json:"project_title"`
	Category       trading.Category `gorm:"column:category" json:"category"`
	Required       decimal.Decimal  `gorm:"column:required;type:numeric(18,2)" json:"required"`
	BidderID       int64            `gorm:"column:bidder_id" json:"bidder_id"`
	BidderName     string           `gorm:"column:bidder_name" json:"bidder_name"`
	DocumentName   string           `gorm:"column:document_name" json:"document_name,omitempty"`
}

const guaranteeViewSQL = `SELECT g.*, to_char(g.valid_from, 'YYYY-MM-DD') AS valid_from_text,
	to_char(g.valid_until, 'YYYY-MM-DD') AS valid_until_text, r.lot_id, r.bidder_id, l.seq AS lot_seq, l.name AS lot_name,
	l.deposit AS required, p.code AS project_code, p.title AS project_title, p.category,
	COALESCE(b.name, '') AS bidder_name, COALESCE(d.filename, '') AS document_name
FROM guarantees g
JOIN registrations r ON r.id = g.registration_id
JOIN lots l ON l.id = r.lot_id
JOIN projects p ON p.id = l.project_id
LEFT JOIN bidders b ON b.account_id = r.bidder_id
LEFT JOIN documents d ON d.id = g.document_id `

// guaranteeLot loads a lot and its project.
func guaranteeLot(tx *gorm.DB, lotID int64) (*trading.Project, *trading.Lot, error) {
	var lot trading.Lot
	if err := trading.Take(tx, &lot, trading.AnyLot, lotID); err != nil {
		return nil, nil, err
	}
	var p trading.Project
	if err := tx.Take(&p, lot.ProjectID).Error; err != nil {
		return nil, nil, err
	}
	return &p, &lot, nil
}

// depositDeadline is when the deposit must be provided: the bid deadline,
// or for land and property applications the close of applications (as for
// cash, openAccounts).
func depositDeadline(p *trading.Project, lot *trading.Lot) time.Time {
	w := bidding.WindowOf(p, lot, derefTime(p.OpenedAt))
	if bidding.KindFor(p.Category) == bidding.KindApplication && !w.Closes.IsZero() {
		return w.Closes
	}
	return w.Deadline
}

// validityFloor is the first day a guarantee must still be valid on: the
// day of the bid deadline, or for land and property the close of listing
// or the auction (deposit validity = bid validity, D1).
func validityFloor(p *trading.Project, lot *trading.Lot) time.Time {
	return bidding.WindowOf(p, lot, derefTime(p.OpenedAt)).Deadline
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// oneSpace trims a free-text field and collapses its inner white space.
func oneSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func parseGuaranteeDate(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	t, err := time.ParseInLocation("2006-01-02", s, trading.Shanghai)
	if err != nil {
		return "", trading.Invalid(field, "日期“%s”无效，须为 YYYY-MM-DD", s)
	}
	return t.Format("2006-01-02"), nil
}

// SubmitGuarantee records a bidder's guarantee for their registration of a
// lot, waiting for the agent or a supervisor to verify it. The amount must
// cover the lot's deposit and the validity must reach the bid deadline (D1);
// the issuer is whatever the bidder names (D9). Audited.
func (s *Service) SubmitGuarantee(ctx context.Context, bidder trading.Actor, lotID int64, in GuaranteeInput) (*GuaranteeView, error) {
	if bidder.Role != trading.RoleBidder {
		return nil, trading.Forbidden("只有投标人（竞买人）可以提交保函")
	}
	kind := GuaranteeKind(strings.TrimSpace(in.Kind))
	if kind.Name() == "" {
		return nil, trading.Invalid("kind", "保函类型须为 bank（银行保函）、insurance（保证保险）或 electronic（电子保函）")
	}
	number := strings.ToUpper(oneSpace(in.Number))
	if number == "" || utf8.RuneCountInString(number) > 100 {
		return nil, trading.Invalid("number", "须填写保函编号（1至100个字符）")
	}
	// D9: any issuer the bidder chooses is accepted; only its name is needed.
	issuer := oneSpace(in.Issuer)
	if utf8.RuneCountInString(issuer) < 2 || utf8.RuneCountInString(issuer) > 200 {
		return nil, trading.Invalid("issuer", "须填写出具保函的机构名称（2至200个字符）；出具机构由投标人自主选择（D9）")
	}
	amount, err := ParseAmount(in.Amount)
	if err != nil {
		var ae *AmountError
		if errors.As(err, &ae) {
			return nil, trading.Invalid("amount", "保函金额“%s”无效：%s", in.Amount, ae.Reason)
		}
		return nil, trading.Invalid("amount", "保函金额无效")
	}
	until, err := parseGuaranteeDate("valid_until", in.ValidUntil)
	if err != nil {
		return nil, err
	}
	var from *string
	if strings.TrimSpace(in.ValidFrom) != "" {
		f, err := parseGuaranteeDate("valid_from", in.ValidFrom)
		if err != nil {
			return nil, err
		}
		if f > until {
			return nil, trading.Invalid("valid_from", "有效期起始日不能晚于截止日")
		}
		from = &f
	}
	if in.DocumentID < 0 {
		return nil, trading.Invalid("document_id", "文件编号须为正整数")
	}
	now := s.now()
	var out *GuaranteeView
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		// The lot first: its category names it in the messages below.
		p, lot, err := guaranteeLot(tx, lotID)
		if err != nil {
			return err
		}
		noun := p.Category.LotNoun()
		var reg bidding.Registration
		err = trading.Take(tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("lot_id = ? AND bidder_id = ?", lotID, bidder.AccountID), &reg, "报名记录")
		if errors.Is(err, trading.ErrNotFound) {
			return trading.Conflict("lot_id", "您没有报名该%s，不能为其提交保函", noun)
		}
		if err != nil {
			return err
		}
		if !reg.Status.Live() {
			return trading.Conflict("lot_id", "您对该%s的报名当前为“%s”，不能提交保函", noun, reg.Status.Name())
		}
		if !lot.Deposit.IsPositive() {
			return trading.Invalid("lot_id", "该%s不要求缴纳保证金", noun)
		}
		if dl := depositDeadline(p, lot); !dl.IsZero() && !now.Before(dl) {
			return trading.Conflict("lot_id", "保证金递交截止时间（%s）已过", dl.In(trading.Shanghai).Format("2006-01-02 15:04"))
		}
		if amount.LessThan(lot.Deposit) {
			return trading.Invalid("amount", "保函金额 %s 元低于本%s要求的保证金 %s 元，须足额担保", FormatYuan(amount), noun, FormatYuan(lot.Deposit))
		}
		if floor := validityFloor(p, lot); !floor.IsZero() {
			need := floor.In(trading.Shanghai).Format("2006-01-02")
			if until < need {
				return trading.RuleBroken("D1", "valid_until", "保函有效期至 %s，早于投标截止（开标/竞价）日 %s；保证金有效期须与投标有效期一致，至少覆盖到 %s",
					until, need, need)
			}
		}
		var docID *int64
		if in.DocumentID > 0 {
			var n int64
			if err := tx.Model(&bidding.Document{}).Where("id = ? AND kind = ? AND registration_id = ?", in.DocumentID, bidding.DocMaterial, reg.ID).
				Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return trading.Invalid("document_id", "文件 %d 不是您为该%s上传的申请材料；请先在%s页面上传保函扫描件", in.DocumentID, noun, noun)
			}
			docID = &in.DocumentID
		}
		var live int64
		if err := tx.Model(&Guarantee{}).Where("registration_id = ? AND status IN ?", reg.ID,
			[]GuaranteeStatus{GuaranteeSubmitted, GuaranteeVerified}).Count(&live).Error; err != nil {
			return err
		}
		if live > 0 {
			return trading.Conflict("lot_id", "该报名已有待核验或已核验的保函，不能重复提交")
		}
		var id int64
		err = tx.Raw(`INSERT INTO guarantees (registration_id, kind, number, issuer, amount, valid_from, valid_until, document_id, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?::date, ?::date, ?, 'submitted', ?) RETURNING id`,
			reg.ID, string(kind), number, issuer, amount, from, until, docID, now).Scan(&id).Error
		switch {
		case trading.IsUniqueViolation(err, "guarantees_issuer_number_key"):
			return trading.Conflict("number", "%s 出具的编号为 %s 的保函已经提交过，同一份保函不能重复使用", issuer, number)
		case trading.IsUniqueViolation(err, "guarantees_live_key"):
			return trading.Conflict("lot_id", "该报名已有待核验或已核验的保函，不能重复提交")
		case err != nil:
			return err
		}
		rule := "D9"
		if p.Category == trading.Procurement {
			rule = "G5"
		}
		if err := trading.Audit(tx, now, bidder, "guarantee.submit", "guarantee", fmt.Sprint(id),
			fmt.Sprintf("项目 %s %s%d 提交%s：%s 编号 %s，金额 %s 元，有效期至 %s（%s）", p.Code, noun, lot.Seq, kind.Name(), issuer, number,
				FormatYuan(amount), until, rule)); err != nil {
			return err
		}
		out, err = guaranteeView(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func guaranteeView(tx *gorm.DB, id int64) (*GuaranteeView, error) {
	var v []GuaranteeView
	if err := tx.Raw(guaranteeViewSQL+"WHERE g.id = ?", id).Scan(&v).Error; err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, trading.NotFound("保函")
	}
	return &v[0], nil
}

// mayReview tells whether a may see and verify the guarantees of a lot.
// Supervisors may; the project's agent may for land and property, whose
// applications it reviews anyway, and otherwise only after the deadline:
// before it, who registered is secret even from the agent (K4, K5).
func mayReview(tx *gorm.DB, a trading.Actor, p *trading.Project, lot *trading.Lot, now time.Time) error {
	switch {
	case a.Role == trading.RoleSupervisor:
		return nil
	case a.Role == trading.RoleAgent && a.AccountID == p.AgentID:
		if lot.PostQualification != "" {
			// 资格后审 (issue 15 §2): until the bidding has ended nobody but
			// supervisors knows who bids, so supervisors verify guarantees.
			secret, err := bidding.BiddersSecretFromAgent(tx, p, lot, now)
			if err != nil {
				return err
			}
			if secret {
				return trading.Forbidden("本" + p.Category.LotNoun() + "实行资格后审：竞价结束前竞买人名单对代理机构保密，保函由交易中心监督核验")
			}
			return nil
		}
		if bidding.KindFor(p.Category) == bidding.KindApplication {
			return nil
		}
		if dl := bidding.WindowOf(p, lot, derefTime(p.OpenedAt)).Deadline; !dl.IsZero() && now.Before(dl) {
			return trading.Forbidden("投标截止前投标人名单对代理机构保密（K4、K5），保函由交易中心监督核验").WithRule("K5")
		}
		return nil
	}
	return trading.Forbidden("只有本项目的代理机构或交易中心监督可以核验保函")
}

// ReviewGuarantee verifies or rejects a submitted guarantee (the project's
// agent, see mayReview, or a supervisor). Rejecting needs a reason. The
// bidder is notified. Audited.
func (s *Service) ReviewGuarantee(ctx context.Context, a trading.Actor, id int64, approve bool, reason string) (*GuaranteeView, error) {
	reason = strings.TrimSpace(reason)
	if !approve && (utf8.RuneCountInString(reason) < 2 || utf8.RuneCountInString(reason) > 500) {
		return nil, trading.Invalid("reason", "不予通过须写明理由（2至500个字符）")
	}
	if utf8.RuneCountInString(reason) > 500 {
		return nil, trading.Invalid("reason", "说明不能超过500个字符")
	}
	now := s.now()
	var out *GuaranteeView
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var g Guarantee
		if err := trading.Take(tx.Clauses(clause.Locking{Strength: "UPDATE"}), &g, "保函", id); err != nil {
			return err
		}
		var reg bidding.Registration
		if err := tx.Take(&reg, g.RegistrationID).Error; err != nil {
			return err
		}
		p, lot, err := guaranteeLot(tx, reg.LotID)
		if err != nil {
			return err
		}
		if err := mayReview(tx, a, p, lot, now); err != nil {
			return err
		}
		if g.Status != GuaranteeSubmitted {
			return trading.Conflict("status", "该保函当前为“%s”，不能再审核", g.Status.Name())
		}
		if !reg.Status.Live() {
			return trading.Conflict("status", "该报名已%s，保函无需审核", reg.Status.Name())
		}
		status, action := GuaranteeVerified, "guarantee.verify"
		if !approve {
			status, action = GuaranteeRejected, "guarantee.reject"
		}
		if err := tx.Exec(`UPDATE guarantees SET status = ?, reject_reason = ?, reviewed_by = ?, reviewed_at = ? WHERE id = ?`,
			string(status), reason, a.AccountID, now, g.ID).Error; err != nil {
			return err
		}
		note := fmt.Sprintf("项目 %s %s%d（%s）的%s（%s 编号 %s）%s", p.Code, p.Category.LotNoun(), lot.Seq, lot.Name, g.Kind.Name(), g.Issuer, g.Number, status.Name())
		if reason != "" {
			note += "：" + reason
		}
		if err := trading.Notify(tx, now, trading.Message{Title: "保函" + status.Name(), Body: note, Link: "/my/guarantees"}, reg.BidderID); err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, action, "guarantee", fmt.Sprint(g.ID), note); err != nil {
			return err
		}
		out, err = guaranteeView(tx, g.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Guarantees lists a lot's guarantees for the agent or a supervisor to
// review. A supervisor's look before the deadline is audited (K5).
func (s *Service) Guarantees(ctx context.Context, a trading.Actor, lotID int64) ([]GuaranteeView, *trading.Lot, error) {
	lg, err := s.LotGuarantees(ctx, a, lotID)
	if err != nil {
		return nil, nil, err
	}
	return lg.Guarantees, lg.Lot, nil
}

// LotGuaranteesView is the review page's data: the lot, its project's
// category (which names the lot: 标段, 包, 地块, 标的) and the guarantees.
type LotGuaranteesView struct {
	Lot        *trading.Lot
	Category   trading.Category
	Guarantees []GuaranteeView
}

// LotGuarantees is Guarantees with the lot's category, for the review page.
func (s *Service) LotGuarantees(ctx context.Context, a trading.Actor, lotID int64) (*LotGuaranteesView, error) {
	now := s.now()
	var out []GuaranteeView
	view := &LotGuaranteesView{}
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, err := guaranteeLot(tx, lotID)
		if err != nil {
			return err
		}
		if err := mayReview(tx, a, p, lot, now); err != nil {
			return err
		}
		view.Lot, view.Category = lot, p.Category
		if err := tx.Raw(guaranteeViewSQL+"WHERE r.lot_id = ? ORDER BY (g.status = 'submitted') DESC, g.created_at DESC, g.id DESC LIMIT 1000", lotID).Scan(&out).Error; err != nil {
			return err
		}
		if dl := bidding.WindowOf(p, lot, derefTime(p.OpenedAt)).Deadline; a.Role == trading.RoleSupervisor && (dl.IsZero() || now.Before(dl)) {
			return trading.Audit(tx, now, a, "guarantee.list", "lot", fmt.Sprint(lotID),
				fmt.Sprintf("投标截止前查看项目 %s %s%d 的保函（%d份）", p.Code, p.Category.LotNoun(), lot.Seq, len(out)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	view.Guarantees = out
	return view, nil
}

// MyGuarantees lists the bidder's guarantees, newest first.
func (s *Service) MyGuarantees(ctx context.Context, bidder trading.Actor) ([]GuaranteeView, error) {
	var out []GuaranteeView
	err := s.DB.WithContext(ctx).Raw(guaranteeViewSQL+"WHERE r.bidder_id = ? ORDER BY g.created_at DESC, g.id DESC LIMIT 200", bidder.AccountID).Scan(&out).Error
	return out, err
}

// GuaranteeOption is a live registration of the bidder that still needs a
// deposit and may take a guarantee, with the materials the scan can be.
type GuaranteeOption struct {
	RegistrationID int64
	LotID          int64
	ProjectCode    string
	Title          string
	LotSeq         int
	LotName        string
	Category       trading.Category
	Required       decimal.Decimal
	Deadline       time.Time // deposit deadline
	MinValidUntil  string    // YYYY-MM-DD
	Materials      []bidding.Document
}

// GuaranteeOptions lists what the bidder's submit form offers: live
// registrations of lots with a deposit, before the deposit deadline,
// without a live guarantee.
func (s *Service) GuaranteeOptions(ctx context.Context, bidder trading.Actor) ([]GuaranteeOption, error) {
	db := s.DB.WithContext(ctx)
	now := s.now()
	var regs []bidding.Registration
	if err := db.Where(`bidder_id = ? AND status IN ('active', 'pending', 'approved')
		AND NOT EXISTS (SELECT 1 FROM guarantees g WHERE g.registration_id = registrations.id AND g.status IN ('submitted', 'verified'))
		AND lot_id IN (SELECT id FROM lots WHERE deposit > 0)`, bidder.AccountID).Order("created_at DESC, id DESC").Limit(200).Find(&regs).Error; err != nil {
		return nil, err
	}
	var out []GuaranteeOption
	for _, r := range regs {
		p, lot, err := guaranteeLot(db, r.LotID)
		if err != nil {
			return nil, err
		}
		dl := depositDeadline(p, lot)
		if !dl.IsZero() && !now.Before(dl) {
			continue
		}
		o := GuaranteeOption{RegistrationID: r.ID, LotID: lot.ID, ProjectCode: p.Code, Title: p.Title, LotSeq: lot.Seq,
			LotName: lot.Name, Category: p.Category, Required: lot.Deposit, Deadline: dl}
		if f := validityFloor(p, lot); !f.IsZero() {
			o.MinValidUntil = f.In(trading.Shanghai).Format("2006-01-02")
		}
		if err := db.Where("registration_id = ? AND kind = ?", r.ID, bidding.DocMaterial).Order("created_at, id").Find(&o.Materials).Error; err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// DepositCovered tells, inside tx, whether a registration's deposit was
// provided by its deadline (issue 15 §2), and how: "保函" when a guarantee
// offered before the deadline is verified and still valid today, "现金" when
// the cash that reached its virtual account by the deadline (bank value
// time) and is still held reaches it, "无需缴纳" when the lot asks for none.
// Money that arrives later never counts, whatever is held now; when the
// answer is no, reason says why in Chinese (what arrived in time, what came
// late), for the page that refuses. The deadline is the one the account was
// opened with (its payment notice's).
func (s *Service) DepositCovered(ctx context.Context, tx *gorm.DB, registrationID int64) (bool, string, error) {
	today := s.now().In(trading.Shanghai).Format("2006-01-02")
	var rows []struct {
		Covered  bool            `gorm:"column:covered"`
		Required decimal.Decimal `gorm:"column:required;type:numeric(18,2)"`
		Deadline *time.Time      `gorm:"column:deadline"`
		VA       *int64          `gorm:"column:va"`
		Verified int64           `gorm:"column:verified"` // guarantees offered by the deadline, verified, covering, valid today
		Pending  int64           `gorm:"column:pending"`  // offered by the deadline, not yet verified
		LateG    int64           `gorm:"column:late_g"`   // live guarantees offered after it
		InTime   decimal.Decimal `gorm:"column:in_time;type:numeric(18,2)"`
		Late     decimal.Decimal `gorm:"column:late;type:numeric(18,2)"`
	}
	// One round trip. deposit_cover (migration 00034) decides: the quote's
	// first statement reads the same function (bidding/auction/outbid.go),
	// so the two cannot disagree; this only words the reason. A guarantee
	// counts when it was offered by the deadline (SubmitGuarantee refuses
	// later ones; the function says so again where it decides). Cash counts
	// when it is at the centre with no refund taking it back and its value
	// time is not after the deadline: late money is classed 'late' when it
	// is booked, and a held inflow after the deadline would still not count.
	if err := tx.Raw(`SELECT * FROM deposit_cover(?, ?::date)`, registrationID, today).Scan(&rows).Error; err != nil {
		return false, "", err
	}
	if len(rows) == 0 {
		return false, "", trading.NotFound("报名")
	}
	r := rows[0]
	switch {
	case r.Covered && !r.Required.IsPositive():
		return true, "无需缴纳", nil
	case r.Covered && r.Verified > 0:
		return true, "保函", nil
	case r.Covered:
		return true, "现金", nil
	case r.VA == nil || r.Deadline == nil:
		return false, fmt.Sprintf("尚未开立保证金虚拟子账号，应缴 %s 元", FormatYuan(r.Required)), nil
	}
	why := fmt.Sprintf("保证金截止时间 %s 前有效到账 %s 元，应缴 %s 元", r.Deadline.In(trading.Shanghai).Format("2006-01-02 15:04"),
		FormatYuan(r.InTime), FormatYuan(r.Required))
	if r.Late.IsPositive() {
		why += fmt.Sprintf("；截止后到账的 %s 元不计入（逾期缴纳无效，将退还）", FormatYuan(r.Late))
	}
	if r.Pending > 0 {
		why += "；所交保函尚待核验"
	}
	if r.LateG > 0 {
		why += "；保函于截止后提交，不计入"
	}
	return false, why, nil
}

// ReleaseGuarantees releases the live guarantee of a withdrawn
// registration (an OnWithdraw hook: the guarantee goes back like cash, D6).
func (s *Service) ReleaseGuarantees(ctx context.Context, tx *gorm.DB, reg *bidding.Registration, p *trading.Project, lot *trading.Lot) error {
	var ids []int64
	if err := tx.Raw(`UPDATE guarantees SET status = 'released' WHERE registration_id = ? AND status IN ('submitted', 'verified') RETURNING id`,
		reg.ID).Scan(&ids).Error; err != nil {
		return err
	}
	for _, id := range ids {
		if err := trading.Audit(tx, s.now(), trading.SystemActor, "guarantee.release", "guarantee", fmt.Sprint(id),
			fmt.Sprintf("项目 %s %s%d 报名撤回，保函释放（D6）", p.Code, p.Category.LotNoun(), lot.Seq)); err != nil {
			return err
		}
	}
	return nil
}
