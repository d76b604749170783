package trading

import (
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// OutcomeStatus is how a lot ended, in the terms of the savings report.
type OutcomeStatus string

const (
	OutcomeCompleted OutcomeStatus = "completed" // awarded / sold: counted in the figures
	OutcomeFailed    OutcomeStatus = "failed"    // 流标/废标/流拍: counted apart, never in a rate
	OutcomeCancelled OutcomeStatus = "cancelled" // terminated before a result
)

// Name is the Chinese name of the status.
func (s OutcomeStatus) Name() string {
	return map[OutcomeStatus]string{OutcomeCompleted: "已成交", OutcomeFailed: "流标/流拍", OutcomeCancelled: "已终止"}[s]
}

// LotOutcome is one decided lot of the savings report ("Savings and premium
// figures" in RULES.md). Base is the control price (engineering), budget
// (procurement) or starting price (land, property); Result the winning
// price, contract amount or deal price. The bidding package writes it as
// results are published; the report only reads it.
type LotOutcome struct {
	LotID      int64            `gorm:"column:lot_id;primaryKey" json:"lot_id"`
	ProjectID  int64            `gorm:"column:project_id" json:"project_id"`
	Category   Category         `gorm:"column:category" json:"category"`
	RegionCode string           `gorm:"column:region_code" json:"region_code"`
	Status     OutcomeStatus    `gorm:"column:status" json:"status"`
	Rule       string           `gorm:"column:rule" json:"rule,omitempty"`
	Reason     string           `gorm:"column:reason" json:"reason,omitempty"`
	Base       *decimal.Decimal `gorm:"column:base;type:numeric(18,2)" json:"base,omitempty"`
	Result     *decimal.Decimal `gorm:"column:result;type:numeric(18,2)" json:"result,omitempty"`
	DecidedOn  time.Time        `gorm:"column:decided_on;type:date" json:"decided_on"`
	UpdatedAt  time.Time        `gorm:"column:updated_at" json:"-"`
}

func (LotOutcome) TableName() string { return "lot_outcomes" }

// Savings is base − result for engineering and procurement (节约资金) and
// result − base for land and property (溢价); negative savings are real.
func (o *LotOutcome) Savings() decimal.Decimal {
	if o.Base == nil || o.Result == nil {
		return decimal.Zero
	}
	if o.Category == Land || o.Category == Property {
		return o.Result.Sub(*o.Base)
	}
	return o.Base.Sub(*o.Result)
}

// BaseFor is the base of the figures of a lot of the category: control
// price, budget or starting price (nil when the lot lacks it).
func BaseFor(c Category, l *Lot) *decimal.Decimal {
	switch c {
	case Engineering:
		return l.ControlPrice
	case Procurement:
		return l.Budget
	case Land:
		return l.StartingPrice
	default: // property: the listing price is its starting price
		if l.StartingPrice != nil {
			return l.StartingPrice
		}
		return l.ListingPrice
	}
}

// SetOutcome records or replaces the outcome of a lot inside tx.
func SetOutcome(tx *gorm.DB, o *LotOutcome) error {
	return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "lot_id"}}, UpdateAll: true}).Create(o).Error
}
