package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ggzy/ggzy/trading/calendar"
	"github.com/shopspring/decimal"
)

// Book is the rule book in force: its numbers and the working-day calendar.
// Its methods only read; change Params between uses, not during.
type Book struct {
	Params
	Cal *calendar.Calendar
}

// NewBook returns a rule book with the given numbers and calendar.
func NewBook(p Params, cal *calendar.Calendar) *Book { return &Book{Params: p, Cal: cal} }

// CheckSchedule checks a lot at the moment at of submitting or publishing its
// announcement: schedule (E1–E3, G1–G3, L1, L2, P1, order, past deadlines,
// required fields) and money (D1, D3, D4, G5, L7, P2, amounts).
func (b *Book) CheckSchedule(l Lot, at time.Time) []Violation {
	return b.Check(l, at).Violations
}

// Check is CheckSchedule with the notes: working-day rules that held by a
// provisional calendar, and HOL warnings.
func (b *Book) Check(l Lot, at time.Time) Result {
	c := &checker{b: b, l: l, at: at}
	c.run()
	return Result{Violations: c.vs, Notes: c.notes}
}

// CheckAmendment checks a clarification or amendment (澄清或者修改) issued at
// `at` that may affect the bids, changing old into new: E4 / G4 require that
// at least 15 days (prequalification: 3) remain to the new deadline, so a late
// amendment must move the deadline. Then new is checked as CheckSchedule
// does, except that a deadline already past is reported only if the
// amendment changed it.
func (b *Book) CheckAmendment(old, new Lot, at time.Time) []Violation {
	return b.CheckAmended(old, new, at).Violations
}

// CheckAmended is CheckAmendment with the notes, as Check.
func (b *Book) CheckAmended(old, new Lot, at time.Time) Result {
	c := &checker{b: b, l: new, at: at, changed: changedFields(old, new)}
	switch new.Category {
	case Engineering:
		c.amendDeadline("E4", b.E4MinDays, new.BidDeadline, "bid_deadline", "投标截止时间")
		// The prequalification deadline matters only while it is ahead.
		if new.Prequalification && (old.RegistrationEnd.IsZero() || old.RegistrationEnd.After(at)) {
			c.amendDeadline("E4", b.E4PrequalMinDays, new.RegistrationEnd, "registration_end", "资格预审申请截止时间")
		}
	case Procurement:
		c.amendDeadline("G4", b.G4MinDays, new.BidDeadline, "bid_deadline", "投标截止时间")
	}
	c.run()
	return Result{Violations: c.vs, Notes: c.notes}
}

func (c *checker) amendDeadline(rule string, least int, deadline time.Time, field, label string) {
	if deadline.IsZero() {
		return
	}
	if n := calendar.CalendarDays(c.at, deadline); n < least {
		c.fail(rule, field, fmt.Sprintf("澄清或修改于%s发出，距%s（%s）仅%d日，应顺延至%s或以后",
			ts(c.at), label, ts(deadline), n, calendar.DateOf(c.at).AddDays(least)))
	}
}

type checker struct {
	b       *Book
	l       Lot
	at      time.Time
	changed map[string]bool // nil: every field counts as new
	vs      []Violation
	notes   []Note
	calSeen map[int]bool
}

func (c *checker) fail(rule, field, actual string) {
	d := findDef(rule)
	c.vs = append(c.vs, Violation{Rule: rule, Requirement: d.text(&c.b.Params), Actual: actual, Source: d.source, Field: field})
}

func (c *checker) add(rule, field, requirement, actual string) {
	c.vs = append(c.vs, Violation{Rule: rule, Requirement: requirement, Actual: actual, Source: "统一交易规则（平台校验）", Field: field})
}

func (c *checker) run() {
	if !c.l.Category.Valid() {
		c.add(RuleRequired, "category", "交易类别应为工程建设招标、政府采购、土地矿权出让或国有产权交易", fmt.Sprintf("实际为%q", c.l.Category))
		return
	}
	c.required()
	c.order()
	c.past()
	c.periods()
	c.holidays()
	c.money()
	c.modes()
}

type timeField struct {
	name  string
	label string
	t     time.Time
}

func (c *checker) times() map[string]timeField {
	l := c.l
	fs := []timeField{
		{"announcement_at", "公告发布时间", l.AnnouncementAt},
		{"announcement_end", "公告期结束时间", l.AnnouncementEnd},
		{"doc_issue_start", "招标文件开始发出时间", l.DocIssueStart},
		{"doc_issue_end", "招标文件停止发出时间", l.DocIssueEnd},
		{"registration_end", "报名（申请）截止时间", l.RegistrationEnd},
		{"bid_deadline", "投标截止（开标）时间", l.BidDeadline},
		{"listing_start", "挂牌开始时间", l.ListingStart},
		{"listing_end", "挂牌截止时间", l.ListingEnd},
		{"auction_at", "拍卖时间", l.AuctionAt},
	}
	m := make(map[string]timeField, len(fs))
	for _, f := range fs {
		m[f.name] = f
	}
	return m
}

// required: the schedule and money fields each category cannot do without.
func (c *checker) required() {
	l, tf := c.l, c.times()
	need := func(names ...string) {
		for _, n := range names {
			if f := tf[n]; f.t.IsZero() {
				c.add(RuleRequired, n, l.Category.Name()+"须设定"+f.label, "未设定")
			}
		}
	}
	needMoney := func(field, label string, v decimal.Decimal) {
		if v.IsZero() {
			c.add(RuleRequired, field, l.Category.Name()+"须设定"+label, "未设定")
		}
	}
	switch l.Category {
	case Engineering:
		need("announcement_at", "doc_issue_start", "doc_issue_end", "bid_deadline")
		if l.Prequalification {
			need("registration_end")
		}
		needMoney("control_price", "招标控制价（最高投标限价）", l.ControlPrice)
	case Procurement:
		need("announcement_at", "doc_issue_start", "doc_issue_end", "bid_deadline")
		needMoney("budget", "预算金额", l.Budget)
	case Land:
		need("announcement_at")
		switch {
		case !l.ListingStart.IsZero() || !l.ListingEnd.IsZero():
			need("listing_start", "listing_end")
		case l.AuctionAt.IsZero() && l.BidDeadline.IsZero():
			c.add(RuleRequired, "listing_start", "土地出让须设定挂牌起止时间、拍卖时间或投标截止时间", "均未设定")
		}
		needMoney("starting_price", "起始价", l.StartingPrice)
		needMoney("increment", "加价幅度", l.Increment)
	case Property:
		need("announcement_at", "listing_end")
		needMoney("listing_price", "挂牌价", l.ListingPrice)
		needMoney("appraised_value", "评估值", l.AppraisedValue)
	}
}

// orderPairs: the first must not be after the second (equal is allowed).
var orderPairs = [][2]string{
	{"announcement_at", "announcement_end"},
	{"announcement_at", "doc_issue_start"},
	{"doc_issue_start", "doc_issue_end"},
	{"doc_issue_start", "bid_deadline"},
	{"doc_issue_end", "bid_deadline"},
	{"doc_issue_end", "registration_end"}, // E3 (prequalification) only
	{"registration_end", "bid_deadline"},
	{"announcement_at", "bid_deadline"},
	{"announcement_at", "listing_start"},
	{"listing_start", "listing_end"},
	{"announcement_at", "listing_end"},
	{"registration_end", "listing_end"},
	{"announcement_at", "auction_at"},
	{"registration_end", "auction_at"},
}

func (c *checker) order() {
	tf := c.times()
	for _, p := range orderPairs {
		if p[1] == "registration_end" && !(c.l.Category == Engineering && c.l.Prequalification) {
			continue
		}
		a, b := tf[p[0]], tf[p[1]]
		if a.t.IsZero() || b.t.IsZero() || !b.t.Before(a.t) {
			continue
		}
		c.add(RuleOrder, b.name, b.label+"不得早于"+a.label,
			fmt.Sprintf("%s为%s，%s为%s", b.label, ts(b.t), a.label, ts(a.t)))
	}
}

// past: deadlines must lie after the moment of the action.
func (c *checker) past() {
	tf := c.times()
	for _, n := range []string{"doc_issue_end", "registration_end", "bid_deadline", "listing_end", "auction_at"} {
		f := tf[n]
		if f.t.IsZero() || f.t.After(c.at) || (c.changed != nil && !c.changed[n]) {
			continue
		}
		c.add(RulePast, n, f.label+"应晚于当前操作时间", fmt.Sprintf("%s为%s，操作时间为%s", f.label, ts(f.t), ts(c.at)))
	}
}

// minDays checks date(b) − date(a) ≥ least; a reversed pair is left to order().
func (c *checker) minDays(rule, field string, a, b time.Time, least int) {
	if a.IsZero() || b.IsZero() {
		return
	}
	n := calendar.CalendarDays(a, b)
	if n >= 0 && n < least {
		c.fail(rule, field, fmt.Sprintf("实际%d日（%s至%s）", n, ts(a), ts(b)))
	}
}

// minWorkingDays checks that the working days d with date(a) < d ≤ date(b)
// are at least `least`. A year without its notice is counted by its
// provisional calendar (conservative: never more working days than the
// official notice will give), and the result says so (ProvisionalMark). A
// year that cannot be counted even so yields a CAL violation unless the
// answer does not depend on it.
func (c *checker) minWorkingDays(rule, field string, a, b time.Time, least int) {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return
	}
	if c.b.Cal == nil {
		c.calendarMissing(field, 0)
		return
	}
	if due, r, err := c.b.Cal.AddWorkingDaysProvisional(a, least); err == nil {
		if !calendar.DateOf(b).Before(calendar.DateOf(due)) {
			if r.Provisional {
				c.provisional(rule, field, r, fmt.Sprintf("%s至%s不少于%d个工作日", ts(a), ts(b), least))
			}
			return
		}
	} else if !errors.Is(err, calendar.ErrYearMissing{}) {
		c.calendarMissing(field, 0)
		return
	}
	// Short, or the calendar ran out before enough working days: count what
	// there is; that fails only if b itself lies in a missing year.
	n, r, err := c.b.Cal.WorkingDaysBetweenProvisional(a, b)
	if err != nil {
		for _, y := range c.b.Cal.Missing(a, b) {
			c.calendarMissing(field, y)
		}
		return
	}
	c.fail(rule, field, fmt.Sprintf("实际%d个工作日（%s至%s）", n, ts(a), ts(b)))
	if r.Provisional {
		v := &c.vs[len(c.vs)-1]
		v.Provisional = true
		v.Actual += fmt.Sprintf("；%s：%s年节假日安排尚未录入，暂按法定节假日及可能的调休连休均不上班计算，录入后以官方安排为准", ProvisionalMark, years(r.Years))
	}
}

// provisional notes a working-day rule that held by a provisional year.
func (c *checker) provisional(rule, field string, r calendar.Reckoning, what string) {
	d := findDef(rule)
	c.notes = append(c.notes, Note{Rule: rule, Kind: NoteProvisional, Field: field, Source: d.source,
		Message: fmt.Sprintf("%s：%s（%s年国务院办公厅节假日安排尚未录入，暂按法定节假日及可能的调休连休均不上班、周末不调休计算；录入官方安排后将重新校验）",
			ProvisionalMark, what, years(r.Years))})
}

func years(ys []int) string {
	parts := make([]string, len(ys))
	for i, y := range ys {
		parts[i] = fmt.Sprint(y)
	}
	return strings.Join(parts, "、")
}

// holidays warns (HOL) where a bid deadline (= the opening, E6), an auction
// or a listing close falls on a weekend or public holiday: the law does not
// forbid it, but bidders and the opening hall may not be there. An
// amendment warns only about the times it changed.
func (c *checker) holidays() {
	if c.b.Cal == nil {
		return
	}
	tf := c.times()
	names := []string{"bid_deadline"}
	if c.l.Category == Land || c.l.Category == Property {
		names = append(names, "auction_at", "listing_end")
	}
	for _, n := range names {
		f := tf[n]
		if f.t.IsZero() || (c.changed != nil && !c.changed[n]) {
			continue
		}
		d := calendar.DateOf(f.t)
		w, r, err := c.b.Cal.IsWorkingDateProvisional(d)
		if err != nil || w {
			continue // a missing year is reported by CAL where it matters
		}
		what := "法定节假日（放假日）"
		if d.IsWeekend() {
			what = weekdayZH[d.Weekday()]
		}
		msg := fmt.Sprintf("%s %s 为%s，法律未禁止，但请确认投标人、竞买人及开标（交易）场所届时可以到场或在线参加", f.label, ts(f.t), what)
		if r.Provisional {
			msg += "（" + ProvisionalMark + "）"
		}
		c.notes = append(c.notes, Note{Rule: RuleHoliday, Kind: NoteWarning, Field: n, Message: msg, Source: findDef(RuleHoliday).source})
	}
}

var weekdayZH = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

func (c *checker) calendarMissing(field string, year int) {
	if c.calSeen == nil {
		c.calSeen = map[int]bool{}
	}
	if c.calSeen[year] {
		return
	}
	c.calSeen[year] = true
	actual := "未配置工作日历"
	if year != 0 {
		actual = fmt.Sprintf("缺少%d年工作日历（节假日安排），请管理员补录", year)
	}
	c.vs = append(c.vs, Violation{Rule: RuleCalendar, Requirement: "按工作日计算的期限须依据当年国务院办公厅节假日安排（含调休）计算",
		Actual: actual, Source: "国务院办公厅关于部分节假日安排的通知", Field: field})
}

func (c *checker) periods() {
	l, p := c.l, &c.b.Params
	switch l.Category {
	case Engineering:
		c.minDays("E1", "bid_deadline", l.DocIssueStart, l.BidDeadline, p.E1MinDays)
		c.minDays("E2", "doc_issue_end", l.DocIssueStart, l.DocIssueEnd, p.E2MinDays)
		if l.Prequalification {
			c.minDays("E3", "registration_end", l.DocIssueEnd, l.RegistrationEnd, p.E3MinDays)
		}
	case Procurement:
		c.minDays("G1", "bid_deadline", l.DocIssueStart, l.BidDeadline, p.G1MinDays)
		c.minWorkingDays("G2", "announcement_end", l.AnnouncementAt, l.AnnouncementEnd, p.G2WorkingDays)
		c.minWorkingDays("G3", "doc_issue_end", l.DocIssueStart, l.DocIssueEnd, p.G3MinWorkingDays)
	case Land:
		c.minDays("L1", "listing_start", l.AnnouncementAt, l.ListingStart, p.L1MinDays)
		c.minDays("L1", "auction_at", l.AnnouncementAt, l.AuctionAt, p.L1MinDays)
		c.minDays("L1", "bid_deadline", l.AnnouncementAt, l.BidDeadline, p.L1MinDays) // transfer by tender (招标出让)
		if p.L2WorkingDays {
			c.minWorkingDays("L2", "listing_end", l.ListingStart, l.ListingEnd, p.L2MinDays)
		} else {
			c.minDays("L2", "listing_end", l.ListingStart, l.ListingEnd, p.L2MinDays)
		}
	case Property:
		// P1: the formal disclosure runs from the announcement to the listing close.
		c.minWorkingDays("P1", "listing_end", l.AnnouncementAt, l.ListingEnd, p.P1MinWorkingDays)
	}
}

type moneyField struct {
	name  string
	label string
	v     decimal.Decimal
}

func (c *checker) money() {
	l, p := c.l, &c.b.Params
	fields := []moneyField{
		{"control_price", "招标控制价", l.ControlPrice},
		{"estimated_price", "估算价", l.EstimatedPrice},
		{"budget", "预算金额", l.Budget},
		{"starting_price", "起始价", l.StartingPrice},
		{"reserve_price", "底价", l.ReservePrice},
		{"increment", "加价幅度", l.Increment},
		{"listing_price", "挂牌价", l.ListingPrice},
		{"appraised_value", "评估值", l.AppraisedValue},
		{"deposit", "保证金", l.Deposit},
	}
	bad := map[string]bool{}
	for _, f := range fields {
		switch {
		case f.v.IsNegative():
			c.add(RuleAmount, f.name, f.label+"必须大于0", "实际"+yuan(f.v))
		case !f.v.Equal(f.v.Round(2)):
			c.add(RuleAmount, f.name, f.label+"最多保留两位小数（分）", "实际"+f.v.String()+"元")
		default:
			continue
		}
		bad[f.name] = true
	}
	// Rules comparing amounts are skipped where an amount is itself bad.
	ok := func(names ...string) bool { return !slices.ContainsFunc(names, func(n string) bool { return bad[n] }) }
	dep := l.Deposit
	switch l.Category {
	case Engineering:
		base, baseLabel := l.EstimatedPrice, "估算价"
		if base.IsZero() {
			base, baseLabel = l.ControlPrice, "招标控制价"
		}
		if dep.IsPositive() && base.IsPositive() && ok("deposit", "estimated_price", "control_price") {
			c.maxRatio("D1", dep, base, baseLabel, p.D1MaxRatio)
			if l.SurveyDesign {
				c.maxRatio("D4", dep, base, baseLabel, p.D4MaxRatio)
			}
		}
		if dep.IsPositive() && ok("deposit") {
			if l.SurveyDesign {
				c.maxAmount("D4", dep, p.D4MaxAmount)
			} else {
				c.maxAmount("D3", dep, p.D3MaxAmount)
			}
		}
	case Procurement:
		if dep.IsPositive() && l.Budget.IsPositive() && ok("deposit", "budget") {
			c.maxRatio("G5", dep, l.Budget, "预算金额", p.G5MaxRatio)
		}
	case Land:
		if l.StartingPrice.IsPositive() && ok("deposit", "starting_price") {
			if floor := l.StartingPrice.Mul(p.L7MinRatio); dep.LessThan(floor) {
				c.fail("L7", "deposit", fmt.Sprintf("实际%s，起始价%s的%s为%s", yuan(dep), yuan(l.StartingPrice), pct(p.L7MinRatio), yuan(floor)))
			}
		}
		if l.ReservePrice.IsPositive() && l.StartingPrice.IsPositive() && l.ReservePrice.LessThan(l.StartingPrice) && ok("reserve_price", "starting_price") {
			c.add(RuleAmount, "reserve_price", "底价不得低于起始价", fmt.Sprintf("底价%s，起始价%s", yuan(l.ReservePrice), yuan(l.StartingPrice)))
		}
	case Property:
		c.p2()
	}
}

// maxRatio: amount ≤ base × ratio (rule D1, D4, G5).
func (c *checker) maxRatio(rule string, amount, base decimal.Decimal, baseLabel string, ratio decimal.Decimal) {
	if limit := base.Mul(ratio); amount.GreaterThan(limit) {
		c.fail(rule, "deposit", fmt.Sprintf("实际%s，占%s%s的%s%%，上限为%s",
			yuan(amount), baseLabel, yuan(base), amount.Mul(hundred).Div(base).StringFixed(2), yuan(limit)))
	}
}

// maxAmount: amount ≤ cap (rule D3, D4).
func (c *checker) maxAmount(rule string, amount, limit decimal.Decimal) {
	if amount.GreaterThan(limit) {
		c.fail(rule, "deposit", fmt.Sprintf("实际%s，上限为%s", yuan(amount), yuan(limit)))
	}
}

// p2: the first listing price is at least the appraised value; a relisting
// below the approval ratio needs written approval (P2).
func (c *checker) p2() {
	l, p := c.l, &c.b.Params
	price, appraised := l.ListingPrice, l.AppraisedValue
	if !price.IsPositive() || !appraised.IsPositive() || !price.LessThan(appraised) {
		return
	}
	share := price.Mul(hundred).Div(appraised).StringFixed(2) + "%"
	if !l.Relisting {
		c.fail("P2", "listing_price", fmt.Sprintf("首次挂牌价%s低于评估值%s（为评估值的%s）", yuan(price), yuan(appraised), share))
		return
	}
	if price.LessThan(appraised.Mul(p.P2ApprovalRatio)) && !l.ListingApproved {
		c.fail("P2", "listing_price", fmt.Sprintf("新挂牌价%s为评估值%s的%s，低于%s，未取得书面同意", yuan(price), yuan(appraised), share, pct(p.P2ApprovalRatio)))
	}
}

// changedFields names the schedule fields an amendment changed.
func changedFields(old, new Lot) map[string]bool {
	m := map[string]bool{}
	pairs := []struct {
		name string
		a, b time.Time
	}{
		{"doc_issue_end", old.DocIssueEnd, new.DocIssueEnd},
		{"registration_end", old.RegistrationEnd, new.RegistrationEnd},
		{"bid_deadline", old.BidDeadline, new.BidDeadline},
		{"listing_end", old.ListingEnd, new.ListingEnd},
		{"auction_at", old.AuctionAt, new.AuctionAt},
	}
	for _, p := range pairs {
		if !p.a.Equal(p.b) {
			m[p.name] = true
		}
	}
	return m
}
