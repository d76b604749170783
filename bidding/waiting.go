package bidding

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// Waiting is one thing a bidder still has to do before a deadline, listed
// on "my projects" with a countdown: a newer document version to download,
// a deposit to pay, a rejected guarantee to replace.
type Waiting struct {
	What     string    // what to do, e.g. 缴纳保证金
	Detail   string    // the project and lot it is for
	Link     string    // the page where it is done
	Deadline time.Time // when it must be done by
}

// WaitingSource lists what waits on a bidder in another package (deposits
// wires its unpaid deposits here, platform.Wire). It runs outside any
// transaction: a read for a page.
type WaitingSource func(ctx context.Context, bidderID int64, now time.Time) ([]Waiting, error)

// WaitingOn is everything waiting on the bidder whose registrations are
// regs, soonest deadline first; nothing whose deadline has passed.
func (s *Service) WaitingOn(ctx context.Context, a trading.Actor, regs []MyRegistration, now time.Time) ([]Waiting, error) {
	var out []Waiting
	for _, m := range regs {
		if !m.Registration.Status.Live() || !now.Before(m.Window.Deadline) {
			continue
		}
		detail := fmt.Sprintf("%s · %s%d %s", m.Project.Title, m.Project.Category.LotNoun(), m.Lot.Seq, m.Lot.Name)
		link := fmt.Sprintf("/lots/%d", m.Lot.ID)
		switch {
		case m.LatestVersion > 0 && m.DownloadedVersion == 0:
			out = append(out, Waiting{What: "获取招标/采购/出让文件", Detail: detail, Link: link, Deadline: m.Window.Deadline})
		case m.NewerVersion():
			out = append(out, Waiting{What: fmt.Sprintf("下载第%d版招标文件（澄清/修改）", m.LatestVersion), Detail: detail, Link: link, Deadline: m.Window.Deadline})
		}
	}
	for _, src := range s.Waiting {
		more, err := src(ctx, a.AccountID, now)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Deadline.Before(out[j].Deadline) })
	return out, nil
}
