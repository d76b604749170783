package trading

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
)

// Every amount that leaves the platform in JSON is a string with exactly two
// decimals ("80000.00"): yuan to the fen, never a float, and the same width
// whatever the value. shopspring/decimal would write "80000", so one encoder
// does it for every answer, whatever struct carries the amount (a lot, a
// result, a deposit view): a handler cannot forget it. Every
// decimal.Decimal the API writes is an amount; a rate or ratio leaves as a
// preformatted string (the savings report) or its own type (OCDS writes
// numbers through ocdsAmount's MarshalJSON, which this leaves alone).

// amountMarshalers writes decimal.Decimal (and, through pointers, a
// *decimal.Decimal) as FormatYuan does.
var amountMarshalers = json.MarshalToFunc(func(enc *jsontext.Encoder, d decimal.Decimal) error {
	return enc.WriteToken(jsontext.String(FormatYuan(d)))
})

// jsonOptions are encoding/json's own semantics (tags, omitempty, nil slices
// as null, HTML escaping) plus the amount rule.
var jsonOptions = json.JoinOptions(jsonv1.DefaultOptionsV1(), json.WithMarshalers(amountMarshalers))

// MarshalJSON encodes v as the API does.
func MarshalJSON(v any) ([]byte, error) {
	return json.Marshal(v, jsonOptions)
}

// JSONSerializer is Echo's serializer for c.JSON: MarshalJSON's rules out,
// Echo's own decoding in (handlers bind with BindJSON, stricter still).
type JSONSerializer struct{}

// Serialize writes i with the amount rule; indent is Echo's ?pretty.
func (JSONSerializer) Serialize(c echo.Context, i any, indent string) error {
	opts := jsonOptions
	if indent != "" {
		opts = json.JoinOptions(opts, jsontext.WithIndent(indent))
	}
	if err := json.MarshalWrite(c.Response(), i, opts); err != nil {
		return err
	}
	// Like encoding/json's Encoder (Echo's default), end with a newline.
	_, err := c.Response().Write([]byte{'\n'})
	return err
}

// Deserialize reads a JSON body into i as Echo's default serializer does
// (its 400 errors included).
func (JSONSerializer) Deserialize(c echo.Context, i any) error {
	return echo.DefaultJSONSerializer{}.Deserialize(c, i)
}
