package rules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading/calendar"
	"github.com/shopspring/decimal"
)

func book(t *testing.T) *Book {
	t.Helper()
	cal, err := calendar.Default()
	if err != nil {
		t.Fatal(err)
	}
	return NewBook(DefaultParams(), cal)
}

func tm(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func yuanOf(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func find(vs []Violation, rule, field string) *Violation {
	for i := range vs {
		if vs[i].Rule == rule && (field == "" || vs[i].Field == field) {
			return &vs[i]
		}
	}
	return nil
}

func ids(vs []Violation) string {
	var s []string
	for _, v := range vs {
		s = append(s, v.Rule+"/"+v.Field)
	}
	return strings.Join(s, " ")
}

// A clean lot of each category, published on Monday 2025-03-03 09:00.
var now = tm("2025-03-03 09:00")

func engineering() Lot {
	return Lot{
		Category:       Engineering,
		ControlPrice:   yuanOf("10000000"),
		Deposit:        yuanOf("200000"),
		AnnouncementAt: tm("2025-03-03 09:00"),
		DocIssueStart:  tm("2025-03-03 09:00"),
		DocIssueEnd:    tm("2025-03-10 17:00"),
		BidDeadline:    tm("2025-03-24 09:30"),
	}
}

func procurement() Lot {
	return Lot{
		Category:        Procurement,
		Budget:          yuanOf("1000000"),
		Deposit:         yuanOf("20000"),
		AnnouncementAt:  tm("2025-03-03 09:00"),
		AnnouncementEnd: tm("2025-03-10 17:00"),
		DocIssueStart:   tm("2025-03-03 09:00"),
		DocIssueEnd:     tm("2025-03-10 17:00"),
		BidDeadline:     tm("2025-03-24 09:30"),
	}
}

func land() Lot {
	return Lot{
		Category:       Land,
		StartingPrice:  yuanOf("10000000"),
		ReservePrice:   yuanOf("12000000"),
		Increment:      yuanOf("100000"),
		Deposit:        yuanOf("2000000"),
		AnnouncementAt: tm("2025-03-03 09:00"),
		ListingStart:   tm("2025-03-23 09:00"), // 20 days (L1)
		ListingEnd:     tm("2025-04-07 15:00"), // 10 working days; 04-04 清明 off (L2)
	}
}

func property() Lot {
	return Lot{
		Category:       Property,
		ListingPrice:   yuanOf("1000000"),
		AppraisedValue: yuanOf("1000000"),
		AnnouncementAt: tm("2025-03-03 09:00"),
		ListingStart:   tm("2025-03-03 09:00"),
		ListingEnd:     tm("2025-03-31 15:00"), // 20 working days (P1)
	}
}

func TestCleanLots(t *testing.T) {
	b := book(t)
	for _, l := range []Lot{engineering(), procurement(), land(), property()} {
		if vs := b.CheckSchedule(l, now); len(vs) != 0 {
			t.Errorf("%s: %v", l.Category, vs)
		}
	}
}

type ruleCase struct {
	name   string
	lot    func() Lot
	at     time.Time // zero: now
	rule   string
	field  string
	broken bool
}

func runCases(t *testing.T, b *Book, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			at := tc.at
			if at.IsZero() {
				at = now
			}
			vs := b.CheckSchedule(tc.lot(), at)
			v := find(vs, tc.rule, tc.field)
			if tc.broken && v == nil {
				t.Fatalf("want %s on %s, got [%s]", tc.rule, tc.field, ids(vs))
			}
			if !tc.broken && v != nil {
				t.Fatalf("unexpected %v", v)
			}
			if v != nil && (v.Requirement == "" || v.Actual == "") {
				t.Fatalf("incomplete violation %+v", v)
			}
		})
	}
}

func TestEngineeringSchedule(t *testing.T) {
	runCases(t, book(t), []ruleCase{
		{"E1 19 days", func() Lot { l := engineering(); l.BidDeadline = tm("2025-03-22 09:30"); return l }, time.Time{}, "E1", "bid_deadline", true},
		{"E1 20 days", func() Lot { l := engineering(); l.BidDeadline = tm("2025-03-23 09:30"); return l }, time.Time{}, "E1", "bid_deadline", false},
		{"E1 20 days, deadline earlier in the day", func() Lot { l := engineering(); l.BidDeadline = tm("2025-03-23 08:00"); return l }, time.Time{}, "E1", "", false},
		{"E2 4 days", func() Lot { l := engineering(); l.DocIssueEnd = tm("2025-03-07 17:00"); return l }, time.Time{}, "E2", "doc_issue_end", true},
		{"E2 5 days", func() Lot { l := engineering(); l.DocIssueEnd = tm("2025-03-08 17:00"); return l }, time.Time{}, "E2", "doc_issue_end", false},
		{"E3 4 days", func() Lot {
			l := engineering()
			l.Prequalification, l.RegistrationEnd = true, tm("2025-03-14 17:00")
			return l
		}, time.Time{}, "E3", "registration_end", true},
		{"E3 5 days", func() Lot {
			l := engineering()
			l.Prequalification, l.RegistrationEnd = true, tm("2025-03-15 17:00")
			return l
		}, time.Time{}, "E3", "registration_end", false},
		{"E3 needs registration_end", func() Lot { l := engineering(); l.Prequalification = true; return l }, time.Time{}, RuleRequired, "registration_end", true},
		{"E3 not without prequalification", func() Lot { l := engineering(); l.RegistrationEnd = tm("2025-03-11 17:00"); return l }, time.Time{}, "E3", "", false},
		{"missing bid deadline", func() Lot { l := engineering(); l.BidDeadline = time.Time{}; return l }, time.Time{}, RuleRequired, "bid_deadline", true},
		{"missing control price", func() Lot { l := engineering(); l.ControlPrice = decimal.Zero; return l }, time.Time{}, RuleRequired, "control_price", true},
		{"deadline in the past", engineering, tm("2025-03-24 10:00"), RulePast, "bid_deadline", true},
		{"deadline equal to now", engineering, tm("2025-03-24 09:30"), RulePast, "bid_deadline", true},
		{"issue end before start", func() Lot { l := engineering(); l.DocIssueEnd = tm("2025-03-02 17:00"); return l }, time.Time{}, RuleOrder, "doc_issue_end", true},
		{"issue starts before announcement", func() Lot { l := engineering(); l.DocIssueStart = tm("2025-03-02 17:00"); return l }, time.Time{}, RuleOrder, "doc_issue_start", true},
	})
}

func TestDeposits(t *testing.T) {
	runCases(t, book(t), []ruleCase{
		{"D1 exactly 2% of control price", engineering, time.Time{}, "D1", "deposit", false},
		{"D1 2% + 0.01", func() Lot { l := engineering(); l.Deposit = yuanOf("200000.01"); return l }, time.Time{}, "D1", "deposit", true},
		{"D1 uses the estimated price first", func() Lot {
			l := engineering()
			l.EstimatedPrice, l.Deposit = yuanOf("5000000"), yuanOf("100000.01")
			return l
		}, time.Time{}, "D1", "deposit", true},
		{"D1 estimated price exactly 2%", func() Lot {
			l := engineering()
			l.EstimatedPrice, l.Deposit = yuanOf("5000000"), yuanOf("100000.00")
			return l
		}, time.Time{}, "D1", "deposit", false},
		{"D3 800,000.00", func() Lot {
			l := engineering()
			l.ControlPrice, l.Deposit = yuanOf("100000000"), yuanOf("800000.00")
			return l
		}, time.Time{}, "D3", "deposit", false},
		{"D3 800,000.01", func() Lot {
			l := engineering()
			l.ControlPrice, l.Deposit = yuanOf("100000000"), yuanOf("800000.01")
			return l
		}, time.Time{}, "D3", "deposit", true},
		{"D4 100,000.00", func() Lot {
			l := engineering()
			l.SurveyDesign, l.Deposit = true, yuanOf("100000.00")
			return l
		}, time.Time{}, "D4", "deposit", false},
		{"D4 100,000.01", func() Lot {
			l := engineering()
			l.SurveyDesign, l.Deposit = true, yuanOf("100000.01")
			return l
		}, time.Time{}, "D4", "deposit", true},
		{"D4 ratio", func() Lot {
			l := engineering()
			l.SurveyDesign, l.ControlPrice, l.Deposit = true, yuanOf("1000000"), yuanOf("20000.01")
			return l
		}, time.Time{}, "D4", "deposit", true},
		{"D4 replaces D3", func() Lot {
			l := engineering()
			l.SurveyDesign, l.ControlPrice, l.Deposit = true, yuanOf("100000000"), yuanOf("800000.01")
			return l
		}, time.Time{}, "D3", "", false},
		{"G5 exactly 2%", procurement, time.Time{}, "G5", "deposit", false},
		{"G5 2% + 0.01", func() Lot { l := procurement(); l.Deposit = yuanOf("20000.01"); return l }, time.Time{}, "G5", "deposit", true},
		{"L7 exactly 20%", land, time.Time{}, "L7", "deposit", false},
		{"L7 20% − 0.01", func() Lot { l := land(); l.Deposit = yuanOf("1999999.99"); return l }, time.Time{}, "L7", "deposit", true},
		{"L7 no deposit", func() Lot { l := land(); l.Deposit = decimal.Zero; return l }, time.Time{}, "L7", "deposit", true},
		{"negative deposit", func() Lot { l := procurement(); l.Deposit = yuanOf("-1"); return l }, time.Time{}, RuleAmount, "deposit", true},
		{"three decimals", func() Lot { l := procurement(); l.Budget = yuanOf("1000000.001"); return l }, time.Time{}, RuleAmount, "budget", true},
		{"trailing zeros are two decimals", func() Lot { l := procurement(); l.Budget = yuanOf("1000000.100"); return l }, time.Time{}, RuleAmount, "budget", false},
	})
}

func TestProcurementSchedule(t *testing.T) {
	// Spring Festival 2025: 01-26 (Sun) works, 01-28..02-04 off, 02-08 (Sat) works.
	sf := func(issueEnd string) func() Lot {
		return func() Lot {
			l := procurement()
			l.AnnouncementAt, l.DocIssueStart = tm("2025-01-24 09:00"), tm("2025-01-24 09:00")
			l.AnnouncementEnd, l.DocIssueEnd = tm(issueEnd), tm(issueEnd)
			l.BidDeadline = tm("2025-02-20 09:30")
			return l
		}
	}
	at := tm("2025-01-24 08:00")
	runCases(t, book(t), []ruleCase{
		{"G1 19 days", func() Lot { l := procurement(); l.BidDeadline = tm("2025-03-22 09:30"); return l }, time.Time{}, "G1", "bid_deadline", true},
		{"G1 20 days", func() Lot { l := procurement(); l.BidDeadline = tm("2025-03-23 09:30"); return l }, time.Time{}, "G1", "bid_deadline", false},
		{"G3 4 working days over 春节 (13 calendar days)", sf("2025-02-06 17:00"), at, "G3", "doc_issue_end", true},
		{"G3 5 working days over 春节", sf("2025-02-07 17:00"), at, "G3", "doc_issue_end", false},
		{"G2 4 working days over 春节", sf("2025-02-06 17:00"), at, "G2", "announcement_end", true},
		{"G2 5 working days over 春节", sf("2025-02-07 17:00"), at, "G2", "announcement_end", false},
		{"G3 plain week 4", func() Lot { l := procurement(); l.DocIssueEnd = tm("2025-03-07 17:00"); return l }, time.Time{}, "G3", "doc_issue_end", true},
	})
}

func TestLandSchedule(t *testing.T) {
	// Listing from Monday 2025-01-20: 21–24 (4), Sun 01-26 (5), 27 (6),
	// 02-05..07 (9), Sat 02-08 (10).
	sf := func(end string) func() Lot {
		return func() Lot {
			l := land()
			l.AnnouncementAt, l.ListingStart, l.ListingEnd = tm("2024-12-31 09:00"), tm("2025-01-20 09:00"), tm(end)
			return l
		}
	}
	at := tm("2024-12-31 08:00")
	runCases(t, book(t), []ruleCase{
		{"L1 19 days", func() Lot { l := land(); l.ListingStart = tm("2025-03-22 09:00"); return l }, time.Time{}, "L1", "listing_start", true},
		{"L1 20 days", land, time.Time{}, "L1", "listing_start", false},
		{"L1 auction 19 days", func() Lot {
			l := land()
			l.ListingStart, l.ListingEnd, l.AuctionAt = time.Time{}, time.Time{}, tm("2025-03-22 09:00")
			return l
		}, time.Time{}, "L1", "auction_at", true},
		{"L1 auction 20 days", func() Lot {
			l := land()
			l.ListingStart, l.ListingEnd, l.AuctionAt = time.Time{}, time.Time{}, tm("2025-03-23 09:00")
			return l
		}, time.Time{}, "L1", "", false},
		{"L2 9 working days (清明)", func() Lot { l := land(); l.ListingEnd = tm("2025-04-06 15:00"); return l }, time.Time{}, "L2", "listing_end", true},
		{"L2 9 working days over 春节 (18 calendar days)", sf("2025-02-07 15:00"), at, "L2", "listing_end", true},
		{"L2 10 working days over 春节", sf("2025-02-08 15:00"), at, "L2", "listing_end", false},
		{"no transfer time", func() Lot { l := land(); l.ListingStart, l.ListingEnd = time.Time{}, time.Time{}; return l }, time.Time{}, RuleRequired, "listing_start", true},
		{"listing end without start", func() Lot { l := land(); l.ListingStart = time.Time{}; return l }, time.Time{}, RuleRequired, "listing_start", true},
		{"increment required", func() Lot { l := land(); l.Increment = decimal.Zero; return l }, time.Time{}, RuleRequired, "increment", true},
		{"reserve below starting price", func() Lot { l := land(); l.ReservePrice = yuanOf("9999999.99"); return l }, time.Time{}, RuleAmount, "reserve_price", true},
		{"reserve equal to starting price", func() Lot { l := land(); l.ReservePrice = yuanOf("10000000"); return l }, time.Time{}, RuleAmount, "reserve_price", false},
	})
}

func TestPropertySchedule(t *testing.T) {
	// From Friday 2025-01-10: 13–24 (10), Sun 01-26, 27 (12), 02-05..07 (15),
	// Sat 02-08 (16), 02-10..13 (20).
	sf := func(end string) func() Lot {
		return func() Lot {
			l := property()
			l.AnnouncementAt, l.ListingStart, l.ListingEnd = tm("2025-01-10 09:00"), tm("2025-01-10 09:00"), tm(end)
			return l
		}
	}
	at := tm("2025-01-10 08:00")
	relist := func(price string, approved bool) func() Lot {
		return func() Lot {
			l := property()
			l.Relisting, l.ListingApproved, l.ListingPrice = true, approved, yuanOf(price)
			return l
		}
	}
	runCases(t, book(t), []ruleCase{
		{"P1 19 working days", func() Lot { l := property(); l.ListingEnd = tm("2025-03-28 15:00"); return l }, time.Time{}, "P1", "listing_end", true},
		{"P1 20 working days", property, time.Time{}, "P1", "listing_end", false},
		{"P1 19 working days over 春节", sf("2025-02-12 15:00"), at, "P1", "listing_end", true},
		{"P1 20 working days over 春节", sf("2025-02-13 15:00"), at, "P1", "listing_end", false},
		{"P2 first listing at appraisal", property, time.Time{}, "P2", "", false},
		{"P2 first listing 0.01 below", func() Lot { l := property(); l.ListingPrice = yuanOf("999999.99"); return l }, time.Time{}, "P2", "listing_price", true},
		{"P2 relisting at 90%", relist("900000.00", false), time.Time{}, "P2", "", false},
		{"P2 relisting below 90%", relist("899999.99", false), time.Time{}, "P2", "listing_price", true},
		{"P2 relisting below 90% approved", relist("899999.99", true), time.Time{}, "P2", "", false},
		{"appraised value required", func() Lot { l := property(); l.AppraisedValue = decimal.Zero; return l }, time.Time{}, RuleRequired, "appraised_value", true},
	})
}

func TestViolationText(t *testing.T) {
	l := engineering()
	l.BidDeadline = tm("2025-03-22 09:30")
	vs := book(t).CheckSchedule(l, now)
	if len(vs) != 1 {
		t.Fatalf("want only E1, got [%s]", ids(vs))
	}
	v := vs[0]
	if v.Rule != "E1" || v.Field != "bid_deadline" || v.Source != "招标投标法第二十四条" ||
		!strings.Contains(v.Requirement, "不得少于20日") || !strings.HasPrefix(v.Actual, "实际19日") {
		t.Fatalf("%+v", v)
	}
	if !errors.Is(v, ErrRuleBroken) || !strings.HasPrefix(v.Error(), "E1 ") {
		t.Fatalf("Error() = %q", v.Error())
	}
}

func TestAmendment(t *testing.T) {
	b := book(t)
	moved := func(l Lot, deadline string) Lot { l.BidDeadline = tm(deadline); return l }
	prequal := engineering()
	prequal.Prequalification, prequal.RegistrationEnd = true, tm("2025-03-17 17:00")
	tests := []struct {
		name     string
		old, new Lot
		at       string
		rule     string
		field    string
		broken   bool
	}{
		{"E4 14 days left, not moved", engineering(), engineering(), "2025-03-10 10:00", "E4", "bid_deadline", true},
		{"E4 moved to 15 days", engineering(), moved(engineering(), "2025-03-25 09:30"), "2025-03-10 10:00", "E4", "", false},
		{"E4 15 days left", engineering(), engineering(), "2025-03-09 10:00", "E4", "", false},
		{"G4 14 days left", procurement(), procurement(), "2025-03-10 10:00", "G4", "bid_deadline", true},
		{"G4 moved to 15 days", procurement(), moved(procurement(), "2025-03-25 09:30"), "2025-03-10 10:00", "G4", "", false},
		{"E4 prequalification 2 days left", prequal, prequal, "2025-03-15 10:00", "E4", "registration_end", true},
		{"E4 prequalification 3 days left", prequal, prequal, "2025-03-14 10:00", "E4", "registration_end", false},
		// After the issue closed, the unchanged past doc_issue_end is history…
		{"unchanged past field is fine", engineering(), moved(engineering(), "2025-03-30 09:30"), "2025-03-12 10:00", RulePast, "", false},
		// …but the amendment re-runs the schedule rules on the new lot.
		{"new deadline breaks E1", engineering(), moved(engineering(), "2025-03-21 09:30"), "2025-03-04 10:00", "E1", "bid_deadline", true},
		{"changed field moved into the past", engineering(), func() Lot { l := engineering(); l.DocIssueEnd = tm("2025-03-11 17:00"); return l }(), "2025-03-12 10:00", RulePast, "doc_issue_end", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := b.CheckAmendment(tt.old, tt.new, tm(tt.at))
			v := find(vs, tt.rule, tt.field)
			if tt.broken != (v != nil) {
				t.Fatalf("broken=%v, got [%s]", tt.broken, ids(vs))
			}
		})
	}
}

// strictBook has the 2024–2026 notices and no provisional years: a
// missing year is never counted.
func strictBook(t *testing.T) *Book {
	t.Helper()
	def := book(t).Cal
	cal := calendar.New()
	for _, y := range def.Years() {
		if err := cal.SetYear(y, def.Days(y)); err != nil {
			t.Fatal(err)
		}
	}
	return NewBook(DefaultParams(), cal)
}

func TestMissingCalendarYear(t *testing.T) {
	b := strictBook(t)
	// Property disclosure from 2026-12-10 into 2027: 20 working days cannot
	// be counted without the 2027 notice (on a calendar without provisional
	// years; the platform's has them, see TestProvisionalYear).
	l := property()
	l.AnnouncementAt, l.ListingStart, l.ListingEnd = tm("2026-12-10 09:00"), tm("2026-12-10 09:00"), tm("2027-01-20 15:00")
	vs := b.CheckSchedule(l, tm("2026-12-10 08:00"))
	v := find(vs, RuleCalendar, "listing_end")
	if v == nil || !strings.Contains(v.Actual, "缺少2027年工作日历") {
		t.Fatalf("want CAL 2027, got %v", vs)
	}
	if find(vs, "P1", "") != nil {
		t.Fatal("P1 must not be decided by counting weekends only")
	}

	// A land listing that reaches 10 working days before the missing year
	// passes without the 2027 notice.
	l = land()
	l.AnnouncementAt, l.ListingStart, l.ListingEnd = tm("2026-11-10 09:00"), tm("2026-12-01 09:00"), tm("2027-01-10 15:00")
	if vs := b.CheckSchedule(l, tm("2026-11-10 08:00")); len(vs) != 0 {
		t.Fatalf("got %v", vs)
	}
	// One that is short before the missing year fails L2 outright.
	l.ListingStart, l.ListingEnd = tm("2026-12-01 09:00"), tm("2026-12-10 15:00")
	if vs := b.CheckSchedule(l, tm("2026-11-10 08:00")); find(vs, "L2", "listing_end") == nil || find(vs, RuleCalendar, "") != nil {
		t.Fatalf("got %v", vs)
	}

	// No calendar at all.
	b.Cal = nil
	if vs := b.CheckSchedule(property(), now); find(vs, RuleCalendar, "listing_end") == nil {
		t.Fatalf("nil calendar: %v", vs)
	}
	// An empty calendar.
	b.Cal = calendar.New()
	vs = b.CheckSchedule(property(), now)
	if v := find(vs, RuleCalendar, ""); v == nil || !strings.Contains(v.Actual, "2025") {
		t.Fatalf("empty calendar: %v", vs)
	}
}

func TestParamsOverride(t *testing.T) {
	b := book(t)
	if err := b.Params.Set("L7.min_ratio", "0.3"); err != nil {
		t.Fatal(err)
	}
	if find(b.CheckSchedule(land(), now), "L7", "deposit") == nil {
		t.Fatal("20% deposit must fail an L7 of 30%")
	}
	l := land()
	l.Deposit = yuanOf("3000000")
	if find(b.CheckSchedule(l, now), "L7", "") != nil {
		t.Fatal("30% deposit must pass")
	}
	if r := rule(b.Table(), "L7"); !strings.Contains(r.Text, "30%") || r.Number != "≥ 30%" {
		t.Fatalf("Table L7 = %+v", r)
	}

	if err := b.Params.Apply("E1.min_days=25"); err != nil {
		t.Fatal(err)
	}
	if find(b.CheckSchedule(engineering(), now), "E1", "") == nil { // 21 days < 25
		t.Fatal("E1 of 25 days not applied")
	}
	if err := b.Params.Apply("L2.working_days=false"); err != nil {
		t.Fatal(err)
	}
	if r := rule(b.Table(), "L2"); r.Number != "≥ 10日" {
		t.Fatalf("Table L2 = %+v", r)
	}
	if err := b.Params.Set("D3.max_amount", "500000.00"); err != nil || !b.D3MaxAmount.Equal(yuanOf("500000")) {
		t.Fatal(err)
	}

	bad := []struct{ name, value string }{
		{"L7.min_ratio", "1.5"},
		{"L7.min_ratio", "-0.1"},
		{"L7.min_ratio", "twenty"},
		{"E1.min_days", "-1"},
		{"E1.min_days", "2.5"},
		{"D3.max_amount", "0.001"},
		{"L2.working_days", "maybe"},
	}
	for _, tt := range bad {
		before := b.Params
		if err := b.Params.Set(tt.name, tt.value); !errors.Is(err, ErrBadParam) {
			t.Errorf("Set(%s, %s) = %v", tt.name, tt.value, err)
		}
		if !b.L7MinRatio.Equal(before.L7MinRatio) || b.E1MinDays != before.E1MinDays {
			t.Errorf("Set(%s, %s) changed the params", tt.name, tt.value)
		}
	}
	if err := b.Params.Set("Z9.x", "1"); !errors.Is(err, ErrUnknownParam) {
		t.Errorf("unknown: %v", err)
	}
	if err := b.Params.Apply("L7.min_ratio"); !errors.Is(err, ErrBadParam) {
		t.Errorf("no '=': %v", err)
	}
	// Every name round-trips through Set.
	for _, n := range ParamNames() {
		v := "1"
		if strings.HasSuffix(n, "working_days") && strings.HasPrefix(n, "L2") {
			v = "true"
		}
		if err := b.Params.Set(n, v); err != nil {
			t.Errorf("Set(%s): %v", n, err)
		}
	}
}

func rule(table []RuleInfo, id string) RuleInfo {
	for _, r := range table {
		if r.ID == id {
			return r
		}
	}
	return RuleInfo{}
}

func TestTable(t *testing.T) {
	table := book(t).Table()
	seen := map[string]bool{}
	for _, r := range table {
		if seen[r.ID] || r.Text == "" || r.Number == "" || r.Source == "" || !r.Category.Valid() ||
			!strings.Contains("RSC", r.Confidence) || len(r.Confidence) != 1 {
			t.Errorf("bad row %+v", r)
		}
		seen[r.ID] = true
	}
	for _, id := range []string{"E1", "E2", "E3", "E4", "D1", "D3", "D4", "G1", "G2", "G3", "G4", "G5", "L1", "L2", "L7", "P1", "P2"} {
		if !seen[id] {
			t.Errorf("rule %s missing from Table", id)
		}
	}
	if r := rule(table, "D3"); r.Number != "≤ 800,000.00元" || r.Confidence != "S" {
		t.Errorf("D3 = %+v", r)
	}
	if r := rule(table, "E1"); !strings.Contains(r.Text, "20日") {
		t.Errorf("E1 = %+v", r)
	}
}

func TestCategory(t *testing.T) {
	for _, c := range Categories {
		if !c.Valid() || c.Name() == "未知类别" {
			t.Errorf("%s", c)
		}
	}
	if Category("mining").Valid() {
		t.Error("mining is not a category")
	}
	vs := book(t).CheckSchedule(Lot{Category: "mining"}, now)
	if len(vs) != 1 || vs[0].Rule != RuleRequired || vs[0].Field != "category" {
		t.Fatalf("%v", vs)
	}
	// An empty lot reports its missing fields, never panics.
	for _, c := range Categories {
		if vs := book(t).CheckSchedule(Lot{Category: c}, now); len(vs) == 0 {
			t.Errorf("empty %s lot passed", c)
		}
	}
}

// TestProvisionalYear: with provisional years (the platform's calendar), a
// December listing running into a year without its notice passes, marked
// 按暂行日历计算, instead of being refused with CAL; one that is short by the
// provisional calendar is refused, marked too.
func TestProvisionalYear(t *testing.T) {
	b := book(t)
	l := property()
	l.AnnouncementAt, l.ListingStart, l.ListingEnd = tm("2026-12-10 09:00"), tm("2026-12-10 09:00"), tm("2027-01-20 15:00")
	res := b.Check(l, tm("2026-12-10 08:00"))
	if len(res.Violations) != 0 {
		t.Fatalf("violations %v", res.Violations)
	}
	if len(res.Notes) != 1 || res.Notes[0].Rule != "P1" || res.Notes[0].Kind != NoteProvisional ||
		!strings.Contains(res.Notes[0].Message, ProvisionalMark) || !strings.Contains(res.Notes[0].Message, "2027") {
		t.Fatalf("notes %+v", res.Notes)
	}
	// A land listing 2026-12-21 → 2027-01-04: 9 working days (元旦 2027 is
	// a day off) → refused, marked; to 2027-01-05 it holds (10).
	l = land()
	l.AnnouncementAt, l.ListingStart, l.ListingEnd = tm("2026-11-10 09:00"), tm("2026-12-21 09:00"), tm("2027-01-05 15:00")
	if res := b.Check(l, tm("2026-11-10 08:00")); len(res.Violations) != 0 || len(res.Notes) != 1 || res.Notes[0].Rule != "L2" {
		t.Fatalf("to 01-05: %+v", res)
	}
	l.ListingEnd = tm("2027-01-04 15:00")
	res = b.Check(l, tm("2026-11-10 08:00"))
	v := find(res.Violations, "L2", "listing_end")
	if v == nil || !v.Provisional || !strings.Contains(v.Error(), ProvisionalMark) || find(res.Violations, RuleCalendar, "") != nil {
		t.Fatalf("got %v", res.Violations)
	}
	// Within official years nothing is marked.
	if res := b.Check(property(), now); len(res.Violations) != 0 || len(res.Notes) != 0 {
		t.Fatalf("2025: %+v", res)
	}
}

// TestHolidayWarning (HOL): a bid deadline, auction or listing close on a
// weekend or public holiday is a warning, not a violation.
func TestHolidayWarning(t *testing.T) {
	b := book(t)
	note := func(ns []Note, field string) *Note {
		for i := range ns {
			if ns[i].Rule == RuleHoliday && ns[i].Field == field {
				return &ns[i]
			}
		}
		return nil
	}
	// Engineering opening on Saturday 2025-03-29.
	l := engineering()
	l.BidDeadline = tm("2025-03-29 09:30")
	res := b.Check(l, now)
	if len(res.Violations) != 0 {
		t.Fatalf("a weekend opening must not be refused: %v", res.Violations)
	}
	if n := note(res.Notes, "bid_deadline"); n == nil || n.Kind != NoteWarning || !strings.Contains(n.Message, "星期六") {
		t.Fatalf("notes %+v", res.Notes)
	}
	// Procurement deadline on 清明 2025-04-04 (a Friday).
	p := procurement()
	p.BidDeadline = tm("2025-04-04 09:30")
	if n := note(b.Check(p, now).Notes, "bid_deadline"); n == nil || !strings.Contains(n.Message, "法定节假日") {
		t.Fatal("清明 deadline: no HOL")
	}
	// A make-up working Sunday (2025-04-27, 调休上班) is a working day: no warning.
	p.BidDeadline = tm("2025-04-27 09:30")
	if n := note(b.Check(p, now).Notes, "bid_deadline"); n != nil {
		t.Fatalf("调休上班日 warned: %+v", n)
	}
	// Land: auction on National Day, listing closing on a Sunday.
	ld := land()
	ld.ListingStart, ld.ListingEnd = time.Time{}, time.Time{}
	ld.AnnouncementAt, ld.AuctionAt = tm("2025-09-01 09:00"), tm("2025-10-03 10:00")
	if n := note(b.Check(ld, tm("2025-09-01 08:00")).Notes, "auction_at"); n == nil {
		t.Fatal("National Day auction: no HOL")
	}
	pr := property()
	pr.ListingEnd = tm("2025-04-06 15:00") // Sunday, in 清明
	res = b.Check(pr, now)
	if n := note(res.Notes, "listing_end"); n == nil {
		t.Fatalf("property close on Sunday: %+v", res)
	}
	// A provisional year's holiday is marked: 2027-02-08 in 春节.
	ld.AnnouncementAt, ld.AuctionAt = tm("2026-12-01 09:00"), tm("2027-02-08 10:00")
	if n := note(b.Check(ld, tm("2026-12-01 08:00")).Notes, "auction_at"); n == nil || !strings.Contains(n.Message, ProvisionalMark) {
		t.Fatalf("provisional: %+v", n)
	}
	// An amendment warns only about the times it changed.
	old := engineering()
	old.BidDeadline = tm("2025-03-29 09:30")
	nw := old
	nw.DocIssueEnd = tm("2025-03-11 17:00")
	if n := note(b.CheckAmended(old, nw, now).Notes, "bid_deadline"); n != nil {
		t.Fatal("unchanged deadline warned again")
	}
	// HOL is in the rule book with its source, as a warning; so is TXT
	// (a date in an announcement's text that matches none of its times).
	w := b.Warnings()
	if len(w) != 2 || w[0].ID != RuleHoliday || !w[0].Warning || !strings.Contains(w[0].Source, "法律未禁止") ||
		w[1].ID != RuleTextDate || !w[1].Warning || !strings.Contains(w[1].Source, "E6") {
		t.Fatalf("Warnings() = %+v", w)
	}
}

// G2 is listed but says it is not checked, and why.
func TestG2Unchecked(t *testing.T) {
	table := book(t).Table()
	if r := rule(table, "G2"); r.Unchecked == "" || !strings.Contains(r.Unchecked, "不校验") {
		t.Fatalf("G2 = %+v", r)
	}
	for _, r := range table {
		if r.ID != "G2" && r.Unchecked != "" {
			t.Errorf("%s marked unchecked", r.ID)
		}
	}
}
