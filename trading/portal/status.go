package portal

import (
	"strings"

	"github.com/ggzy/ggzy/trading"
)

// Status is where an announcement's project stands, as the provincial portals
// show it beside every announcement (报名中, 已截止…). It is derived when read,
// from the lots' schedule, the database clock and the project's published
// announcements and results only: never from registrations, downloads or bids,
// whose number must not be told before the deadline (K4, K5).
type Status string

const (
	StatusUpcoming    Status = "upcoming"    // 未开始: the documents are not yet issued
	StatusRegistering Status = "registering" // 报名中
	StatusClosed      Status = "closed"      // 已截止: registration over, not yet opened
	StatusOpened      Status = "opened"      // 已开标 (E6): the bid deadline, auction or listing end passed
	StatusPublicity   Status = "publicity"   // 公示中: the candidates are published (E12)
	StatusDealt       Status = "dealt"       // 已成交: a published result, awarded or sold
	StatusFailed      Status = "failed"      // 已流标: every lot failed, and that is published
	StatusSuspended   Status = "suspended"   // 已暂停 by a supervisor (public, with its reason)
	StatusTerminated  Status = "terminated"  // 已终止
)

// Statuses in the order of a transaction, for the filter.
var Statuses = []Status{StatusUpcoming, StatusRegistering, StatusClosed, StatusOpened, StatusPublicity, StatusDealt, StatusFailed,
	StatusSuspended, StatusTerminated}

// Name is the Chinese name of the status.
func (s Status) Name() string {
	return map[Status]string{StatusUpcoming: "未开始", StatusRegistering: "报名中", StatusClosed: "已截止", StatusOpened: "已开标",
		StatusPublicity: "公示中", StatusDealt: "已成交", StatusFailed: "已流标", StatusSuspended: "已暂停", StatusTerminated: "已终止"}[s]
}

// Valid tells a known status.
func (s Status) Valid() bool { return s.Name() != "" }

func statusOptions() []trading.Option {
	var out []trading.Option
	for _, s := range Statuses {
		out = append(out, trading.Option{Value: string(s), Name: s.Name()})
	}
	return out
}

// lotStageSQL ranks one lot (l, its outcome o, its project p, and n: the
// project's published announcements, n.candidates whether its candidates are
// out, n.decided the last failure, result or termination announcement) by how
// far it has gone, at the database time bound to the three "?":
//
//	1 upcoming · 2 registering · 3 closed · 4 opened · 5 publicity · 6 failed · 7 dealt
//
// A completed outcome exists only once its result announcement is published
// (bidding's AdvanceResult). A failed one is written when the failure is
// declared and its announcement goes to review, so it counts only once a
// failure, result or termination announcement of the project is out after it.
// The registration deadline is registration_end, else the bid deadline
// (engineering, procurement: documents obtained until the deadline, K5),
// else the listing end or auction; the opening is the bid deadline, the
// auction, or the listing end.
const lotStageSQL = `CASE
	WHEN o.status = 'completed' THEN 7
	WHEN o.status IS NOT NULL AND n.decided >= o.updated_at THEN 6
	WHEN n.candidates THEN 5
	WHEN ? >= coalesce(l.bid_deadline, l.auction_at, l.listing_end) THEN 4
	WHEN ? >= ` + lotDeadlineSQL + ` THEN 3
	WHEN ? < coalesce(l.doc_issue_start, p.opened_at) THEN 1
	ELSE 2 END`

// lotDeadlineSQL is a lot's registration deadline (the list's 截止时间).
const lotDeadlineSQL = `coalesce(l.registration_end, l.bid_deadline, l.listing_end, l.auction_at)`

// announcementFactsSQL are n's columns, aggregated over published announcements.
const announcementFactsSQL = `bool_or(type = 'candidates') AS candidates,
	max(published_at) FILTER (WHERE type IN ('failure', 'result', 'termination')) AS decided`

// projectStateSQL is the project's status from its lots' stages s.stage:
// the least advanced open lot's (a lot still registering keeps the project
// 报名中), and once every lot is decided 已成交 if any was dealt, else
// 已流标. A termination or a suspension comes first.
const projectStateSQL = `CASE
	WHEN p.status = 'terminated' THEN 'terminated'
	WHEN p.suspended_at IS NOT NULL THEN 'suspended'
	WHEN min(s.stage) >= 6 THEN CASE WHEN max(s.stage) = 7 THEN 'dealt' ELSE 'failed' END
	ELSE coalesce((ARRAY['upcoming', 'registering', 'closed', 'opened', 'publicity'])[min(s.stage)], 'registering')
END`

// projectStatusJoin adds st.state and st.deadline to a query over projects
// p, one project at a time: for the few rows of a page. The deadline is
// the next one to come, else the last one passed. Its four "?" are the
// database time (statusJoinArgs).
const projectStatusJoin = `LEFT JOIN LATERAL (
	SELECT ` + projectStateSQL + ` AS state,
	coalesce(min(s.deadline) FILTER (WHERE s.deadline > ?), max(s.deadline)) AS deadline
	FROM (SELECT ` + lotStageSQL + ` AS stage, ` + lotDeadlineSQL + ` AS deadline
		FROM lots l LEFT JOIN lot_outcomes o ON o.lot_id = l.id
		CROSS JOIN (SELECT ` + announcementFactsSQL + ` FROM announcements WHERE project_id = p.id AND status = 'published') n
		WHERE l.project_id = p.id) s
) st ON true`

// statusJoinArgs are the bind values of projectStatusJoin: the time, four times.
func statusJoinArgs(now any) []any { return []any{now, now, now, now} }

// projectsInStateSQL selects the ids of the projects in a state (the last
// "?"), every project at once with hash joins: the status filter as it was
// before project_status_spans, kept to check the spans against
// (TestStatusSpansAgreeWithTheDerivation). The same expressions as
// projectStatusJoin; three "?" are the database time.
const projectsInStateSQL = `SELECT p.id FROM projects p JOIN (
		SELECT l.project_id, ` + lotStageSQL + ` AS stage
		FROM lots l JOIN projects p ON p.id = l.project_id LEFT JOIN lot_outcomes o ON o.lot_id = l.id
		LEFT JOIN (SELECT project_id, ` + announcementFactsSQL + ` FROM announcements WHERE status = 'published' GROUP BY project_id) n
			ON n.project_id = l.project_id
	) s ON s.project_id = p.id
	GROUP BY p.id HAVING ` + projectStateSQL + ` = ?`

// statusFilterSQL selects the ids of the projects in a state (the first
// "?") at the database time (the other two): the status filter. The state
// is stored as spans of time, computed with lotStageSQL and projectStateSQL
// at each moment of the lots' schedule and kept by triggers (migration
// 00030), so the filter is an index scan instead of every project's status
// (1.1 s at 100,000 announcements, BENCHMARKS.md).
const statusFilterSQL = `SELECT project_id FROM project_status_spans WHERE state = ? AND until_at > ? AND from_at <= ?`

// regionNameSQL names a county-level region with its city ("福州市" +
// "鼓楼区"): GB/T 2260 names are short, and several cities have a 鼓楼区.
// One without a city row is named with its province: a municipality's
// district ("天津市" + "和平区", Shenyang has one too) or a county-level
// city the province administers directly ("湖北省" + "仙桃市").
const regionNameSQL = `coalesce((SELECT rc.name FROM regions rc WHERE rc.code = substr(r.code, 1, 4) || '00' AND rc.code <> r.code
	AND r.code NOT LIKE '%00'), (SELECT rp.name FROM regions rp WHERE rp.code = substr(r.code, 1, 2) || '0000'
	AND r.code NOT LIKE '%00'), '') || r.name`

// searchWords splits a search into the words every announcement found must
// contain (AND), full-width spaces included.
func searchWords(q string) []string {
	return strings.Fields(q)
}
