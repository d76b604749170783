package trading

import (
	"strings"

	"github.com/shopspring/decimal"
)

// YuanText writes an amount as people read it in a message: 千分位 and
// two decimals, "1,234,567.80 元". A stand-in for the shared amount
// formatter (trading.Yuan on the pages branch), to be swapped for it.
func YuanText(d decimal.Decimal) string {
	s := d.StringFixed(2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac + " 元"
}
