package deposits

import (
	"context"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// MoveDeadlines is an OnPublish hook: an amendment that moves a lot's
// deadline moves the deposit deadline of the lot's virtual accounts with
// it (D1: the deposit is due by the bid deadline, or for land and
// property by the close of applications, in force). Without it, a
// guarantee the platform accepted in the extension, or cash paid in it,
// was judged against the old deadline and counted as late (L7).
//
// Inflows booked as late before the amendment was published stay late:
// they were late when they arrived.
func (s *Service) MoveDeadlines(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project) error {
	if n.Type != trading.AnnouncementAmendment || n.Changes == nil {
		return nil
	}
	for _, ch := range n.Changes.Lots {
		for i := range p.Lots {
			lot := &p.Lots[i]
			if lot.ID != ch.LotID {
				continue
			}
			w := bidding.WindowOf(p, lot, derefTime(p.OpenedAt))
			deadline := w.Deadline
			if bidding.KindFor(p.Category) == bidding.KindApplication && !w.Closes.IsZero() {
				deadline = w.Closes
			}
			if deadline.IsZero() {
				continue
			}
			if err := tx.Exec(`UPDATE virtual_accounts SET deadline = ? WHERE lot_id = ? AND deadline IS DISTINCT FROM ?`,
				deadline, lot.ID, deadline).Error; err != nil {
				return err
			}
		}
	}
	return nil
}
