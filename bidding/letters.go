package bidding

import (
	"fmt"

	"github.com/ggzy/ggzy/trading"
)

// LetterKind is a document the platform issues from a lot's result to one
// bidder, who prints and keeps it (result_documents.kind).
type LetterKind string

const (
	LetterAward  LetterKind = "award_notice"      // 中标通知书, to the winner (招标投标法第四十五条)
	LetterResult LetterKind = "result_notice"     // 中标结果通知书, to every other bidder (EB12)
	LetterDeal   LetterKind = "deal_confirmation" // 成交确认书, to the buyer of land or property (L5)
)

// Name is the document's Chinese title.
func (k LetterKind) Name() string {
	return map[LetterKind]string{LetterAward: "中标通知书", LetterResult: "中标结果通知书", LetterDeal: "成交确认书"}[k]
}

// LetterKindFor is the document a bidder gets: the winner's depends on the
// category; everyone else gets the result notice.
func LetterKindFor(c trading.Category, won bool) LetterKind {
	switch {
	case won && (c == "land" || c == "property"):
		return LetterDeal
	case won:
		return LetterAward
	}
	return LetterResult
}

func letterLink(lotID int64, k LetterKind) string { return fmt.Sprintf("/lots/%d/letters/%s", lotID, k) }
