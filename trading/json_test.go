package trading

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// Amounts leave the API with exactly two decimals, wherever they sit; the
// rest of encoding/json's behaviour (tags, omitempty, nil) is unchanged.
func TestMarshalJSONAmounts(t *testing.T) {
	p := decimal.RequireFromString("12.5")
	type inner struct {
		Price *decimal.Decimal `json:"price,omitempty"`
	}
	v := struct {
		Amount  decimal.Decimal            `json:"amount"`
		Ptr     *decimal.Decimal           `json:"ptr"`
		Nil     *decimal.Decimal           `json:"nil"`
		Omitted *decimal.Decimal           `json:"omitted,omitempty"`
		List    []decimal.Decimal          `json:"list"`
		Map     map[string]decimal.Decimal `json:"map"`
		Inner   inner                      `json:"inner"`
		Empty   []int                      `json:"empty"`
		At      time.Time                  `json:"at"`
		HTML    string                     `json:"html"`
	}{
		Amount: decimal.RequireFromString("80000"), Ptr: &p,
		List: []decimal.Decimal{decimal.RequireFromString("0.1"), decimal.RequireFromString("1.005")},
		Map:  map[string]decimal.Decimal{"a": decimal.RequireFromString("3")}, Inner: inner{Price: &p},
		At: time.Date(2026, 3, 2, 9, 0, 0, 0, Shanghai), HTML: "<b>",
	}
	b, err := MarshalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"amount":"80000.00","ptr":"12.50","nil":null,"list":["0.10","1.01"],"map":{"a":"3.00"},` +
		`"inner":{"price":"12.50"},"empty":null,"at":"2026-03-02T09:00:00+08:00","html":"\u003cb\u003e"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
