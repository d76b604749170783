package deposits

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// LotDepositStates says, for each live registration of a lot, where its
// deposit stands and any K1 alert on it, for the agent's opening-record
// form (bidding.Service.DepositStates): the same positions as the bidder's
// page and the supervisors' sheet (position.go), a verified guarantee
// (D9) counting as paid. The form is shown only after the deadline, when
// the agent may know the bidders (K4/K5).
func (s *Service) LotDepositStates(ctx context.Context, tx *gorm.DB, lotID int64) (map[int64]bidding.DepositState, error) {
	var rows []struct {
		RegistrationID int64            `gorm:"column:registration_id"`
		Deposit        decimal.Decimal  `gorm:"column:deposit"`
		VirtualAccount *int64           `gorm:"column:va_id"`
		Required       *decimal.Decimal `gorm:"column:required"`
		Deadline       *time.Time       `gorm:"column:deadline"`
		Guaranteed     bool             `gorm:"column:guaranteed"`
	}
	today := s.now().In(trading.Shanghai).Format("2006-01-02")
	// Equivalent SQL: each live registration of the lot, with its virtual
	// account (if any) and whether a verified, valid guarantee covers the
	// lot's deposit.
	err := tx.WithContext(ctx).Raw(`SELECT r.id AS registration_id, l.deposit, va.id AS va_id, va.required, va.deadline,
			EXISTS (SELECT 1 FROM guarantees g WHERE g.registration_id = r.id AND g.status = ? AND g.amount >= l.deposit
				AND g.valid_until >= ?::date) AS guaranteed
		FROM registrations r JOIN lots l ON l.id = r.lot_id LEFT JOIN virtual_accounts va ON va.registration_id = r.id
		WHERE r.lot_id = ? AND r.status IN ('active', 'approved')`, GuaranteeVerified, today, lotID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, r := range rows {
		if r.VirtualAccount != nil {
			ids = append(ids, *r.VirtualAccount)
		}
	}
	positions, err := positionsOf(tx.WithContext(ctx), ids)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make(map[int64]bidding.DepositState, len(rows))
	for _, r := range rows {
		st := bidding.DepositState{}
		switch {
		case !r.Deposit.IsPositive():
			st.State = "无需缴纳"
		case r.Guaranteed:
			st.State, st.Paid = "保函已核验（D9）", true
		case r.VirtualAccount == nil:
			st.State = "未缴纳"
		default:
			p := positions[*r.VirtualAccount]
			st.State = p.State(*r.Required, *r.Deadline, false, now)
			st.Paid = !p.Shortfall(*r.Required).IsPositive()
		}
		out[r.RegistrationID] = st
	}
	// K1: unresolved alerts of the lot, each naming the registrations
	// whose money came from the alert's payer account; the form says with
	// whom (not the account number, which is the supervisors' to see).
	var k1 []struct {
		RegistrationID int64  `gorm:"column:registration_id"`
		Others         string `gorm:"column:others"`
	}
	err = tx.WithContext(ctx).Raw(`SELECT va.registration_id,
			(SELECT string_agg(DISTINCT b.name, '、') FROM inflows o JOIN virtual_accounts ova ON ova.id = o.virtual_account_id
				JOIN bidders b ON b.account_id = ova.bidder_id
				WHERE o.payer_account = da.payer_account AND ova.lot_id = da.lot_id AND ova.id <> va.id) AS others
		FROM deposit_alerts da JOIN inflows i ON i.payer_account = da.payer_account
		JOIN virtual_accounts va ON va.id = i.virtual_account_id AND va.lot_id = da.lot_id
		WHERE da.kind = 'K1' AND da.lot_id = ? AND da.resolved_at IS NULL
		GROUP BY va.registration_id, va.id, da.payer_account, da.lot_id`, lotID).Scan(&k1).Error
	if err != nil {
		return nil, err
	}
	for _, a := range k1 {
		st, ok := out[a.RegistrationID]
		if !ok {
			continue
		}
		alert := fmt.Sprintf("K1 预警：与%s由同一账户缴纳保证金（视为串通投标，实施条例第四十条）", a.Others)
		if st.K1 == "" {
			st.K1 = alert
		} else if !strings.Contains(st.K1, a.Others) {
			st.K1 += "；" + alert
		}
		out[a.RegistrationID] = st
	}
	return out, nil
}
