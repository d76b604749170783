// Package deposits holds the deposit (保证金) logic: strict yuan amounts,
// interest on refunds (D5, D8) and the occupation fee (G7), virtual
// sub-account numbers (虚拟子账号), and the bank statement parsers (CSV and
// camt.053) that turn a bank's file into inflows.
package deposits

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
)

// The amount rules are the platform's (trading/money.go); deposits uses them
// under its own names.

// AmountError explains why an amount was refused.
type AmountError = trading.AmountError

// ErrZeroAmount is matched by the error for a zero amount.
var ErrZeroAmount = trading.ErrZeroAmount

// ParseAmount parses a strict yuan amount (see trading.ParseAmount).
func ParseAmount(s string) (decimal.Decimal, error) { return trading.ParseAmount(s) }

// FormatYuan writes an amount with exactly two decimals ("1234.50").
func FormatYuan(d decimal.Decimal) string { return trading.FormatYuan(d) }

// Shanghai returns the Asia/Shanghai location used for value times and dates.
func Shanghai() *time.Location { return trading.Shanghai }

// shanghai is the centre's time zone; statement times and interest dates
// are read in it.
var shanghai = trading.Shanghai
