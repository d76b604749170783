package trading

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ggzy/ggzy/trading/rules"
)

// What the supervisor approves (the review page, 公告审核): the announcement's
// lots with their schedule and money, the deposit asked, the documents that
// go out with it, the rule book's result with its warnings, an amendment
// against the announcement it amends, and the dates written in the text beside
// the structured ones (TXT).

// AnnouncementDocument is a document that goes out with an announcement (bidding
// provides them through Service.AnnouncementDocuments; trading cannot import it).
type AnnouncementDocument struct {
	ID       int64
	LotSeq   int
	Filename string
	Kind     string // in Chinese: 招标文件, 图纸, 澄清/修改…
	Version  int
	Size     string // "1.2 MB"
	SHA256   string
	Released bool
}

// ReviewLot is a lot as the announcement would leave it: for an amendment, its
// times before and after.
type ReviewLot struct {
	Lot
	Before *Lot // nil unless an amendment changes the lot
	Rows   []ScheduleRow
}

// ScheduleRow is one time or place of a lot, before and after an
// amendment (Before is empty for an opening announcement).
type ScheduleRow struct {
	Name    string
	Before  string
	After   string
	Changed bool
}

// ReviewView is the review page's data.
type ReviewView struct {
	Announcement *Announcement
	Project      *Project
	Amends       *Announcement
	Lots         []ReviewLot
	Violations   []rules.Violation
	Notes        []rules.Note
	Documents    []AnnouncementDocument
	Dates        []rules.WrittenDate
	Times        []rules.NamedTime
	TitleDiff    []DiffLine // amendment: title and body against the amended announcement
	BodyDiff     []DiffLine
	Error        *Error // an approval refused
}

// ProvisionalAny tells whether any rule result was counted by a provisional
// calendar (按暂行日历计算), so the page says so at the top.
func (v *ReviewView) ProvisionalAny() bool {
	for _, x := range v.Violations {
		if x.Provisional {
			return true
		}
	}
	for _, n := range v.Notes {
		if n.Kind == rules.NoteProvisional || strings.Contains(n.Message, rules.ProvisionalMark) {
			return true
		}
	}
	return false
}

// Review gathers what a supervisor approves. The rule book runs as of now,
// so the supervisor sees what approval would meet.
func (s *Service) Review(ctx context.Context, a Actor, id int64) (*ReviewView, error) {
	n, p, err := s.Announcement(ctx, a, id)
	if err != nil {
		return nil, err
	}
	v := &ReviewView{Announcement: n, Project: p}
	res, err := s.checkRules(ctx, s.DB, p, n, s.Clock.Now())
	if err != nil {
		return nil, err
	}
	v.Violations, v.Notes = res.Violations, res.Notes
	if n.AmendsID != nil {
		if v.Amends, _, err = s.Announcement(ctx, a, *n.AmendsID); err != nil {
			return nil, err
		}
		v.TitleDiff = DiffLines(v.Amends.Title, n.Title)
		v.BodyDiff = DiffLines(v.Amends.Body, n.Body)
	}
	for _, l := range p.Lots {
		rl := ReviewLot{Lot: l}
		after := l
		if n.Changes != nil {
			for _, ch := range n.Changes.Lots {
				if ch.LotID == l.ID {
					after = ch.apply(l)
					before := l
					rl.Lot, rl.Before = after, &before
				}
			}
		}
		rl.Rows = scheduleRows(rl.Before, &after)
		v.Lots = append(v.Lots, rl)
	}
	v.Times = announcementTimes(p, n)
	v.Dates, _ = rules.CheckWrittenDates(n.Body, v.Times, Shanghai)
	if s.AnnouncementDocuments != nil {
		if v.Documents, err = s.AnnouncementDocuments(ctx, p, n); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// scheduleRows lists a lot's times and place, before (an amendment's lot
// as it stands) and after.
func scheduleRows(before, after *Lot) []ScheduleRow {
	type field struct {
		name string
		get  func(l *Lot) string
	}
	t := func(f func(l *Lot) *time.Time) func(l *Lot) string {
		return func(l *Lot) string {
			if at := f(l); at != nil {
				return at.In(Shanghai).Format("2006-01-02 15:04")
			}
			return ""
		}
	}
	fields := []field{
		{"文件发出开始", t(func(l *Lot) *time.Time { return l.DocIssueStart })},
		{"文件发出截止", t(func(l *Lot) *time.Time { return l.DocIssueEnd })},
		{"报名截止", t(func(l *Lot) *time.Time { return l.RegistrationEnd })},
		{"投标截止/开标", t(func(l *Lot) *time.Time { return l.BidDeadline })},
		{"挂牌开始", t(func(l *Lot) *time.Time { return l.ListingStart })},
		{"挂牌截止", t(func(l *Lot) *time.Time { return l.ListingEnd })},
		{"拍卖时间", t(func(l *Lot) *time.Time { return l.AuctionAt })},
		{"开标/交易地点", func(l *Lot) string { return l.OpeningPlace }},
	}
	var out []ScheduleRow
	for _, f := range fields {
		r := ScheduleRow{Name: f.name, After: f.get(after)}
		if before != nil {
			r.Before = f.get(before)
			r.Changed = r.Before != r.After
		}
		if r.Before != "" || r.After != "" {
			out = append(out, r)
		}
	}
	return out
}

// announcementTimes are the structured times an announcement's text may name: each
// lot's schedule; for an amendment, both the times it replaces ("原定…")
// and the new ones.
func announcementTimes(p *Project, n *Announcement) []rules.NamedTime {
	var out []rules.NamedTime
	add := func(prefix string, l *Lot) {
		noun := fmt.Sprintf("%s%d%s ", p.Category.LotNoun(), l.Seq, prefix)
		for _, f := range []struct {
			name string
			at   *time.Time
		}{{"文件发出开始", l.DocIssueStart}, {"文件发出截止", l.DocIssueEnd}, {"报名截止", l.RegistrationEnd},
			{"投标截止/开标", l.BidDeadline}, {"挂牌开始", l.ListingStart}, {"挂牌截止", l.ListingEnd}, {"拍卖时间", l.AuctionAt}} {
			if f.at != nil {
				out = append(out, rules.NamedTime{Name: noun + f.name, At: *f.at})
			}
		}
	}
	for i := range p.Lots {
		l := &p.Lots[i]
		if n.Type != AnnouncementAmendment || n.Changes == nil {
			add("", l)
			continue
		}
		add("（原）", l)
		for _, ch := range n.Changes.Lots {
			if ch.LotID == l.ID {
				after := ch.apply(*l)
				add("（变更后）", &after)
			}
		}
	}
	return out
}

// textDateNotes are the TXT warnings of an announcement an agent writes (opening
// announcements and amendments; the platform writes the others from records).
func textDateNotes(p *Project, n *Announcement) []rules.Note {
	if !n.Type.IsOpening() && n.Type != AnnouncementAmendment {
		return nil
	}
	_, notes := rules.CheckWrittenDates(n.Body, announcementTimes(p, n), Shanghai)
	return notes
}

// ModeName is the Chinese name of the lot's bidding mode ("" if none).
func (r ReviewLot) ModeName() string { return rules.ModeName(r.BiddingMode) }
