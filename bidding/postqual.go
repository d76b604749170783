package bidding

import (
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// BiddersSecretFromAgent tells whether the project's agent must not yet
// learn who bids on lot (K4/K5).
//
// Before the deadline that holds for every lot whose applications the
// agent does not review. A lot sold online with post-qualification (资格后审,
// issue 15 §2) keeps its bidders secret from the agent until the bidding
// has ended, whatever the deadline says: WindowOf's deadline is when the
// auction starts (or the listing's end, after which timed bidding may go
// on), and the agent's look at the bidders comes only when the lot awaits
// its check (qualifying), the priority right (priority) or is settled. The
// auction's state is read in tx, so a look cannot overtake the settlement.
func BiddersSecretFromAgent(tx *gorm.DB, p *trading.Project, lot *trading.Lot, now time.Time) (bool, error) {
	dl := WindowOf(p, lot, openedAt(p)).Deadline
	before := dl.IsZero() || now.Before(dl)
	if lot.PostQualification == "" {
		return before && KindFor(p.Category) != KindApplication, nil
	}
	var states []string
	if err := tx.Raw(`SELECT state FROM auction_lots WHERE lot_id = ?`, lot.ID).Scan(&states).Error; err != nil {
		return false, err
	}
	if len(states) == 0 {
		// Not sold online (yet): the deadline decides.
		return before, nil
	}
	switch states[0] {
	case "qualifying", "priority", "settled":
		return false, nil
	}
	return true, nil
}
