package trading

import (
	"fmt"
	"regexp"
	"strconv"
)

// Error lists link each broken rule to the input to fix. The inputs of a
// form carry ids made from the field paths of errors: "lots[0].bid_deadline"
// is the input id "lot0-bid_deadline" on the project form, and the
// amendment form's input of the lot's new deadline is "change-1-bid_deadline"
// (by the lot's number, 1-based).

var (
	lotFieldPath = regexp.MustCompile(`^lots\[(\d+)\]\.([a-z_]+)$`)
	rowFieldPath = regexp.MustCompile(`^rows\[(\d+)\]\.([a-z_]+)$`)
)

// rowInputs are the opening-record form's inputs of a row, by field.
var rowInputs = map[string]string{"price": "price", "rejected_reason": "rejected", "id_number": "submitted"}

// FieldAnchor is the id of the input of field path on the form that sent
// it: "lots[0].bid_deadline" → "lot0-bid_deadline", "title" → "title",
// the opening record's "rows[2].price" → "price-2".
func FieldAnchor(path string) string {
	if m := lotFieldPath.FindStringSubmatch(path); m != nil {
		return "lot" + m[1] + "-" + m[2]
	}
	if m := rowFieldPath.FindStringSubmatch(path); m != nil && rowInputs[m[2]] != "" {
		return rowInputs[m[2]] + "-" + m[1]
	}
	return path
}

// ViolationHref is where an agent fixes a broken rule of announcement type t of
// project code: a lot's schedule or money of an opening announcement is on the
// project's form; an amendment's new times are on the amendment's own
// form (this page); anything else on this page.
func ViolationHref(code string, t AnnouncementType, field string) string {
	m := lotFieldPath.FindStringSubmatch(field)
	switch {
	case field == "":
		return ""
	case m != nil && t == AnnouncementAmendment:
		i, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("#change-%d-%s", i+1, m[2])
	case m != nil:
		return "/agent/projects/" + code + "/edit#" + FieldAnchor(field)
	}
	return "#" + field
}
