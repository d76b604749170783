package trading

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading/calendar"
	"github.com/ggzy/ggzy/trading/rules"
)

// The working-day calendar (工作日历) is data (RULES.md "Counting days"): the
// embedded official notices, overridden year by year by the rows of
// calendar_years that an administrator saves. Several instances share one
// database, so each checks the table before handing out the rule book.

// maxCalendarCSV bounds one year's CSV (a real notice is about 2 KB); the
// column has the same CHECK.
const maxCalendarCSV = 64 << 10

// CalendarYear describes one loaded year for the administrator's page.
type CalendarYear struct {
	Year       int
	Source     string // "内置" (embedded notice) or "管理员维护"
	Maintained bool   // an administrator's row is in force
	OffDays    int    // rows of kind off (放假)
	WorkDays   int    // rows of kind work (调休上班)
	UpdatedAt  time.Time
	UpdatedBy  string
	CSV        string // the administrator's text, or the embedded data as CSV
}

// calendarSync remembers which administrator versions a service's calendar
// holds: year → md5 of the CSV applied. A checksum of the content, not
// count + max(updated_at), because the clock may repeat a timestamp (a
// manual clock in tests and demos) and two saves must still differ.
type calendarSync struct {
	mu   sync.Mutex
	cal  *calendar.Calendar // the calendar sums describe
	sums map[int]string
}

// reset starts over when the service's calendar was replaced.
func (st *calendarSync) reset(cal *calendar.Calendar) {
	if st.cal != cal || st.sums == nil {
		st.cal, st.sums = cal, map[int]string{}
	}
}

func (s *Service) calendarSync() *calendarSync { return &s.calSync }

// embeddedCalendar is the calendar of the embedded files, for restoring a
// year whose administrator row has gone.
var embeddedCalendar = sync.OnceValues(calendar.Default)

// RuleBook returns the rule book in force, its working-day calendar brought
// up to date with calendar_years first: one small query per call, and a
// reload of only the years whose CSV changed (by this or another instance).
func (s *Service) RuleBook(ctx context.Context) (*rules.Book, error) {
	return s.ruleBookOn(ctx, s.DB)
}

// ruleBookOn is RuleBook reading through db, which may be the caller's
// transaction: a transaction that waited for a second pooled connection
// could deadlock a busy pool.
func (s *Service) ruleBookOn(ctx context.Context, db *gorm.DB) (*rules.Book, error) {
	if s.Book == nil || s.Book.Cal == nil {
		return nil, errors.New("trading: service has no rule book or working-day calendar")
	}
	if err := s.syncCalendar(ctx, db); err != nil {
		return nil, err
	}
	return s.Book, nil
}

type calendarSum struct {
	Year int    `gorm:"column:year"`
	Sum  string `gorm:"column:sum"`
}

// syncCalendar reads under the lock, so that a snapshot older than what a
// concurrent sync or save applied can never be applied after it.
func (s *Service) syncCalendar(ctx context.Context, db *gorm.DB) error {
	st := s.calendarSync()
	st.mu.Lock()
	defer st.mu.Unlock()
	// Equivalent SQL: SELECT year, md5(csv) AS sum FROM calendar_years
	var sums []calendarSum
	if err := db.WithContext(ctx).Table("calendar_years").Select("year, md5(csv) AS sum").
		Scan(&sums).Error; err != nil {
		return fmt.Errorf("read calendar versions: %w", err)
	}
	st.reset(s.Book.Cal)

	var changed []int
	inDB := make(map[int]bool, len(sums))
	for _, r := range sums {
		inDB[r.Year] = true
		if st.sums[r.Year] != r.Sum {
			changed = append(changed, r.Year)
		}
	}
	for y := range st.sums {
		if !inDB[y] {
			s.restoreEmbeddedYear(st, y)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	// Equivalent SQL: SELECT year, csv, md5(csv) AS sum FROM calendar_years WHERE year IN (…)
	var rows []struct {
		Year int    `gorm:"column:year"`
		CSV  string `gorm:"column:csv"`
		Sum  string `gorm:"column:sum"`
	}
	if err := db.WithContext(ctx).Table("calendar_years").Select("year, csv, md5(csv) AS sum").
		Where("year IN ?", changed).Scan(&rows).Error; err != nil {
		return fmt.Errorf("read calendar years: %w", err)
	}
	for _, r := range rows {
		days, err := calendar.Parse(r.Year, strings.NewReader(r.CSV))
		if err == nil {
			err = st.cal.SetYear(r.Year, days)
		}
		if err != nil {
			// Saved rows were valid when saved; a stricter parser must not
			// stop every deadline. Keep what is loaded and say so once.
			s.Log.Error("calendar year in database rejected; keeping the loaded data", "year", r.Year, "err", err)
		}
		st.sums[r.Year] = r.Sum
	}
	return nil
}

// restoreEmbeddedYear puts back the embedded data of a year whose row was
// deleted. A year with no embedded file stays as it was: the calendar
// cannot unload a year. Callers hold st.mu.
func (s *Service) restoreEmbeddedYear(st *calendarSync, year int) {
	delete(st.sums, year)
	def, err := embeddedCalendar()
	if err != nil || !def.HasYear(year) {
		s.Log.Warn("calendar year removed from database but has no embedded data; keeping it", "year", year)
		return
	}
	if err := st.cal.SetYear(year, def.Days(year)); err != nil {
		s.Log.Error("restore embedded calendar year", "year", year, "err", err)
	}
}

// SaveCalendarYear stores an administrator's version of one year's calendar
// (the CSV of the State Council notice) and puts it in force here at once;
// other instances pick it up on their next RuleBook call.
func (s *Service) SaveCalendarYear(ctx context.Context, a Actor, year int, csvText string) error {
	// The CLI acts as the system, as for CreateAccount.
	if a.Role != RoleAdmin && a.Role != SystemActor.Role {
		return Forbidden("只有系统管理员可以维护工作日历")
	}
	if year < 2000 || year > 2999 {
		return Invalid("year", "年份须为2000至2999之间的四位数字")
	}
	csvText = strings.ReplaceAll(csvText, "\r\n", "\n")
	switch {
	case strings.TrimSpace(csvText) == "":
		return Invalid("csv", "请填写%d年的节假日安排；若该年确无调整，至少填写表头 date,kind,holiday", year)
	case len(csvText) > maxCalendarCSV:
		return Invalid("csv", "工作日历内容过长（%d字节），上限为%d字节", len(csvText), maxCalendarCSV)
	case !utf8.ValidString(csvText) || strings.ContainsRune(csvText, 0):
		return Invalid("csv", "工作日历内容须为 UTF-8 文本")
	}
	days, err := calendar.Parse(year, strings.NewReader(csvText))
	if err != nil {
		var pe *calendar.ParseError
		if errors.As(err, &pe) {
			return Invalid("csv", "第%d行有误：%v", pe.Line, pe.Err)
		}
		return Invalid("csv", "工作日历无法解析：%v", err)
	}
	if _, err := s.RuleBook(ctx); err != nil {
		return err
	}
	off, work := countKinds(days)
	verb := "更新"
	if !s.Book.Cal.HasYear(year) {
		verb = "新增"
	}
	summary := fmt.Sprintf("%s%d年工作日历：%d个休息日、%d个调休工作日", verb, year, off, work)
	var by *int64
	if a.AccountID != 0 {
		id := a.AccountID
		by = &id
	}
	now := s.Clock.Now()
	// The calendar as it will be, to re-check the approved schedules with:
	// the official year replaces the provisional one (or a previous save).
	// cur is the calendar in force now, copied before the save's own
	// transaction can be synced into it.
	cur, next := s.Book.Cal.Clone(), s.Book.Cal.Clone()
	if err := next.SetYear(year, days); err != nil {
		return err // unreachable: Parse validated the days
	}
	var sum string
	err = Transact(ctx, s.DB, func(tx *gorm.DB) error {
		sum = ""
		if err := tx.Raw(`INSERT INTO calendar_years (year, csv, updated_by, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (year) DO UPDATE SET csv = EXCLUDED.csv, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
			RETURNING md5(csv)`, year, csvText, by, now.UTC()).Scan(&sum).Error; err != nil {
			return fmt.Errorf("save calendar %d: %w", year, err)
		}
		if err := Audit(tx, now, a, "calendar.save", "calendar_year", strconv.Itoa(year), summary); err != nil {
			return err
		}
		return s.recheckSchedules(ctx, tx, a, year, rules.NewBook(s.Book.Params, cur), rules.NewBook(s.Book.Params, next), now)
	})
	if err != nil {
		return err
	}
	// Apply here now. Should another instance's later save already be
	// applied, the recorded sum differs from the table and the next sync
	// puts the newer version back.
	st := s.calendarSync()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.reset(s.Book.Cal)
	if err := st.cal.SetYear(year, days); err != nil {
		return err // unreachable: Parse validated the days
	}
	st.sums[year] = sum
	return nil
}

func countKinds(days []calendar.Day) (off, work int) {
	for _, d := range days {
		if d.Kind == calendar.KindWork {
			work++
		} else {
			off++
		}
	}
	return off, work
}

type calendarYearInfo struct {
	Year      int       `gorm:"column:year"`
	CSV       string    `gorm:"column:csv"`
	UpdatedAt time.Time `gorm:"column:updated_at"`
	UpdatedBy string    `gorm:"column:updated_by"`
}

// CalendarYears lists the loaded years, ascending, with where each comes
// from, for the administrator's page and the rule book page.
func (s *Service) CalendarYears(ctx context.Context) ([]CalendarYear, error) {
	book, err := s.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	// Equivalent SQL:
	//   SELECT c.year, c.csv, c.updated_at, coalesce(a.display_name, '') AS updated_by
	//   FROM calendar_years c LEFT JOIN accounts a ON a.id = c.updated_by
	var rows []calendarYearInfo
	if err := s.DB.WithContext(ctx).Table("calendar_years AS c").
		Select("c.year, c.csv, c.updated_at, coalesce(a.display_name, '') AS updated_by").
		Joins("LEFT JOIN accounts AS a ON a.id = c.updated_by").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list calendar years: %w", err)
	}
	years := book.Cal.Years()
	out := make([]CalendarYear, 0, len(years))
	for _, y := range years {
		days := book.Cal.Days(y)
		cy := CalendarYear{Year: y, Source: "内置"}
		cy.OffDays, cy.WorkDays = countKinds(days)
		if i := slices.IndexFunc(rows, func(r calendarYearInfo) bool { return r.Year == y }); i >= 0 {
			r := rows[i]
			cy.Source, cy.Maintained, cy.UpdatedAt, cy.UpdatedBy, cy.CSV = "管理员维护", true, r.UpdatedAt, r.UpdatedBy, r.CSV
			if cy.UpdatedBy == "" {
				cy.UpdatedBy = "系统"
			}
		} else {
			var sb strings.Builder
			if err := calendar.WriteCSV(&sb, days); err != nil {
				return nil, err
			}
			cy.CSV = sb.String()
		}
		out = append(out, cy)
	}
	return out, nil
}

// MissingCalendarYears lists this year and next year (in Asia/Shanghai)
// where their notice is not loaded: working-day deadlines reaching into
// them cannot be counted (RULES.md: never guess from weekends), so the
// supervisor and the administrator are warned. It reads the calendar as
// loaded; call RuleBook first to see other instances' edits.
func (s *Service) MissingCalendarYears(now time.Time) []int {
	y := now.In(Shanghai).Year()
	var out []int
	for _, year := range []int{y, y + 1} {
		if s.Book == nil || s.Book.Cal == nil || !s.Book.Cal.HasYear(year) {
			out = append(out, year)
		}
	}
	return out
}

// A calendar flag: an approved schedule that no longer holds once a year's
// official notice is in force.
type calendarFlag struct {
	ID             int64     `gorm:"column:id;primaryKey"`
	Year           int       `gorm:"column:year"`
	AnnouncementID int64     `gorm:"column:announcement_id"`
	ProjectID      int64     `gorm:"column:project_id"`
	Rule           string    `gorm:"column:rule"`
	Field          string    `gorm:"column:field"`
	Message        string    `gorm:"column:message"`
	CreatedAt      time.Time `gorm:"column:created_at"`
}

func (calendarFlag) TableName() string { return "calendar_flags" }

// recheckSchedules runs the rule book again, with the calendar in force
// (cur) and the one about to be (next), over every approved opening announcement (published, of a
// running project, or scheduled) whose lots have a time from late December
// of the year before onwards: their periods may have been counted by the
// provisional year. What held by the calendar in force but fails by next is
// flagged to the supervisors (calendar_flags, shown by CalendarSource) and
// audited, in the transaction of the save.
func (s *Service) recheckSchedules(ctx context.Context, tx *gorm.DB, a Actor, year int, cur, next *rules.Book, now time.Time) error {
	from := time.Date(year-1, time.December, 25, 0, 0, 0, 0, Shanghai)
	// Equivalent SQL:
	//   SELECT a.* FROM announcements a JOIN projects p ON p.id = a.project_id
	//   WHERE a.type IN (opening types) AND (a.status = 'scheduled' OR (a.status = 'published' AND p.status = 'active'))
	//     AND EXISTS (SELECT 1 FROM lots l WHERE l.project_id = p.id AND GREATEST(…) >= from)
	var announcements []Announcement
	err := tx.WithContext(ctx).Table("announcements AS a").Select("a.*").Joins("JOIN projects p ON p.id = a.project_id").
		Where("a.type IN ?", []AnnouncementType{AnnouncementTender, AnnouncementProcurement, AnnouncementTransfer, AnnouncementListing}).
		Where("(a.status = ? OR (a.status = ? AND p.status = ?))", AnnouncementScheduled, AnnouncementPublished, ProjectActive).
		Where(`EXISTS (SELECT 1 FROM lots l WHERE l.project_id = p.id AND
			GREATEST(l.doc_issue_end, l.registration_end, l.bid_deadline, l.listing_end, l.auction_at) >= ?)`, from).
		Order("a.id").Find(&announcements).Error
	if err != nil {
		return fmt.Errorf("recheck schedules for %d: %w", year, err)
	}
	for i := range announcements {
		n := &announcements[i]
		at := n.PublishedAt
		if n.Status == AnnouncementScheduled {
			at = n.PublishAt
		}
		if at == nil {
			continue
		}
		p, err := LoadProject(tx, "id = ?", n.ProjectID)
		if err != nil {
			return err
		}
		for li := range p.Lots {
			l := &p.Lots[li]
			rl := l.RuleLot(p.Category)
			rl.AnnouncementAt = *at
			before := map[string]bool{}
			for _, v := range cur.CheckSchedule(rl, *at) {
				before[v.Rule+"/"+v.Field] = true
			}
			for _, v := range next.CheckSchedule(rl, *at) {
				if before[v.Rule+"/"+v.Field] {
					continue // not the new year's doing
				}
				msg := fmt.Sprintf("导入%d年国务院办公厅节假日安排后，%s“%s”%s%d（%s）已批准的时间安排不再满足 %s：%s；%s",
					year, n.Type.Name(), n.Title, p.Category.LotNoun(), l.Seq, l.Name, v.Rule, v.Requirement, v.Actual)
				f := calendarFlag{Year: year, AnnouncementID: n.ID, ProjectID: p.ID, Rule: v.Rule,
					Field: fmt.Sprintf("lots[%d].%s", l.Seq-1, v.Field), Message: truncateRunes(msg, 1000), CreatedAt: now}
				res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&f)
				if res.Error != nil {
					return fmt.Errorf("flag %s: %w", p.Code, res.Error)
				}
				if res.RowsAffected == 0 {
					continue
				}
				if err := Audit(tx, now, a, "calendar.recheck", "announcement", strconv.FormatInt(n.ID, 10),
					fmt.Sprintf("项目 %s：%s", p.Code, msg)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// CalendarSource puts the schedules that a newly imported year broke on
// the supervisors' dashboard and the project's timeline. A flag stays open
// until the project publishes an amendment or a termination after it.
type CalendarSource struct{ Svc *Service }

var _ SupervisionSource = CalendarSource{}

type calendarFlagRow struct {
	Year      int       `gorm:"column:year"`
	Rule      string    `gorm:"column:rule"`
	Message   string    `gorm:"column:message"`
	CreatedAt time.Time `gorm:"column:created_at"`
	Code      string    `gorm:"column:code"`
}

// Alerts lists the open flags, newest first.
func (src CalendarSource) Alerts(ctx context.Context, now time.Time, limit int) ([]Alert, error) {
	// Equivalent SQL:
	//   SELECT f.year, f.rule, f.message, f.created_at, p.code FROM calendar_flags f JOIN projects p ON p.id = f.project_id
	//   WHERE p.status = 'active' AND NOT EXISTS (SELECT 1 FROM announcements a WHERE a.project_id = f.project_id
	//     AND a.status = 'published' AND a.type IN ('amendment', 'termination') AND a.published_at > f.created_at)
	//   ORDER BY f.created_at DESC, f.id DESC LIMIT limit
	var rows []calendarFlagRow
	err := src.Svc.DB.WithContext(ctx).Table("calendar_flags AS f").Select("f.year, f.rule, f.message, f.created_at, p.code").
		Joins("JOIN projects p ON p.id = f.project_id").
		Where("p.status <> ?", ProjectTerminated).
		Where(`NOT EXISTS (SELECT 1 FROM announcements a WHERE a.project_id = f.project_id AND a.status = ?
			AND a.type IN ? AND a.published_at > f.created_at)`, AnnouncementPublished, []AnnouncementType{AnnouncementAmendment, AnnouncementTermination}).
		Order("f.created_at DESC, f.id DESC").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("calendar flags: %w", err)
	}
	out := make([]Alert, len(rows))
	for i, r := range rows {
		out[i] = Alert{Kind: "calendar_recheck", Rule: r.Rule,
			Title:  fmt.Sprintf("导入%d年节假日安排后，已批准的时间安排不再满足%s", r.Year, r.Rule),
			Detail: r.Message, ProjectCode: r.Code, At: r.CreatedAt, Link: "/supervisor/projects/" + r.Code}
	}
	return out, nil
}

// Timeline lists a project's flags.
func (src CalendarSource) Timeline(ctx context.Context, projectID int64) ([]TimelineEvent, error) {
	var rows []calendarFlag
	if err := src.Svc.DB.WithContext(ctx).Where("project_id = ?", projectID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("calendar flags: %w", err)
	}
	out := make([]TimelineEvent, len(rows))
	for i, r := range rows {
		out[i] = TimelineEvent{At: r.CreatedAt, Kind: "rule", Title: fmt.Sprintf("%s 按%d年官方节假日安排重新校验未通过", r.Rule, r.Year), Detail: r.Message}
	}
	return out, nil
}
