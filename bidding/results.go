package bidding

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

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// Stage is where a lot's result stands.
//
//	engineering, procurement: opened → failed
//	                          opened → candidates → award → awarded → contracted
//	land, property:           deal → sold | no_sale
//
// award and deal wait for their result notice: publication moves them on.
type Stage string

const (
	StageOpened     Stage = "opened"     // bid-opening record entered
	StageFailed     Stage = "failed"     // 流标/废标 (E7, G10, all rejected)
	StageCandidates Stage = "candidates" // candidate publicity notice drafted or out
	StageAward      Stage = "award"      // result notice written, waiting for publication
	StageAwarded    Stage = "awarded"    // result notice published (中标通知)
	StageContracted Stage = "contracted" // contract signed
	StageDeal       Stage = "deal"       // land/property result notice waiting
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
	LotID              int64            `gorm:"column:lot_id;primaryKey" json:"lot_id"`
	Stage              Stage            `gorm:"column:stage" json:"stage"`
	FailedRule         string           `gorm:"column:failed_rule" json:"failed_rule,omitempty"`
	FailedReason       string           `gorm:"column:failed_reason" json:"failed_reason,omitempty"`
	OpenedAt           *time.Time       `gorm:"column:opened_at" json:"opened_at,omitempty"`
	CandidatesNoticeID *int64           `gorm:"column:candidates_notice_id" json:"candidates_notice_id,omitempty"`
	PublicityEnd       *time.Time       `gorm:"column:publicity_end" json:"publicity_end,omitempty"`
	WinnerID           *int64           `gorm:"column:winner_id" json:"winner_id,omitempty"`
	Amount             *decimal.Decimal `gorm:"column:amount;type:numeric(18,2)" json:"amount,omitempty"`
	AwardReason        string           `gorm:"column:award_reason" json:"award_reason,omitempty"`
	ResultNoticeID     *int64           `gorm:"column:result_notice_id" json:"result_notice_id,omitempty"`
	AwardedAt          *time.Time       `gorm:"column:awarded_at" json:"awarded_at,omitempty"`
	ContractDate       *time.Time       `gorm:"column:contract_date;type:date" json:"contract_date,omitempty"`
	ContractAmount     *decimal.Decimal `gorm:"column:contract_amount;type:numeric(18,2)" json:"contract_amount,omitempty"`
	ContractLate       bool             `gorm:"column:contract_late" json:"contract_late"`
	CreatedAt          time.Time        `gorm:"column:created_at" json:"created_at"`
	UpdatedAt          time.Time        `gorm:"column:updated_at" json:"updated_at"`
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
	EventAwarded    ResultEventKind = "awarded"    // result notice published (engineering, procurement)
	EventContracted ResultEventKind = "contracted" // contract signed
	EventSold       ResultEventKind = "sold"       // land/property result notice published
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

// Errors of results.
var ErrResultStage = fmt.Errorf("result stage: %w", trading.ErrConflict)

// BidInput is one line of the opening record as the agent enters it.
type BidInput struct {
	IDNumber       string `json:"id_number" form:"id_number"` // the bidder's unified social credit code
	Price          string `json:"price" form:"price"`         // yuan; may be empty when fewer than 3 bid (not opened, E7)
	RejectedReason string `json:"rejected_reason" form:"rejected_reason"`
}

// OpeningInput is the bid-opening record (开标记录) of a lot.
type OpeningInput struct {
	Bids []BidInput `json:"bids"`
}

// CandidatesInput ranks the candidates (E11) for their publicity (E12).
type CandidatesInput struct {
	IDNumbers    []string  `json:"id_numbers"`    // in rank order, first = no. 1
	PublicityEnd time.Time `json:"publicity_end"` // end of the publicity period
	Note         string    `json:"note"`          // extra text for the notice
}

// AwardInput names the winner among the candidates (E13).
type AwardInput struct {
	IDNumber string `json:"id_number"`
	// Declined says why higher-ranked candidates are passed over (E13):
	// id number → reason (放弃中标, 不能履行合同, 查实违法…).
	Declined map[string]string `json:"declined"`
	Note     string            `json:"note"`
}

// ContractInput is the signed contract of an awarded lot.
type ContractInput struct {
	Date   time.Time `json:"date"`   // the contract's date (Shanghai calendar date)
	Amount string    `json:"amount"` // procurement: the contract amount (default: the award); else optional
}

// DealInput is the outcome of a land or property lot.
type DealInput struct {
	NoSale   bool   `json:"no_sale"`
	IDNumber string `json:"id_number"` // the buyer (竞得人/受让方)
	Price    string `json:"price"`     // the deal price (成交价)
	Reason   string `json:"reason"`    // why no sale
	Note     string `json:"note"`
}

// ResultView is a lot's result for the agent's and supervisors' pages.
type ResultView struct {
	Project *trading.Project
	Lot     *trading.Lot
	Result  *LotResult // nil: nothing recorded yet
	Bids    []LotBid
	Winner  string // the winner's or buyer's name
	// Notices are the candidate and result notices, when written.
	CandidatesNotice *trading.Announcement
	ResultNotice     *trading.Announcement
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
			return nil, nil, nil, trading.NotFound("标段")
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
	err = tx.First(&r, "lot_id = ?", lotID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, lot, nil, nil
	}
	if err != nil {
		return nil, nil, nil, err
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
	return &trading.Error{Status: 409, Code: "conflict", Field: "stage", Err: ErrResultStage,
		Message: fmt.Sprintf("标段结果处于“%s”阶段，不能%s", r.Stage.Name(), what)}
}

func isBidTender(c trading.Category) bool { return c == "engineering" || c == "procurement" }

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

// RecordOpening enters the bid-opening record of an engineering or
// procurement lot after its deadline (E6). Fewer than 3 bidders fails the
// tender without opening (E7); fewer than 3 qualified suppliers fails a
// procurement (G10); all bids rejected fails it too. Until candidates are
// ranked the record may be entered again, replacing the previous one.
func (s *Service) RecordOpening(ctx context.Context, a trading.Actor, lotID int64, in OpeningInput) (*LotResult, error) {
	now := s.Clock.Now()
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	var out *LotResult
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if !isBidTender(p.Category) {
			return trading.Invalid("bids", "%s没有开标记录，请录入成交结果", p.Category.Name())
		}
		if r != nil && r.Stage != StageOpened {
			return stageConflict(r, "重新录入开标记录")
		}
		if len(in.Bids) == 0 {
			return trading.Invalid("bids", "请录入递交投标文件的投标人（没有投标人的，同样录入为流标）")
		}
		if len(in.Bids) > 500 {
			return trading.Invalid("bids", "开标记录最多500家")
		}
		bids := make([]LotBid, 0, len(in.Bids))
		seen := map[int64]bool{}
		valid := 0
		for i, b := range in.Bids {
			field := fmt.Sprintf("bids[%d]", i)
			if strings.TrimSpace(b.IDNumber) == "" {
				return trading.Invalid(field+".id_number", "第%d行：请填写投标人的统一社会信用代码", i+1)
			}
			id, _, err := registeredBidder(tx, lotID, b.IDNumber)
			if err != nil {
				return err
			}
			if id == 0 {
				return trading.Invalid(field+".id_number", "第%d行：%s 未报名本标段或报名已撤回", i+1, b.IDNumber)
			}
			if seen[id] {
				return trading.Invalid(field+".id_number", "第%d行：%s 重复录入", i+1, b.IDNumber)
			}
			seen[id] = true
			bid := LotBid{LotID: lotID, BidderID: id, RejectedReason: strings.TrimSpace(b.RejectedReason)}
			if utf8.RuneCountInString(bid.RejectedReason) > 200 {
				return trading.Invalid(field+".rejected_reason", "第%d行：否决理由不超过200字", i+1)
			}
			if strings.TrimSpace(b.Price) != "" {
				price, err := trading.ParseAmount(b.Price)
				if err != nil || !price.IsPositive() {
					return trading.Invalid(field+".price", "第%d行：投标报价应为大于0、最多两位小数的金额（元）", i+1)
				}
				bid.Price = &price
			}
			if bid.RejectedReason == "" {
				valid++
			}
			bids = append(bids, bid)
		}
		// Fewer than E7's number of bidders: not opened, so prices may be
		// missing; otherwise every bid has its price read out.
		notOpened := p.Category == "engineering" && len(bids) < book.E7MinBidders
		if !notOpened {
			for i, b := range bids {
				if b.Price == nil {
					return trading.Invalid(fmt.Sprintf("bids[%d].price", i), "第%d行：开标时须录入投标报价", i+1)
				}
			}
		}
		if err := tx.Exec("DELETE FROM lot_bids WHERE lot_id = ?", lotID).Error; err != nil {
			return err
		}
		out = &LotResult{LotID: lotID, Stage: StageOpened, OpenedAt: &now, CreatedAt: now, UpdatedAt: now}
		if r != nil {
			out.CreatedAt = r.CreatedAt
		}
		switch {
		case notOpened:
			out.Stage, out.FailedRule = StageFailed, "E7"
			out.FailedReason = fmt.Sprintf("递交投标文件的投标人%d个，少于%d个，不得开标，应重新招标", len(bids), book.E7MinBidders)
		case p.Category == "procurement" && valid < book.G10MinSuppliers:
			out.Stage, out.FailedRule = StageFailed, "G10"
			out.FailedReason = fmt.Sprintf("实质响应的供应商%d家，不足%d家，废标", valid, book.G10MinSuppliers)
		case valid == 0:
			out.Stage, out.FailedReason = StageFailed, "所有投标均被否决，应重新招标"
		}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "lot_id"}}, UpdateAll: true}).Create(out).Error; err != nil {
			return err
		}
		if err := tx.Create(&bids).Error; err != nil {
			return err
		}
		summary := fmt.Sprintf("项目 %s 标段%d 录入开标记录：%d家投标，有效%d家", p.Code, lot.Seq, len(bids), valid)
		if out.Stage == StageFailed {
			summary += "；" + out.FailedReason
			if err := s.fail(ctx, tx, p, lot, out, now); err != nil {
				return err
			}
		}
		return trading.Audit(tx, now, a, "result.opening", "lot", fmt.Sprint(lotID), summary)
	})
	return out, err
}

// DeclareFailed ends an opened lot without a winner (all bids rejected by
// the committee, or another lawful reason), with the reason.
func (s *Service) DeclareFailed(ctx context.Context, a trading.Actor, lotID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 4 || n > 500 {
		return trading.Invalid("reason", "请写明流标/废标的理由（4至500字）")
	}
	now := s.Clock.Now()
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if r == nil {
			return trading.Conflict("stage", "请先录入开标记录")
		}
		switch r.Stage {
		case StageOpened, StageCandidates, StageAward, StageAwarded:
			// Every candidate declined, or the winner would not sign (a
			// forfeiture under D7 is the supervisors' step, before this).
		default:
			return stageConflict(r, "宣布流标")
		}
		// Candidate or result notices still on their way are withdrawn:
		// nothing of a failed lot may still go out.
		for _, id := range []*int64{r.CandidatesNoticeID, r.ResultNoticeID} {
			if id == nil {
				continue
			}
			if err := tx.Exec(`UPDATE announcements SET status = 'rejected', reject_reason = '标段已宣布流标', publish_at = NULL, updated_at = ?
				WHERE id = ? AND status IN ('draft', 'submitted', 'scheduled', 'rejected')`, now, *id).Error; err != nil {
				return err
			}
		}
		r.Stage, r.FailedReason, r.UpdatedAt = StageFailed, reason, now
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if err := s.fail(ctx, tx, p, lot, r, now); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.failed", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s 标段%d 流标：%s", p.Code, lot.Seq, reason))
	})
}

// fail records a failed lot's outcome (counted apart, never in a rate)
// and tells the hooks (deposits refunds everyone).
func (s *Service) fail(ctx context.Context, tx *gorm.DB, p *trading.Project, lot *trading.Lot, r *LotResult, at time.Time) error {
	o := &trading.LotOutcome{LotID: lot.ID, ProjectID: p.ID, Category: p.Category, RegionCode: p.RegionCode,
		Status: trading.OutcomeFailed, Rule: r.FailedRule, Reason: r.FailedReason, DecidedOn: civil(at), UpdatedAt: at}
	if err := trading.SetOutcome(tx, o); err != nil {
		return err
	}
	return s.emit(tx, ResultEvent{Kind: EventFailed, Project: p, Lot: lot, Result: r, At: at, Rule: r.FailedRule})
}

func (s *Service) emit(tx *gorm.DB, ev ResultEvent) error {
	for _, hook := range s.OnResult {
		if err := hook(tx, ev); err != nil {
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

// SetCandidates ranks up to 3 candidates (E11) among the valid bids and
// writes the candidate publicity notice (中标候选人公示), which goes to the
// supervisors for review at once. The publicity lasts until PublicityEnd,
// at least 3 days from publication for engineering (E12, checked at
// submission and again at publication).
func (s *Service) SetCandidates(ctx context.Context, a trading.Actor, lotID int64, in CandidatesInput) (*trading.Announcement, error) {
	now := s.Clock.Now()
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.IDNumbers) == 0 {
		return nil, trading.Invalid("id_numbers", "请按排序选择中标候选人")
	}
	if len(in.IDNumbers) > book.E11MaxCandidates {
		return nil, &trading.Error{Status: 422, Code: "rule_violation", Field: "id_numbers", Rule: "E11", Err: trading.ErrRuleBroken,
			Message: fmt.Sprintf("中标候选人不得超过%d个（E11，实施条例第五十三条），实际%d个", book.E11MaxCandidates, len(in.IDNumbers))}
	}
	if in.Note = strings.TrimSpace(in.Note); utf8.RuneCountInString(in.Note) > 2000 {
		return nil, trading.Invalid("note", "说明不超过2000字")
	}
	var n *trading.Announcement
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if r == nil || !isBidTender(p.Category) {
			return trading.Conflict("stage", "请先录入开标记录")
		}
		var existing *trading.Announcement
		if r.Stage == StageCandidates && r.CandidatesNoticeID != nil {
			existing = &trading.Announcement{}
			if err := tx.First(existing, *r.CandidatesNoticeID).Error; err != nil {
				return err
			}
			if existing.Status != trading.NoticeDraft && existing.Status != trading.NoticeRejected {
				return trading.Conflict("stage", "候选人公示已%s，不能重新排序（待审核的请先撤回）", existing.Status.Name())
			}
		} else if r.Stage != StageOpened {
			return stageConflict(r, "确定中标候选人")
		}
		if p.Category == "engineering" && in.PublicityEnd.IsZero() {
			return trading.Invalid("publicity_end", "请填写公示截止时间（E12：公示期不少于%d日）", book.E12MinDays)
		}
		if !in.PublicityEnd.IsZero() && !in.PublicityEnd.After(now) {
			return trading.Invalid("publicity_end", "公示截止时间应晚于现在")
		}
		bids, err := bidsOf(tx, lotID)
		if err != nil {
			return err
		}
		byID := map[string]*LotBid{}
		for i := range bids {
			byID[bids[i].IDNumber] = &bids[i]
		}
		if err := tx.Exec("UPDATE lot_bids SET rank = NULL, declined_reason = '' WHERE lot_id = ?", lotID).Error; err != nil {
			return err
		}
		var ranked []*LotBid
		for i, id := range in.IDNumbers {
			field := fmt.Sprintf("id_numbers[%d]", i)
			b := byID[strings.ToUpper(strings.TrimSpace(id))]
			switch {
			case b == nil:
				return trading.Invalid(field, "第%d名 %s 不在开标记录中", i+1, id)
			case b.RejectedReason != "":
				return trading.Invalid(field, "第%d名 %s 的投标已被否决（%s），不能作为中标候选人", i+1, b.BidderName, b.RejectedReason)
			case b.Rank != nil:
				return trading.Invalid(field, "%s 重复排序", b.BidderName)
			}
			rank := i + 1
			b.Rank = &rank
			if err := tx.Exec("UPDATE lot_bids SET rank = ? WHERE lot_id = ? AND bidder_id = ?", rank, lotID, b.BidderID).Error; err != nil {
				return err
			}
			ranked = append(ranked, b)
		}
		title := fmt.Sprintf("%s 标段%d 中标候选人公示", p.Title, lot.Seq)
		if p.Category == "procurement" {
			title = fmt.Sprintf("%s 包%d 评审结果（候选供应商）公示", p.Title, lot.Seq)
		}
		title = clip(title, 200)
		body := candidatesBody(p, lot, ranked, in.PublicityEnd, in.Note)
		if existing != nil {
			if n, err = s.Trading.RewriteNoticeTx(tx, a, existing.ID, title, body); err != nil {
				return err
			}
		} else {
			if n, err = s.Trading.DraftNoticeTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.NoticeCandidates, Title: title, Body: body}); err != nil {
				return err
			}
		}
		r.Stage, r.CandidatesNoticeID, r.UpdatedAt = StageCandidates, &n.ID, now
		r.PublicityEnd = nil
		if !in.PublicityEnd.IsZero() {
			end := in.PublicityEnd
			r.PublicityEnd = &end
		}
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if err := s.Trading.SubmitNoticeTx(ctx, tx, a, n, p); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.candidates", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s 标段%d 确定中标候选人%d名，公示提交审核", p.Code, lot.Seq, len(ranked)))
	})
	return n, err
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// mdCell keeps a name from breaking the Markdown table of a notice.
func mdCell(s string) string {
	return strings.NewReplacer("|", "｜", "\n", " ", "\r", " ").Replace(s)
}

func candidatesBody(p *trading.Project, lot *trading.Lot, ranked []*LotBid, end time.Time, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "项目名称：%s\n\n交易编码：%s\n\n标段：%d（%s）\n\n", mdCell(p.Title), p.Code, lot.Seq, mdCell(lot.Name))
	b.WriteString("| 排序 | 中标候选人 | 统一社会信用代码 | 投标报价（元） |\n|---|---|---|---|\n")
	for _, c := range ranked {
		fmt.Fprintf(&b, "| 第%d名 | %s | %s | %s |\n", *c.Rank, mdCell(c.BidderName), c.IDNumber, trading.Yuan(*c.Price))
	}
	if !end.IsZero() {
		fmt.Fprintf(&b, "\n公示期：自本公告发布之日起至 %s 止。投标人或者其他利害关系人对评标结果有异议的，应当在公示期间提出。\n", fmtTime(end))
	}
	if note != "" {
		b.WriteString("\n" + note + "\n")
	}
	return b.String()
}

// checkNotice is the rule book's part for candidate and result notices
// (trading.Service.CheckNotice): they come only from a lot's result
// record; a candidate publicity lasts at least E12's days from the moment
// of publication.
func (s *Service) checkNotice(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project, at time.Time) ([]rules.Violation, error) {
	if n.Type != trading.NoticeCandidates && n.Type != trading.NoticeResult {
		return nil, nil
	}
	var r LotResult
	col := "candidates_notice_id"
	if n.Type == trading.NoticeResult {
		col = "result_notice_id"
	}
	err := tx.WithContext(ctx).First(&r, col+" = ?", n.ID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return []rules.Violation{{Rule: rules.RuleRequired, Field: "type",
			Requirement: n.Type.Name() + "须在标段的“开标与结果”页面由开标记录生成",
			Actual:      "该公告未关联任何标段结果"}}, nil
	}
	if err != nil {
		return nil, err
	}
	if n.Type != trading.NoticeCandidates || p.Category != "engineering" {
		return nil, nil
	}
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	min := at.AddDate(0, 0, book.E12MinDays)
	if r.PublicityEnd == nil || r.PublicityEnd.Before(min) {
		return []rules.Violation{{Rule: "E12", Field: "publicity_end", Source: "招标投标法实施条例第五十四条",
			Requirement: fmt.Sprintf("中标候选人公示期不得少于%d日", book.E12MinDays),
			Actual:      fmt.Sprintf("公示截止 %s，按 %s 发布计，应不早于 %s", fmtTime(deref(r.PublicityEnd)), fmtTime(at), fmtTime(min))}}, nil
	}
	return nil, nil
}

// Award names the winner among the ranked candidates once their publicity
// is over (E12) and writes the result notice (中标结果公告) for review. For
// state-funded projects the winner is the best-ranked candidate not
// declined for a stated reason (E13). The winning amount is the winner's
// bid price.
func (s *Service) Award(ctx context.Context, a trading.Actor, lotID int64, in AwardInput) (*trading.Announcement, error) {
	now := s.Clock.Now()
	if in.Note = strings.TrimSpace(in.Note); utf8.RuneCountInString(in.Note) > 2000 {
		return nil, trading.Invalid("note", "说明不超过2000字")
	}
	var n *trading.Announcement
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if r == nil || !isBidTender(p.Category) || (r.Stage != StageCandidates && r.Stage != StageAward && r.Stage != StageAwarded) {
			if r == nil {
				return trading.Conflict("stage", "请先录入开标记录并公示中标候选人")
			}
			return stageConflict(r, "确定中标人")
		}
		// After an award, the next candidate may be named only because the
		// winner declined (放弃中标, refused to sign, E13 / 实施条例第五十五条):
		// the reason is required, and a new result notice goes out.
		if r.Stage == StageAwarded {
			var prevID string
			if err := tx.Raw("SELECT id_number FROM bidders WHERE account_id = ?", *r.WinnerID).Scan(&prevID).Error; err != nil {
				return err
			}
			if strings.EqualFold(strings.TrimSpace(in.IDNumber), prevID) {
				return trading.Conflict("id_number", "该投标人已是中标人")
			}
			if strings.TrimSpace(in.Declined[prevID]) == "" {
				return trading.Invalid("declined", "已定标后改定中标人，须写明原中标人未签订合同的理由（放弃中标、拒签合同等）")
			}
		}
		var existing *trading.Announcement
		if r.Stage == StageAward {
			existing = &trading.Announcement{}
			if err := tx.First(existing, *r.ResultNoticeID).Error; err != nil {
				return err
			}
			if existing.Status != trading.NoticeDraft && existing.Status != trading.NoticeRejected {
				return trading.Conflict("stage", "结果公告已%s，不能更换中标人（待审核的请先撤回）", existing.Status.Name())
			}
		}
		var cn trading.Announcement
		if err := tx.First(&cn, *r.CandidatesNoticeID).Error; err != nil {
			return err
		}
		if cn.Status != trading.NoticePublished {
			return trading.Conflict("stage", "中标候选人公示尚未发布（当前：%s）", cn.Status.Name())
		}
		if r.PublicityEnd != nil && now.Before(*r.PublicityEnd) {
			return &trading.Error{Status: 409, Code: "rule_violation", Field: "publicity_end", Rule: "E12", Err: trading.ErrRuleBroken,
				Message: fmt.Sprintf("中标候选人公示期至 %s 结束，公示期满前不能确定中标人（E12）", fmtTime(*r.PublicityEnd))}
		}
		// A new award states its own reasons: earlier ones go.
		if err := tx.Exec("UPDATE lot_bids SET declined_reason = '' WHERE lot_id = ?", lotID).Error; err != nil {
			return err
		}
		bids, err := bidsOf(tx, lotID)
		if err != nil {
			return err
		}
		var winner *LotBid
		id := strings.ToUpper(strings.TrimSpace(in.IDNumber))
		for i := range bids {
			if bids[i].IDNumber == id && bids[i].Rank != nil {
				winner = &bids[i]
			}
		}
		if winner == nil {
			return trading.Invalid("id_number", "中标人须是公示的中标候选人之一")
		}
		// E13: every better-ranked candidate must be declined with a reason.
		reasons := []string{}
		for i := range bids {
			b := &bids[i]
			if b.Rank == nil || *b.Rank >= *winner.Rank {
				continue
			}
			why := strings.TrimSpace(in.Declined[b.IDNumber])
			if why == "" {
				if p.StateFunded {
					return &trading.Error{Status: 422, Code: "rule_violation", Field: "declined", Rule: "E13", Err: trading.ErrRuleBroken,
						Message: fmt.Sprintf("国有资金占控股或主导地位的项目应确定排名第一的中标候选人为中标人；跳过第%d名 %s 须写明其放弃中标等理由（E13，实施条例第五十五条）",
							*b.Rank, b.BidderName)}
				}
				return trading.Invalid("declined", "未按排序确定中标人的，须写明第%d名 %s 未被确定的理由", *b.Rank, b.BidderName)
			}
			if utf8.RuneCountInString(why) > 200 {
				return trading.Invalid("declined", "理由不超过200字")
			}
			if err := tx.Exec("UPDATE lot_bids SET declined_reason = ? WHERE lot_id = ? AND bidder_id = ?", why, lotID, b.BidderID).Error; err != nil {
				return err
			}
			reasons = append(reasons, fmt.Sprintf("第%d名 %s：%s", *b.Rank, b.BidderName, why))
		}
		title := clip(fmt.Sprintf("%s 标段%d 中标结果公告", p.Title, lot.Seq), 200)
		if p.Category == "procurement" {
			title = clip(fmt.Sprintf("%s 包%d 中标（成交）结果公告", p.Title, lot.Seq), 200)
		}
		var body strings.Builder
		fmt.Fprintf(&body, "项目名称：%s\n\n交易编码：%s\n\n标段：%d（%s）\n\n中标人：%s（统一社会信用代码 %s）\n\n中标金额：%s 元\n",
			mdCell(p.Title), p.Code, lot.Seq, mdCell(lot.Name), mdCell(winner.BidderName), winner.IDNumber, trading.Yuan(*winner.Price))
		if len(reasons) > 0 {
			body.WriteString("\n排名在前的中标候选人未被确定为中标人的理由：\n\n")
			for _, x := range reasons {
				body.WriteString("- " + mdCell(x) + "\n")
			}
		}
		if in.Note != "" {
			body.WriteString("\n" + in.Note + "\n")
		}
		if existing != nil {
			n, err = s.Trading.RewriteNoticeTx(tx, a, existing.ID, title, body.String())
		} else {
			n, err = s.Trading.DraftNoticeTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.NoticeResult, Title: title, Body: body.String()})
		}
		if err != nil {
			return err
		}
		r.Stage, r.WinnerID, r.Amount, r.ResultNoticeID, r.UpdatedAt = StageAward, &winner.BidderID, winner.Price, &n.ID, now
		r.AwardReason = strings.Join(reasons, "；")
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if err := s.Trading.SubmitNoticeTx(ctx, tx, a, n, p); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.award", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s 标段%d 确定中标人 %s，中标金额 %s 元，结果公告提交审核", p.Code, lot.Seq, winner.BidderName, trading.Yuan(*winner.Price)))
	})
	return n, err
}

// RecordDeal enters the outcome of a land or property lot after its
// auction or listing: the buyer and the deal price, which may not be below
// the starting price nor the secret reserve price (L3); or no sale. It
// writes the result notice (成交公告 / 流拍公告) for review.
func (s *Service) RecordDeal(ctx context.Context, a trading.Actor, lotID int64, in DealInput) (*trading.Announcement, error) {
	now := s.Clock.Now()
	in.Reason, in.Note = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > 2000 {
		return nil, trading.Invalid("note", "说明不超过2000字")
	}
	var n *trading.Announcement
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if isBidTender(p.Category) {
			return trading.Invalid("stage", "%s请录入开标记录", p.Category.Name())
		}
		var existing *trading.Announcement
		if r != nil {
			if r.Stage != StageDeal {
				return stageConflict(r, "录入成交结果")
			}
			existing = &trading.Announcement{}
			if err := tx.First(existing, *r.ResultNoticeID).Error; err != nil {
				return err
			}
			if existing.Status != trading.NoticeDraft && existing.Status != trading.NoticeRejected {
				return trading.Conflict("stage", "结果公告已%s，不能修改（待审核的请先撤回）", existing.Status.Name())
			}
		} else {
			r = &LotResult{LotID: lotID, CreatedAt: now}
		}
		r.Stage, r.UpdatedAt, r.WinnerID, r.Amount, r.FailedReason = StageDeal, now, nil, nil, ""
		var title string
		var body strings.Builder
		fmt.Fprintf(&body, "项目名称：%s\n\n交易编码：%s\n\n标的：%d（%s）\n\n", mdCell(p.Title), p.Code, lot.Seq, mdCell(lot.Name))
		if in.NoSale {
			if k := utf8.RuneCountInString(in.Reason); k < 4 || k > 500 {
				return trading.Invalid("reason", "请写明未成交的原因（4至500字）")
			}
			r.FailedReason = in.Reason
			title = fmt.Sprintf("%s %d号标的 未成交公告", p.Title, lot.Seq)
			fmt.Fprintf(&body, "交易结果：未成交\n\n原因：%s\n", mdCell(in.Reason))
		} else {
			id, name, regID, err := registration(tx, lotID, in.IDNumber)
			if err != nil {
				return err
			}
			if id == 0 {
				return trading.Invalid("id_number", "竞得人须是本标的竞买申请已通过的竞买人")
			}
			// Bidding needs the deposit paid (or a verified guarantee): it
			// becomes part of the price (L5).
			if lot.Deposit.IsPositive() && s.DepositCovered != nil {
				ok, _, err := s.DepositCovered(tx, regID)
				if err != nil {
					return err
				}
				if !ok {
					return trading.Invalid("id_number", "%s 的竞买保证金 %s 元未足额到账（也无有效保函），不能作为竞得人", name, lot.Deposit.StringFixed(2))
				}
			}
			price, err := trading.ParseAmount(in.Price)
			if err != nil || !price.IsPositive() {
				return trading.Invalid("price", "成交价应为大于0、最多两位小数的金额（元）")
			}
			base := trading.BaseFor(p.Category, lot)
			if base != nil && price.LessThan(*base) {
				return trading.Invalid("price", "成交价 %s 元低于起始价（挂牌价） %s 元", price.StringFixed(2), base.StringFixed(2))
			}
			if lot.ReservePrice != nil && price.LessThan(*lot.ReservePrice) {
				// The reserve price is secret: say that it was not reached, not what it is.
				return &trading.Error{Status: 422, Code: "rule_violation", Field: "price", Rule: "L3", Err: trading.ErrRuleBroken,
					Message: "成交价低于底价，不能成交（L3：报价均低于底价的不成交），请录入未成交"}
			}
			r.WinnerID, r.Amount = &id, &price
			title = fmt.Sprintf("%s %d号标的 成交公告", p.Title, lot.Seq)
			fmt.Fprintf(&body, "竞得人（受让方）：%s\n\n成交价：%s 元\n", mdCell(name), trading.Yuan(price))
		}
		if in.Note != "" {
			body.WriteString("\n" + in.Note + "\n")
		}
		title = clip(title, 200)
		if existing != nil {
			n, err = s.Trading.RewriteNoticeTx(tx, a, existing.ID, title, body.String())
		} else {
			n, err = s.Trading.DraftNoticeTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.NoticeResult, Title: title, Body: body.String()})
		}
		if err != nil {
			return err
		}
		r.ResultNoticeID = &n.ID
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "lot_id"}}, UpdateAll: true}).Create(r).Error; err != nil {
			return err
		}
		if err := s.Trading.SubmitNoticeTx(ctx, tx, a, n, p); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.deal", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s 标的%d 录入交易结果，结果公告提交审核", p.Code, lot.Seq))
	})
	return n, err
}

// onResultPublished moves a lot's result on when its result notice is
// published: awarded (engineering, procurement), sold or no sale (land,
// property); the outcome enters the savings figures.
func (s *Service) onResultPublished(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project) error {
	if n.Type != trading.NoticeResult {
		return nil
	}
	var r LotResult
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&r, "result_notice_id = ?", n.ID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil // checkNotice refuses such notices; nothing to move
	}
	if err != nil {
		return err
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
		o.Status, o.Base, o.Result, o.Reason = trading.OutcomeFailed, nil, nil, r.FailedReason
	default:
		return fmt.Errorf("result notice %d published at stage %s", n.ID, r.Stage)
	}
	if o.Status == trading.OutcomeCompleted && o.Base == nil {
		return trading.Conflict("lot", "标段缺少计算节约率/溢价率的基数（控制价、预算或起始价）")
	}
	if err := tx.Save(&r).Error; err != nil {
		return err
	}
	if err := trading.SetOutcome(tx, o); err != nil {
		return err
	}
	return s.emit(tx, ResultEvent{Kind: kind, Project: p, Lot: &lot, Result: &r, At: at})
}

// RecordContract enters the signed contract of an awarded lot: its date
// (not in the future, not before the award) and, for procurement, the
// contract amount that the savings figures use (default: the award). A
// contract later than 30 days after the award notice is flagged (E14,
// G13). Deposits are refunded on it (D5, G6).
func (s *Service) RecordContract(ctx context.Context, a trading.Actor, lotID int64, in ContractInput) (*LotResult, error) {
	now := s.Clock.Now()
	if in.Date.IsZero() {
		return nil, trading.Invalid("date", "请填写合同签订日期")
	}
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	var out *LotResult
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if r == nil || r.Stage != StageAwarded {
			if r == nil {
				return trading.Conflict("stage", "标段尚未定标")
			}
			return stageConflict(r, "录入合同")
		}
		date := civil(in.Date)
		if date.After(civil(now)) {
			return trading.Invalid("date", "合同签订日期不能晚于今天")
		}
		if date.Before(civil(*r.AwardedAt)) {
			return trading.Invalid("date", "合同签订日期不能早于中标结果公告发布日（%s）", r.AwardedAt.In(trading.Shanghai).Format("2006-01-02"))
		}
		amount := *r.Amount
		if strings.TrimSpace(in.Amount) != "" {
			if amount, err = trading.ParseAmount(in.Amount); err != nil || !amount.IsPositive() {
				return trading.Invalid("amount", "合同金额应为大于0、最多两位小数的金额（元）")
			}
		}
		maxDays, rule := book.E14MaxDays, "E14"
		if p.Category == "procurement" {
			maxDays, rule = book.G13MaxDays, "G13"
		}
		days := int(date.Sub(civil(*r.AwardedAt)).Hours() / 24)
		r.Stage, r.ContractDate, r.ContractAmount, r.UpdatedAt = StageContracted, &date, &amount, now
		r.ContractLate = days > maxDays
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if p.Category == "procurement" {
			// G: savings = budget − contract (actual purchase) amount.
			if err := tx.Model(&trading.LotOutcome{}).Where("lot_id = ?", lotID).
				Updates(map[string]any{"result": amount, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		summary := fmt.Sprintf("项目 %s 标段%d 合同签订于 %s，金额 %s 元（定标后第%d日）", p.Code, lot.Seq,
			date.Format("2006-01-02"), trading.Yuan(amount), days)
		if r.ContractLate {
			summary += fmt.Sprintf("；超过%d日（%s）", maxDays, rule)
		}
		if err := s.emit(tx, ResultEvent{Kind: EventContracted, Project: p, Lot: lot, Result: r,
			At: time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, trading.Shanghai)}); err != nil {
			return err
		}
		out = r
		return trading.Audit(tx, now, a, "result.contract", "lot", fmt.Sprint(lotID), summary)
	})
	return out, err
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
			return trading.NotFound("标段")
		}
		v.Project, v.Lot = p, lot
		v.Deadline = WindowOf(p, lot, openedAt(p)).Deadline
		var r LotResult
		err = tx.First(&r, "lot_id = ?", lotID).Error
		if err == nil {
			v.Result = &r
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		if v.Deadline.IsZero() || now.Before(v.Deadline) {
			return nil
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
		if v.CandidatesNotice, err = load(v.Result.CandidatesNoticeID); err != nil {
			return err
		}
		v.ResultNotice, err = load(v.Result.ResultNoticeID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// lotAwards lists a project's results whose result notice is out, for the
// OCDS export (trading.Service.LotAwards).
func (s *Service) lotAwards(ctx context.Context, projectID int64) ([]trading.LotAward, error) {
	var rows []struct {
		LotResult
		Winner string `gorm:"column:winner"`
	}
	// Equivalent SQL: SELECT r.*, b.name FROM lot_results r JOIN lots l … LEFT JOIN bidders b …
	//   WHERE l.project_id = ? AND r.stage IN ('awarded', 'contracted', 'sold', 'no_sale')
	err := s.DB.WithContext(ctx).Table("lot_results r").Select("r.*, coalesce(b.name, '') AS winner").
		Joins("JOIN lots l ON l.id = r.lot_id").Joins("LEFT JOIN bidders b ON b.account_id = r.winner_id").
		Where("l.project_id = ? AND r.stage IN ?", projectID, []Stage{StageAwarded, StageContracted, StageSold, StageNoSale}).
		Order("l.seq").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]trading.LotAward, 0, len(rows))
	for _, r := range rows {
		a := trading.LotAward{LotID: r.LotID, ResultNoticeID: deref64(r.ResultNoticeID), Successful: r.Stage != StageNoSale,
			SupplierID: deref64(r.WinnerID), SupplierName: r.Winner, Amount: r.Amount, ContractAmount: r.ContractAmount}
		if r.AwardedAt != nil {
			a.Date = *r.AwardedAt
		} else {
			a.Date = r.UpdatedAt // no sale: when its notice went out
		}
		if r.ContractDate != nil {
			d := time.Date(r.ContractDate.Year(), r.ContractDate.Month(), r.ContractDate.Day(), 0, 0, 0, 0, trading.Shanghai)
			a.ContractDate = &d
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
