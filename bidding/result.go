package bidding

// 标段结果: a lot's result record and its stage machine, the events it
// emits (OnResult), its publication (AdvanceResult), the result page's view
// and the OCDS awards. Each step has its file: opening.go, candidates.go,
// award.go, contract.go, deal.go.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
)

// Stage is where a lot's result stands.
//
//	engineering, procurement: opened → failed
//	                          opened → candidates → award → awarded → contracted
//	land, property:           deal → sold | no_sale
//
// award and deal wait for their result announcement: publication moves them on.
type Stage string

const (
	StageOpened     Stage = "opened"     // bid-opening record entered
	StageFailed     Stage = "failed"     // 流标/废标 (E7, G10, all rejected)
	StageCandidates Stage = "candidates" // candidate publicity announcement drafted or out
	StageAward      Stage = "award"      // result announcement written, waiting for publication
	StageAwarded    Stage = "awarded"    // result announcement published (中标通知)
	StageContracted Stage = "contracted" // contract signed
	StageDeal       Stage = "deal"       // land/property result announcement waiting
	StageSold       Stage = "sold"       // 成交
	StageNoSale     Stage = "no_sale"    // 流拍/未成交
)

// Name is the Chinese name of the stage.
func (s Stage) Name() string {
	return map[Stage]string{StageOpened: "已开标", StageFailed: "流标/废标", StageCandidates: "候选人公示",
		StageAward: "结果公告待发布", StageAwarded: "已定标", StageContracted: "已签订合同", StageDeal: "成交公告待发布",
		StageSold: "已成交", StageNoSale: "未成交（流拍）"}[s]
}

// LotResult is the result record of one lot (table lot_results).
type LotResult struct {
	LotID                    int64            `gorm:"column:lot_id;primaryKey" json:"lot_id"`
	Stage                    Stage            `gorm:"column:stage" json:"stage"`
	FailedRule               string           `gorm:"column:failed_rule" json:"failed_rule,omitempty"`
	FailedReason             string           `gorm:"column:failed_reason" json:"failed_reason,omitempty"`
	OpenedAt                 *time.Time       `gorm:"column:opened_at" json:"opened_at,omitempty"`
	CandidatesAnnouncementID *int64           `gorm:"column:candidates_announcement_id" json:"candidates_announcement_id,omitempty"`
	PublicityEnd             *time.Time       `gorm:"column:publicity_end" json:"publicity_end,omitempty"`
	WinnerID                 *int64           `gorm:"column:winner_id" json:"winner_id,omitempty"`
	Amount                   *decimal.Decimal `gorm:"column:amount;type:numeric(18,2)" json:"amount,omitempty"`
	AwardReason              string           `gorm:"column:award_reason" json:"award_reason,omitempty"`
	ResultAnnouncementID     *int64           `gorm:"column:result_announcement_id" json:"result_announcement_id,omitempty"`
	FailureAnnouncementID    *int64           `gorm:"column:failure_announcement_id" json:"failure_announcement_id,omitempty"` // 流标公告
	ContractAnnouncementID   *int64           `gorm:"column:contract_announcement_id" json:"contract_announcement_id,omitempty"`
	AwardedAt                *time.Time       `gorm:"column:awarded_at" json:"awarded_at,omitempty"`
	ContractDate             *time.Time       `gorm:"column:contract_date;type:date" json:"contract_date,omitempty"`
	ContractAmount           *decimal.Decimal `gorm:"column:contract_amount;type:numeric(18,2)" json:"contract_amount,omitempty"`
	ContractLate             bool             `gorm:"column:contract_late" json:"contract_late"`
	CreatedAt                time.Time        `gorm:"column:created_at" json:"created_at"`
	UpdatedAt                time.Time        `gorm:"column:updated_at" json:"updated_at"`
}

func (LotResult) TableName() string { return "lot_results" }

// LotBid is one line of the bid-opening record.
type LotBid struct {
	LotID          int64            `gorm:"column:lot_id;primaryKey" json:"-"`
	BidderID       int64            `gorm:"column:bidder_id;primaryKey" json:"-"`
	Price          *decimal.Decimal `gorm:"column:price;type:numeric(18,2)" json:"price,omitempty"`
	RejectedReason string           `gorm:"column:rejected_reason" json:"rejected_reason,omitempty"`
	Rank           *int             `gorm:"column:rank" json:"rank,omitempty"`
	DeclinedReason string           `gorm:"column:declined_reason" json:"declined_reason,omitempty"`
	BidderName     string           `gorm:"->;column:bidder_name;-:migration" json:"bidder_name"`
	IDNumber       string           `gorm:"->;column:id_number;-:migration" json:"id_number"`
}

func (LotBid) TableName() string { return "lot_bids" }

// ResultEventKind names what happened to a lot's result.
type ResultEventKind string

const (
	EventFailed     ResultEventKind = "failed"     // E7/G10/all rejected, or no sale
	EventAwarded    ResultEventKind = "awarded"    // result announcement published (engineering, procurement)
	EventContracted ResultEventKind = "contracted" // contract signed
	EventSold       ResultEventKind = "sold"       // land/property result announcement published
)

// ResultEvent is given to OnResult hooks inside the transaction that made
// it happen: deposits refunds (D5, G6, L5) and converts on it.
type ResultEvent struct {
	Kind    ResultEventKind
	Project *trading.Project
	Lot     *trading.Lot
	Result  *LotResult
	At      time.Time // when it happened (publication, contract date)
	Rule    string    // the rule behind a failure
}

// DepositState is where a registration's deposit stands, for the agent's
// opening-record form: in Chinese, whether it is paid, and a K1 alert
// (deposits of several bidders from one account) if any.
type DepositState struct {
	State string
	Paid  bool
	K1    string
}

// Errors of results.
var ErrResultStage = fmt.Errorf("result stage: %w", trading.ErrConflict)

// ResultView is a lot's result for the agent's and supervisors' pages.
type ResultView struct {
	Project *trading.Project
	Lot     *trading.Lot
	Result  *LotResult // nil: nothing recorded yet
	Bids    []LotBid
	Winner  string // the winner's or buyer's name
	// Announcements are the candidate and result announcements, when written.
	CandidatesAnnouncement *trading.Announcement
	ResultAnnouncement     *trading.Announcement
	FailureAnnouncement    *trading.Announcement // 流标公告 of a failed lot
	// Registered are the bidders who may appear in the opening record,
	// shown to the agent only after the deadline.
	Registered []RegistrantView
	Deadline   time.Time
}

// lockResultLot loads and locks a lot of the agent's project for a result
// step: the project must be active and not suspended, the lot past its
// deadline.
func (s *Service) lockResultLot(tx *gorm.DB, a trading.Actor, lotID int64, now time.Time) (*trading.Project, *trading.Lot, *LotResult, error) {
	// The project first (as publication and suspension lock it), then the
	// lot: a suspension or termination either waits for this step or is
	// seen by it.
	if err := tx.Exec("SELECT 1 FROM projects WHERE id = (SELECT project_id FROM lots WHERE id = ?) FOR SHARE", lotID).Error; err != nil {
		return nil, nil, nil, err
	}
	if err := tx.Exec("SELECT 1 FROM lots WHERE id = ? FOR UPDATE", lotID).Error; err != nil {
		return nil, nil, nil, err
	}
	p, lot, err := lotOf(tx, lotID)
	if err != nil {
		return nil, nil, nil, err
	}
	if a.Role != trading.RoleAgent || a.AccountID != p.AgentID {
		if a.Role == trading.RoleAgent || a.Role == trading.RoleBidder {
			return nil, nil, nil, trading.NotFound(trading.AnyLot)
		}
		return nil, nil, nil, trading.Forbidden("开标记录和结果由项目的代理机构录入")
	}
	if err := p.CheckRunning(); err != nil {
		return nil, nil, nil, err
	}
	if p.Status != trading.ProjectActive {
		return nil, nil, nil, trading.Conflict("project", "项目%s，不能录入结果", p.Status.Name())
	}
	w := WindowOf(p, lot, openedAt(p))
	if w.Deadline.IsZero() || now.Before(w.Deadline) {
		return nil, nil, nil, trading.Conflict("lot", "投标截止（开标）时间 %s 未到，不能录入结果（E6：开标应在投标截止时间公开进行）",
			fmtTime(w.Deadline))
	}
	var r LotResult
	found, err := trading.Lookup(tx, &r, "lot_id = ?", lotID)
	if err != nil {
		return nil, nil, nil, err
	}
	if !found {
		return p, lot, nil, nil
	}
	return p, lot, &r, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "（未设定）"
	}
	return t.In(trading.Shanghai).Format("2006-01-02 15:04")
}

func stageConflict(r *LotResult, what string) error {
	return trading.Conflict("stage", "交易结果处于“%s”阶段，不能%s", r.Stage.Name(), what).Wrapping(ErrResultStage)
}

func isBidTender(c trading.Category) bool {
	return c == trading.Engineering || c == trading.Procurement
}

// registeredBidder finds the account of a bidder with a live registration
// for the lot by unified social credit code (or resident id).
func registeredBidder(tx *gorm.DB, lotID int64, idNumber string) (int64, string, error) {
	id, name, _, err := registration(tx, lotID, idNumber)
	return id, name, err
}

// registration is registeredBidder with the registration's id.
func registration(tx *gorm.DB, lotID int64, idNumber string) (account int64, name string, reg int64, err error) {
	var row struct {
		AccountID int64  `gorm:"column:account_id"`
		Name      string `gorm:"column:name"`
		RegID     int64  `gorm:"column:reg_id"`
	}
	err = tx.Raw(`SELECT b.account_id, b.name, r.id AS reg_id FROM bidders b JOIN registrations r ON r.bidder_id = b.account_id
		WHERE b.id_number = ? AND r.lot_id = ? AND r.status IN ('active', 'approved')`, strings.ToUpper(strings.TrimSpace(idNumber)), lotID).
		Scan(&row).Error
	return row.AccountID, row.Name, row.RegID, err
}

func (s *Service) emit(ctx context.Context, tx *gorm.DB, ev ResultEvent) error {
	for _, hook := range s.OnResult {
		if err := hook(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// civil is the Shanghai calendar date of t, as midnight UTC for a date column.
func civil(t time.Time) time.Time {
	y, m, d := t.In(trading.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// bidsOf lists a lot's opening record with the bidders' names, by rank
// then price.
func bidsOf(tx *gorm.DB, lotID int64) ([]LotBid, error) {
	var bids []LotBid
	// Equivalent SQL: SELECT lb.*, b.name, b.id_number FROM lot_bids lb JOIN bidders b … ORDER BY rank NULLS LAST, price
	err := tx.Table("lot_bids lb").Select("lb.*, b.name AS bidder_name, b.id_number").
		Joins("JOIN bidders b ON b.account_id = lb.bidder_id").Where("lb.lot_id = ?", lotID).
		Order("lb.rank NULLS LAST, lb.price NULLS LAST, b.name").Scan(&bids).Error
	return bids, err
}

// AdvanceResult (an OnPublish hook of trading) moves a lot's result on when its result announcement is
// published: awarded (engineering, procurement), sold or no sale (land,
// property); the outcome enters the savings figures.
func (s *Service) AdvanceResult(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project) error {
	if n.Type != trading.AnnouncementResult {
		return nil
	}
	var r LotResult
	found, err := trading.Lookup(tx.Clauses(clause.Locking{Strength: "UPDATE"}), &r, "result_announcement_id = ?", n.ID)
	if err != nil {
		return err
	}
	if !found {
		return nil // CheckResultAnnouncement refuses such announcements; nothing to move
	}
	var lot trading.Lot
	if err := tx.First(&lot, r.LotID).Error; err != nil {
		return err
	}
	at := *n.PublishedAt
	r.AwardedAt, r.UpdatedAt = &at, at
	o := &trading.LotOutcome{LotID: lot.ID, ProjectID: p.ID, Category: p.Category, RegionCode: p.RegionCode,
		Status: trading.OutcomeCompleted, DecidedOn: civil(at), UpdatedAt: at, Base: trading.BaseFor(p.Category, &lot), Result: r.Amount}
	kind := EventAwarded
	switch {
	case r.Stage == StageAward:
		r.Stage = StageAwarded
	case r.Stage == StageDeal && r.WinnerID != nil:
		r.Stage, kind = StageSold, EventSold
	case r.Stage == StageDeal:
		r.Stage, r.AwardedAt, kind = StageNoSale, nil, EventFailed
		o.Status, o.Base, o.Result, o.Reason, o.Rule = trading.OutcomeFailed, nil, nil, r.FailedReason, r.FailedRule
	default:
		return fmt.Errorf("result announcement %d published at stage %s", n.ID, r.Stage)
	}
	if o.Status == trading.OutcomeCompleted && o.Base == nil {
		return trading.Conflict("lot", "%s缺少计算节约率/溢价率的基数（控制价、预算或起始价）", p.Category.LotNoun())
	}
	if err := tx.Save(&r).Error; err != nil {
		return err
	}
	if err := trading.SetOutcome(tx, o); err != nil {
		return err
	}
	return s.emit(ctx, tx, ResultEvent{Kind: kind, Project: p, Lot: &lot, Result: &r, At: at, Rule: r.FailedRule})
}

// Result is a lot's result for its agent (after the deadline) and the
// supervisors. The opening record names bidders, so before the deadline
// the agent gets only the empty form (K4/K5).
func (s *Service) Result(ctx context.Context, a trading.Actor, lotID int64) (*ResultView, error) {
	now := s.Clock.Now()
	var v ResultView
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, err := lotOf(tx, lotID)
		if err != nil {
			return err
		}
		switch {
		case a.Role == trading.RoleSupervisor:
		case a.Role == trading.RoleAgent && a.AccountID == p.AgentID:
		default:
			return trading.NotFound(trading.AnyLot)
		}
		v.Project, v.Lot = p, lot
		v.Deadline = WindowOf(p, lot, openedAt(p)).Deadline
		var r LotResult
		found, err := trading.Lookup(tx, &r, "lot_id = ?", lotID)
		if err != nil {
			return err
		}
		if found {
			v.Result = &r
		}
		if v.Deadline.IsZero() || now.Before(v.Deadline) {
			return nil
		}
		if a.Role == trading.RoleAgent && lot.PostQualification != "" {
			// 资格后审: the bidders stay secret from the agent until the
			// bidding has ended, past the deadline if it runs on.
			if secret, err := BiddersSecretFromAgent(tx, p, lot, now); err != nil || secret {
				return err
			}
		}
		if v.Bids, err = bidsOf(tx, lotID); err != nil {
			return err
		}
		err = tx.Table("registrations r").Select("r.*, b.name AS bidder_name, b.id_number").
			Joins("JOIN bidders b ON b.account_id = r.bidder_id").
			Where("r.lot_id = ? AND r.status IN ('active', 'approved')", lotID).Order("b.name").Scan(&v.Registered).Error
		if err != nil {
			return err
		}
		if v.Result == nil {
			return nil
		}
		if v.Result.WinnerID != nil {
			tx.Raw("SELECT name FROM bidders WHERE account_id = ?", *v.Result.WinnerID).Scan(&v.Winner)
		}
		load := func(id *int64) (*trading.Announcement, error) {
			if id == nil {
				return nil, nil
			}
			var n trading.Announcement
			return &n, tx.First(&n, *id).Error
		}
		if v.CandidatesAnnouncement, err = load(v.Result.CandidatesAnnouncementID); err != nil {
			return err
		}
		if v.ResultAnnouncement, err = load(v.Result.ResultAnnouncementID); err != nil {
			return err
		}
		v.FailureAnnouncement, err = load(v.Result.FailureAnnouncementID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// LotAwards lists a project's results whose announcements are out, for the OCDS
// export (trading.Service.LotAwards): awards and no-sales from their
// result announcement, failures from their failure announcement.
func (s *Service) LotAwards(ctx context.Context, projectID int64) ([]trading.LotAward, error) {
	var rows []struct {
		LotResult
		Winner    string     `gorm:"column:winner"`
		ResultAt  *time.Time `gorm:"column:result_at"`
		FailureAt *time.Time `gorm:"column:failure_at"`
	}
	// Equivalent SQL: SELECT r.*, b.name, rn.published_at, fn.published_at FROM lot_results r JOIN lots l …
	//   LEFT JOIN bidders b … LEFT JOIN announcements rn/fn (published) …
	//   WHERE l.project_id = ? AND (rn.id IS NOT NULL OR fn.id IS NOT NULL)
	err := s.DB.WithContext(ctx).Table("lot_results r").
		Select("r.*, coalesce(b.name, '') AS winner, rn.published_at AS result_at, fn.published_at AS failure_at").
		Joins("JOIN lots l ON l.id = r.lot_id").Joins("LEFT JOIN bidders b ON b.account_id = r.winner_id").
		Joins("LEFT JOIN announcements rn ON rn.id = r.result_announcement_id AND rn.status = 'published'").
		Joins("LEFT JOIN announcements fn ON fn.id = r.failure_announcement_id AND fn.status = 'published'").
		Where("l.project_id = ? AND (rn.id IS NOT NULL OR fn.id IS NOT NULL)", projectID).
		Order("l.seq").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]trading.LotAward, 0, len(rows))
	for _, r := range rows {
		a := trading.LotAward{LotID: r.LotID}
		if r.ResultAt != nil {
			a.ResultAnnouncementID, a.Successful, a.Date = deref64(r.ResultAnnouncementID), r.Stage != StageNoSale, *r.ResultAt
			a.SupplierID, a.SupplierName, a.Amount, a.ContractAmount = deref64(r.WinnerID), r.Winner, r.Amount, r.ContractAmount
			if r.ContractDate != nil {
				d := time.Date(r.ContractDate.Year(), r.ContractDate.Month(), r.ContractDate.Day(), 0, 0, 0, 0, trading.Shanghai)
				a.ContractDate = &d
			}
		}
		if r.FailureAt != nil {
			a.FailureAnnouncementID, a.FailedAt, a.FailedRule, a.FailedReason = deref64(r.FailureAnnouncementID), r.FailureAt, r.FailedRule, r.FailedReason
		}
		out = append(out, a)
	}
	return out, nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
