package deposits

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// Where a virtual account's money stands is decided in one place, the
// view deposit_positions (migrations/00014): each inflow's position and
// whether it counts toward the deposit asked. The bidder's page, the
// supervisors' sheet, DepositCovered and the ledger check all read it, so
// they cannot disagree:
//
//   - held: valid money at the centre with no refund: it counts;
//   - refunding: valid money with a refund opened and not yet paid;
//   - refunded (or returned), forfeited, converted: gone or kept;
//   - invalid: late or paid by a third party (D2), owed back to the payer.
//
// Money counts toward the deposit when it was valid and the deposit did
// its job with it: held, forfeited (D7), converted into the price (L5), or
// refunded after the result (D5, D8, G6, L5, a failed lot). A refund of a
// withdrawal (D6) takes it out: withdrawn, the bidder has no deposit. When
// the registration comes back to life, a D6 refund not yet in a batch is
// cancelled and the money counts again (reviveDeposits); one already sent
// to the bank stands, and the bidder pays again.
//
// The ledger owes a virtual account held + refunding + invalid: the sum
// `deposits verify` ties to the journal.

// Position is what became of a virtual account's money, by position.
type Position struct {
	Paid      decimal.Decimal `gorm:"column:paid"`      // counts toward the deposit asked
	Held      decimal.Decimal `gorm:"column:held"`      // valid, at the centre, no refund
	Refunding decimal.Decimal `gorm:"column:refunding"` // valid, a refund opened and not paid
	Refunded  decimal.Decimal `gorm:"column:refunded"`  // paid back (to the bidder or the payer)
	Forfeited decimal.Decimal `gorm:"column:forfeited"` // kept (D7)
	Converted decimal.Decimal `gorm:"column:converted"` // part of the price (L5)
	Invalid   decimal.Decimal `gorm:"column:invalid"`   // late or third party, owed back
}

// positionColumns sums deposit_positions p by position; the columns of
// Position.
const positionColumns = `
	coalesce(sum(p.amount) FILTER (WHERE p.counts), 0) AS paid,
	coalesce(sum(p.amount) FILTER (WHERE p.position = 'held'), 0) AS held,
	coalesce(sum(p.amount) FILTER (WHERE p.position = 'refunding'), 0) AS refunding,
	coalesce(sum(p.amount) FILTER (WHERE p.position IN ('refunded', 'returned')), 0) AS refunded,
	coalesce(sum(p.amount) FILTER (WHERE p.position = 'forfeited'), 0) AS forfeited,
	coalesce(sum(p.amount) FILTER (WHERE p.position = 'converted'), 0) AS converted,
	coalesce(sum(p.amount) FILTER (WHERE p.position = 'invalid'), 0) AS invalid`

// Owed is what the centre still owes on the account: its ledger balance.
func (p Position) Owed() decimal.Decimal { return p.Held.Add(p.Refunding).Add(p.Invalid) }

// Shortfall is what is still to pay toward required (zero when paid).
func (p Position) Shortfall(required decimal.Decimal) decimal.Decimal {
	if short := required.Sub(p.Paid); short.IsPositive() {
		return short
	}
	return decimal.Zero
}

// DepositState is where a deposit stands, as a machine code (the API's
// `state`); Name is its Chinese text (the pages, the sheet, the API's
// `state_name`).
type DepositState string

const (
	StateWithdrawnRefunding DepositState = "withdrawn_refunding" // 已撤回报名，保证金退还中（D6）
	StateWithdrawnRefunded  DepositState = "withdrawn_refunded"  // 已撤回报名，保证金已退还（D6）
	StateWithdrawn          DepositState = "withdrawn"           // 已撤回报名
	StateShortOpen          DepositState = "short"               // 缴纳不足，可补缴差额
	StateUnpaid             DepositState = "unpaid"              // 未缴纳
	StateShortAtDeadline    DepositState = "short_at_deadline"   // 截止时未足额缴纳
	StateConverted          DepositState = "converted"           // 已足额缴纳，已转为成交价款（L5）
	StateForfeited          DepositState = "forfeited"           // 已足额缴纳，已没收（D7）
	StateRefunding          DepositState = "refunding"           // 已足额缴纳，退还中
	StateRefunded           DepositState = "refunded"            // 已足额缴纳，已退还
	StatePaid               DepositState = "paid"                // 已足额缴纳
)

var depositStateNames = map[DepositState]string{
	StateWithdrawnRefunding: "已撤回报名，保证金退还中（D6）",
	StateWithdrawnRefunded:  "已撤回报名，保证金已退还（D6）",
	StateWithdrawn:          "已撤回报名",
	StateShortOpen:          "缴纳不足，可补缴差额",
	StateUnpaid:             "未缴纳",
	StateShortAtDeadline:    "截止时未足额缴纳",
	StateConverted:          "已足额缴纳，已转为成交价款（L5）",
	StateForfeited:          "已足额缴纳，已没收（D7）",
	StateRefunding:          "已足额缴纳，退还中",
	StateRefunded:           "已足额缴纳，已退还",
	StatePaid:               "已足额缴纳",
}

// DepositStates lists every state, for the API document's enum.
func DepositStates() []DepositState {
	return []DepositState{StateWithdrawnRefunding, StateWithdrawnRefunded, StateWithdrawn, StateShortOpen, StateUnpaid,
		StateShortAtDeadline, StateConverted, StateForfeited, StateRefunding, StateRefunded, StatePaid}
}

// Name is the state in Chinese.
func (s DepositState) Name() string { return depositStateNames[s] }

// StateCode says where the deposit stands at now.
func (p Position) StateCode(required decimal.Decimal, deadline time.Time, withdrawn bool, now time.Time) DepositState {
	if withdrawn {
		switch {
		case p.Refunding.IsPositive():
			return StateWithdrawnRefunding
		case p.Refunded.IsPositive():
			return StateWithdrawnRefunded
		}
		return StateWithdrawn
	}
	if p.Shortfall(required).IsPositive() {
		switch {
		case p.Paid.IsPositive() && now.Before(deadline):
			return StateShortOpen
		case now.Before(deadline):
			return StateUnpaid
		}
		return StateShortAtDeadline
	}
	switch {
	case p.Converted.IsPositive():
		return StateConverted
	case p.Forfeited.IsPositive():
		return StateForfeited
	case p.Refunding.IsPositive() && !p.Held.IsPositive():
		return StateRefunding
	case p.Refunded.IsPositive() && !p.Held.IsPositive():
		return StateRefunded
	}
	return StatePaid
}

// State says in Chinese where the deposit stands at now.
func (p Position) State(required decimal.Decimal, deadline time.Time, withdrawn bool, now time.Time) string {
	return p.StateCode(required, deadline, withdrawn, now).Name()
}

// positionsOf reads the positions of the virtual accounts ids.
func positionsOf(tx *gorm.DB, ids []int64) (map[int64]Position, error) {
	out := make(map[int64]Position, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		VirtualAccountID int64 `gorm:"column:virtual_account_id"`
		Position
	}
	// Equivalent SQL: the positions of each account's inflows, summed.
	if err := tx.Raw(`SELECT p.virtual_account_id, `+positionColumns+`
		FROM deposit_positions p WHERE p.virtual_account_id IN ? GROUP BY p.virtual_account_id`, ids).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.VirtualAccountID] = r.Position
	}
	return out, nil
}

// reviveDeposits cancels the D6 refunds of revived registrations that no
// batch has taken yet (run by openAccounts, in the registration's
// transaction, when a registration already had its account): the money is still at the centre and counts again. A
// refund a batch has taken (sent, paid, or failed and waiting to be sent
// again) stands. CreateBatch locks the refunds it takes, so a refund is
// either cancelled here or batched there, never both.
func (s *Service) reviveDeposits(tx *gorm.DB, regs []bidding.Registered) error {
	revived := make([]int64, len(regs))
	for i, r := range regs {
		revived[i] = r.Reg.ID
	}
	var cancelled []struct {
		ID        int64           `gorm:"column:id"`
		Principal decimal.Decimal `gorm:"column:principal"`
		Number    string          `gorm:"column:number"`
	}
	// Equivalent SQL: delete the pending D6 refunds of the revived
	// registrations' virtual accounts.
	if err := tx.Raw(`DELETE FROM refunds r USING inflows i, virtual_accounts va
		WHERE r.inflow_id = i.id AND i.virtual_account_id = va.id AND va.registration_id IN ?
			AND r.rule = 'D6' AND r.status = 'pending'
		RETURNING r.id, r.principal, va.number`, revived).Scan(&cancelled).Error; err != nil {
		return err
	}
	for _, c := range cancelled {
		if err := trading.Audit(tx, s.now(), trading.SystemActor, "refund.cancel", "refund", fmt.Sprint(c.ID),
			fmt.Sprintf("重新报名，撤销尚未发出的 D6 退款 %s 元（子账号 %s），该款项重新计入保证金", c.Principal.StringFixed(2), c.Number)); err != nil {
			return err
		}
	}
	return nil
}
