package portal

import (
	"context"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// The portal home's public calendar of openings and auctions (开标、拍卖
// 日程) and its headline figures. Both come from the lots' schedule and
// published results only: who registered, and how many, is never read
// here (K4, K5).

// Event is one opening, auction or listing close of a lot.
type Event struct {
	At           time.Time        `json:"at"`
	Kind         string           `json:"kind"` // opening, auction, listing_end
	KindName     string           `json:"kind_name"`
	Place        string           `json:"place"`
	ProjectCode  string           `json:"project_code"`
	ProjectTitle string           `json:"project_title"`
	Category     trading.Category `json:"category"`
	LotSeq       int              `json:"lot_seq"`
	LotName      string           `json:"lot_name"`
	Suspended    bool             `json:"suspended,omitempty"`
}

var eventKindNames = map[string]string{"opening": "开标", "auction": "拍卖", "listing_end": "挂牌截止"}

// Calendar is today's events and the rest of this week's (Monday to
// Sunday, Asia/Shanghai, by the database clock).
type Calendar struct {
	Today     []Event
	Week      []Event // this week's other days
	WeekStart time.Time
	WeekEnd   time.Time // exclusive
	Date      time.Time // today
}

// eventsSQL lists the scheduled moments of the lots of running projects
// whose opening announcement is out, in [?, ?) three times over.
const eventsSQL = `SELECT e.at, e.kind, l.opening_place, coalesce(l.bidding_mode, ''), p.code, p.title, p.category, l.seq, l.name,
	p.suspended_at IS NOT NULL
	FROM lots l JOIN projects p ON p.id = l.project_id
	CROSS JOIN LATERAL (VALUES (l.bid_deadline, 'opening'), (l.auction_at, 'auction'), (l.listing_end, 'listing_end')) e (at, kind)
	WHERE p.status = 'active' AND p.opened_at IS NOT NULL AND e.at >= ? AND e.at < ?
	ORDER BY e.at, p.code, l.seq
	LIMIT 200`

// WeekCalendar is the calendar of the week of the database clock's day.
func WeekCalendar(ctx context.Context, s *trading.Service) (*Calendar, error) {
	db := s.DB.WithContext(ctx)
	now, err := trading.DBNow(db)
	if err != nil {
		return nil, err
	}
	local := now.In(trading.Shanghai)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, trading.Shanghai)
	// Monday starts the week (GB/T 7408); Go's Sunday is 0.
	start := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	cal := &Calendar{WeekStart: start, WeekEnd: start.AddDate(0, 0, 7), Date: today}
	rs, err := db.Raw(eventsSQL, cal.WeekStart, cal.WeekEnd).Rows()
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var e Event
		var mode string
		if err := rs.Scan(&e.At, &e.Kind, &e.Place, &mode, &e.ProjectCode, &e.ProjectTitle, &e.Category, &e.LotSeq, &e.LotName,
			&e.Suspended); err != nil {
			return nil, err
		}
		e.KindName = eventKindNames[e.Kind]
		if strings.TrimSpace(e.Place) == "" {
			e.Place = "见公告"
			if rules.Online(mode) {
				e.Place = "本平台网上进行"
			}
		}
		if !e.At.Before(today) && e.At.Before(today.AddDate(0, 0, 1)) {
			cal.Today = append(cal.Today, e)
		} else {
			cal.Week = append(cal.Week, e)
		}
	}
	return cal, rs.Err()
}

// Figures are the home page's headline counts of the current year.
type Figures struct {
	Year          int
	Announcements int64           // announcements published
	Projects      int64           // projects whose opening announcement was published
	Deals         int64           // lots dealt (published results)
	DealAmount    decimal.Decimal // their amounts, yuan
}

// DealWan is the deal amount in 万元 with two decimals, half-up, grouped
// by thousands (RULES.md: rounding once, at display).
func (f Figures) DealWan() string {
	return groupThousands(f.DealAmount.Div(decimal.NewFromInt(10000)).StringFixed(2))
}

// groupThousands puts 千分位 commas into the integer part of a decimal string.
func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// YearFigures counts this year's announcements, projects and deals, by the
// database clock's year in Asia/Shanghai.
func YearFigures(ctx context.Context, s *trading.Service) (*Figures, error) {
	db := s.DB.WithContext(ctx)
	now, err := trading.DBNow(db)
	if err != nil {
		return nil, err
	}
	y := now.In(trading.Shanghai).Year()
	from, to := time.Date(y, 1, 1, 0, 0, 0, 0, trading.Shanghai), time.Date(y+1, 1, 1, 0, 0, 0, 0, trading.Shanghai)
	f := &Figures{Year: y}
	// Equivalent SQL: three counts and a sum over the year, one round trip.
	err = db.Raw(`SELECT
		(SELECT count(*) FROM announcements WHERE status = 'published' AND published_at >= ? AND published_at < ?),
		(SELECT count(*) FROM projects WHERE opened_at >= ? AND opened_at < ?),
		(SELECT count(*) FROM lot_outcomes WHERE status = 'completed' AND decided_on >= ? AND decided_on < ?),
		(SELECT coalesce(sum(result), 0) FROM lot_outcomes WHERE status = 'completed' AND decided_on >= ? AND decided_on < ?)`,
		from, to, from, to, from.Format(time.DateOnly), to.Format(time.DateOnly), from.Format(time.DateOnly), to.Format(time.DateOnly)).
		Row().Scan(&f.Announcements, &f.Projects, &f.Deals, &f.DealAmount)
	if err != nil {
		return nil, err
	}
	return f, nil
}
