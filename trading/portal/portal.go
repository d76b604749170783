package portal

import (
	"context"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ggzy/ggzy/trading"

	"gorm.io/gorm"
)

// The public portal (统一信息发布): published announcements only, public fields only.

// Filter selects published announcements.
type Filter struct {
	Category trading.Category
	SubType  trading.SubType // 交易子类 (施工, 货物, 挂牌…)
	Type     trading.AnnouncementType
	Status   Status // the project's derived status (status.go)
	Region   string // a region code; "350100" also matches its districts 3501xx
	From, To time.Time
	Query    string // words, each searched in title, body and trading code (pg_trgm); all must match
	Before   int64  // cursor: announcements published before this sequence number
	After    int64  // incremental sync: announcements after this sequence number…
	Sync     bool   // …oldest first (set by the "after" parameter, even after=0)
	Page     int    // numbered pages (the portal's list): page ≥ 1 with a total; 0 pages by cursor
	Limit    int

	now time.Time // the database time the status is derived at (set by List)
}

// maxPagedRows is how deep numbered pages go (see the page parameter).
const maxPagedRows = 10000

// ParseFilter reads the filter from query parameters, naming the
// field of any bad value.
func ParseFilter(get func(string) string) (Filter, error) {
	f := Filter{Category: trading.Category(get("category")), SubType: trading.SubType(get("sub_type")),
		Type: trading.AnnouncementType(get("type")), Status: Status(get("status")),
		Region: strings.TrimSpace(get("region")), Query: strings.TrimSpace(get("q")), Limit: 20}
	if f.Category != "" && !f.Category.Valid() {
		return f, trading.Invalid("category", "交易类别须为%s", trading.CategoryChoices())
	}
	if f.SubType != "" && !f.SubType.Valid() {
		return f, trading.Invalid("sub_type", "交易子类不正确")
	}
	if f.SubType != "" && f.Category != "" && !f.SubType.ValidFor(f.Category) {
		return f, trading.Invalid("sub_type", "%s没有“%s”这一子类", f.Category.Name(), f.SubType.Name())
	}
	if f.Type != "" && !f.Type.Valid() {
		return f, trading.Invalid("type", "公告类型不正确")
	}
	if f.Status != "" && !f.Status.Valid() {
		return f, trading.Invalid("status", "项目状态不正确")
	}
	if f.Region != "" && (len(f.Region) != 6 || strings.Trim(f.Region, "0123456789") != "") {
		return f, trading.Invalid("region", "行政区划代码须为6位数字")
	}
	if utf8.RuneCountInString(f.Query) > 50 {
		return f, trading.Invalid("q", "搜索词不超过50个字符")
	}
	if len(searchWords(f.Query)) > 5 {
		return f, trading.Invalid("q", "搜索词最多5个（以空格分隔）")
	}
	var err error
	if v := get("from"); v != "" {
		if f.From, err = time.ParseInLocation("2006-01-02", v, trading.Shanghai); err != nil {
			return f, trading.Invalid("from", "日期格式应为 YYYY-MM-DD")
		}
	}
	if v := get("to"); v != "" {
		t, err := time.ParseInLocation("2006-01-02", v, trading.Shanghai)
		if err != nil {
			return f, trading.Invalid("to", "日期格式应为 YYYY-MM-DD")
		}
		f.To = t.AddDate(0, 0, 1)
	}
	if v := get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 100 {
			return f, trading.Invalid("limit", "须为1至100的整数")
		}
	}
	if v := get("page"); v != "" {
		if f.Page, err = strconv.Atoi(v); err != nil || f.Page < 1 || f.Page > 100000 {
			return f, trading.Invalid("page", "页码须为正整数")
		}
	}
	// Numbered pages reach the first maxPagedRows announcements: deeper, an
	// anonymous reader would make the database skip millions of rows.
	// Narrowing the search (or the cursor) reaches the rest.
	if f.Page > 0 && (f.Page-1)*max(f.Limit, 1) >= maxPagedRows {
		return f, trading.Invalid("page", "页码过大：按页浏览只到前%d条，请缩小检索范围（类别、地区、时间或关键词）", maxPagedRows)
	}
	if v := get("cursor"); v != "" {
		if f.Before, err = decodeCursor(v); err != nil {
			return f, trading.Invalid("cursor", "分页游标无效")
		}
	}
	if v := get("after"); v != "" {
		if f.After, err = strconv.ParseInt(v, 10, 64); err != nil || f.After < 0 {
			return f, trading.Invalid("after", "须为非负整数（公告的 seq）")
		}
		f.Sync = true
	}
	if f.Before > 0 && f.Sync {
		return f, trading.Invalid("cursor", "cursor 与 after 不能同时使用")
	}
	if f.Page > 0 && (f.Before > 0 || f.Sync) {
		return f, trading.Invalid("page", "page 不能与 cursor 或 after 同时使用")
	}
	return f, nil
}

// tradingCode is a whole unified trading code (统一交易编码, region-year-
// category-sequence, see trading.nextTradingCode), as typed in a search.
var tradingCode = regexp.MustCompile(`(?i)^[0-9]{6}-[0-9]{4}-(GC|CG|TD|CQ)-[0-9]{4,}$`)

// The cursor is opaque to clients so its meaning can change.
func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("s" + strconv.FormatInt(seq, 10)))
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 's' {
		return 0, trading.Invalid("cursor", "分页游标无效")
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || n <= 0 {
		return 0, trading.Invalid("cursor", "分页游标无效")
	}
	return n, nil
}

// scanAnnouncementRows reads the list columns (publicAnnouncements without body) by
// position: the portal's hottest query, so without GORM's reflection.
func scanAnnouncementRows(q *gorm.DB) ([]announcementRow, error) {
	rs, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []announcementRow
	for rs.Next() {
		var r announcementRow
		if err := rs.Scan(&r.ID, &r.Seq, &r.Type, &r.Title, &r.PublishedAt, &r.AmendsID, &r.Code, &r.Category,
			&r.RegionCode, &r.RegionName, &r.SubType); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

type announcementRow struct {
	ID          int64                    `gorm:"column:id"`
	Seq         int64                    `gorm:"column:published_seq"`
	Type        trading.AnnouncementType `gorm:"column:type"`
	Title       string                   `gorm:"column:title"`
	BodyHTML    string                   `gorm:"column:body_html"`
	PublishedAt time.Time                `gorm:"column:published_at"`
	AmendsID    *int64                   `gorm:"column:amends_id"`
	Code        string                   `gorm:"column:code"`
	Category    trading.Category         `gorm:"column:category"`
	RegionCode  string                   `gorm:"column:region_code"`
	RegionName  string                   `gorm:"column:region_name"`
	SubType     trading.SubType          `gorm:"column:sub_type"`
}

func (r *announcementRow) public(withBody bool) trading.PublicAnnouncement {
	p := trading.PublicAnnouncement{ID: r.ID, Seq: r.Seq, Type: r.Type, TypeName: r.Type.Name(), Title: r.Title,
		PublishedAt: r.PublishedAt, AmendsID: r.AmendsID, ProjectCode: r.Code, Category: r.Category,
		RegionCode: r.RegionCode, RegionName: r.RegionName}
	if withBody {
		p.BodyHTML = r.BodyHTML
	}
	return p
}

const listColumns = "a.id, a.published_seq, a.type, a.title, a.published_at, a.amends_id, p.code, p.category, p.region_code, " +
	regionNameSQL + " AS region_name, p.sub_type"

func publicAnnouncements(db *gorm.DB, withBody bool) *gorm.DB {
	cols := listColumns
	if withBody {
		cols += ", a.body_html"
	}
	// Equivalent SQL: SELECT … FROM announcements a JOIN projects p ON p.id = a.project_id
	//   JOIN regions r ON r.code = p.region_code WHERE a.status = 'published'
	return db.Table("announcements a").Select(cols).
		Joins("JOIN projects p ON p.id = a.project_id").
		Joins("JOIN regions r ON r.code = p.region_code").
		Where("a.status = ?", trading.AnnouncementPublished)
}

// ListedAnnouncement is a published announcement in the portal's list: the announcement, its
// project's sub-type, and the project's status and deadline as of the
// database clock (status.go).
type ListedAnnouncement struct {
	trading.PublicAnnouncement
	SubType     trading.SubType `json:"sub_type"`
	SubTypeName string          `json:"sub_type_name"`
	Status      Status          `json:"status"`
	StatusName  string          `json:"status_name"`
	Deadline    *time.Time      `json:"deadline,omitempty"` // the next registration deadline, else the last one passed
}

// Page is one page of the list: its announcements, the cursor of the next
// (cursor paging) or the total (numbered paging).
type Page struct {
	Announcements []ListedAnnouncement
	Next          string
	Total         int64
	Capped        bool // more than maxPagedRows match: Total is maxPagedRows (shown "10000 条以上")
}

// where applies the filter's conditions (not its paging) to a query over
// announcements a, projects p and the status lateral st.
func (f *Filter) where(q *gorm.DB) *gorm.DB {
	if f.Category != "" {
		q = q.Where("p.category = ?", f.Category)
	}
	if f.SubType != "" {
		q = q.Where("p.sub_type = ?", f.SubType)
	}
	if f.Type != "" {
		q = q.Where("a.type = ?", f.Type)
	}
	if f.Status != "" {
		q = q.Where("a.project_id IN ("+statusFilterSQL+")", f.Status, f.now, f.now)
	}
	if f.Region != "" {
		q = q.Where("p.region_code LIKE ?", trading.RegionPrefix(f.Region))
	}
	if !f.From.IsZero() {
		q = q.Where("a.published_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("a.published_at < ?", f.To)
	}
	// Every word must be found (AND), each in the title, the body or the
	// trading code: a code typed whole finds every announcement of its project
	// (through the project index), part of one the projects whose code
	// has it. The codes' ids are gathered first (ARRAY(…), once), so the
	// three alternatives are one BitmapOr over announcements' indexes.
	for _, w := range searchWords(f.Query) {
		if tradingCode.MatchString(w) {
			q = q.Where("a.project_id = (SELECT id FROM projects WHERE code = ?)", strings.ToUpper(w))
			continue
		}
		like := "%" + trading.EscapeLike(w) + "%"
		q = q.Where("(a.title ILIKE ? OR a.body ILIKE ? OR a.project_id = ANY (ARRAY(SELECT id FROM projects WHERE code ILIKE ?)))",
			like, like, like)
	}
	return q
}

// Announcements lists published announcements newest first (or, with After,
// oldest first from a sequence number) and the cursor of the next page.
// Sequence numbers are assigned in commit order (see publish), so paging
// by them never skips or repeats an announcement, however many are published
// meanwhile.
func Announcements(ctx context.Context, s *trading.Service, f Filter) ([]ListedAnnouncement, string, error) {
	pg, err := List(ctx, s, f)
	if err != nil {
		return nil, "", err
	}
	return pg.Announcements, pg.Next, nil
}

// List is Announcements with numbered pages: with f.Page ≥ 1 it skips the
// pages before and counts the announcements that match.
func List(ctx context.Context, s *trading.Service, f Filter) (*Page, error) {
	db := s.DB.WithContext(ctx)
	now, err := trading.DBNow(db)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 20
	}
	// The page is chosen first, by ids alone, and only its few rows get
	// their columns, region name and status after: whatever the inner
	// select list holds is computed for every candidate row before
	// ORDER BY … LIMIT. The status filter reads the stored spans (statusFilterSQL).
	// Equivalent SQL: SELECT a.…, p.…, st.state, st.deadline FROM (SELECT a.id, a.published_seq, a.project_id
	//   FROM announcements a JOIN projects p … WHERE … ORDER BY a.published_seq DESC LIMIT n) x
	//   JOIN announcements a ON a.id = x.id JOIN projects p … JOIN regions r …
	//   LEFT JOIN LATERAL (the project's status from its lots) st ON true ORDER BY x.published_seq DESC
	f.now = now
	q := f.where(db.Table("announcements a").Select("a.id, a.published_seq, a.project_id").
		Joins("JOIN projects p ON p.id = a.project_id").Where("a.status = ?", trading.AnnouncementPublished))
	out := &Page{}
	order := "published_seq DESC"
	if f.Page > 0 {
		if out.Total, out.Capped, err = f.count(db); err != nil {
			return nil, err
		}
		q = q.Offset((f.Page - 1) * f.Limit)
	} else if f.Sync {
		q, order = q.Where("a.published_seq > ?", f.After), "published_seq ASC"
	} else if f.Before > 0 {
		q = q.Where("a.published_seq < ?", f.Before)
	}
	q = db.Table("(?) AS x", q.Order("a."+order).Limit(f.Limit+1)).Select(listColumns+", st.state, st.deadline").
		Joins("JOIN announcements a ON a.id = x.id").Joins("JOIN projects p ON p.id = x.project_id").
		Joins("JOIN regions r ON r.code = p.region_code").Joins(projectStatusJoin, statusJoinArgs(now)...).Order("x." + order)
	rs, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var r announcementRow
		var n ListedAnnouncement
		if err := rs.Scan(&r.ID, &r.Seq, &r.Type, &r.Title, &r.PublishedAt, &r.AmendsID, &r.Code, &r.Category,
			&r.RegionCode, &r.RegionName, &r.SubType, &n.Status, &n.Deadline); err != nil {
			return nil, err
		}
		n.PublicAnnouncement, n.SubType, n.SubTypeName, n.StatusName = r.public(false), r.SubType, r.SubType.Name(), n.Status.Name()
		out.Announcements = append(out.Announcements, n)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if len(out.Announcements) > f.Limit {
		out.Announcements = out.Announcements[:f.Limit]
		if !f.Sync && f.Page == 0 {
			out.Next = encodeCursor(out.Announcements[len(out.Announcements)-1].Seq)
		}
	}
	return out, nil
}

// Latest is the portal home: the newest announcements of each category.
func Latest(ctx context.Context, s *trading.Service, n int) (map[trading.Category][]ListedAnnouncement, error) {
	out := map[trading.Category][]ListedAnnouncement{}
	for _, c := range trading.Categories() {
		list, _, err := Announcements(ctx, s, Filter{Category: c, Limit: n})
		if err != nil {
			return nil, err
		}
		out[c] = list
	}
	return out, nil
}

// AnnouncementPage is one published announcement with its project (public fields)
// and the project's chain of published announcements.
type AnnouncementPage struct {
	Announcement trading.PublicAnnouncement
	Project      trading.PublicProject
	Chain        []trading.PublicAnnouncement
}

// AnnouncementByID returns a published announcement; anything else is not found.
// Three queries: the announcement with its project, the lots, the chain.
func AnnouncementByID(ctx context.Context, s *trading.Service, id int64) (*AnnouncementPage, error) {
	db := s.DB.WithContext(ctx)
	var row announcementRow
	var projectID int64
	var pTitle, ownerName, agentName string
	var status trading.ProjectStatus
	rs, err := publicAnnouncements(db, true).
		Select(listColumns+", a.body_html, p.id, p.title, p.owner_name, p.status, ag.display_name").
		Joins("JOIN accounts ag ON ag.id = p.agent_id").Where("a.id = ?", id).Rows()
	if err != nil {
		return nil, err
	}
	found := rs.Next()
	if found {
		err = rs.Scan(&row.ID, &row.Seq, &row.Type, &row.Title, &row.PublishedAt, &row.AmendsID, &row.Code, &row.Category,
			&row.RegionCode, &row.RegionName, &row.SubType, &row.BodyHTML, &projectID, &pTitle, &ownerName, &status, &agentName)
	}
	rs.Close()
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, trading.NotFound("公告")
	}
	var lots []trading.Lot
	if err := db.Where("project_id = ?", projectID).Order("seq").Find(&lots).Error; err != nil {
		return nil, err
	}
	out := &AnnouncementPage{Announcement: row.public(true), Project: trading.PublicProject{Code: row.Code, Category: row.Category, SubType: row.SubType, Title: pTitle,
		OwnerName: ownerName, RegionCode: row.RegionCode, RegionName: row.RegionName, AgentName: agentName, Status: string(status)}}
	for i := range lots {
		out.Project.Lots = append(out.Project.Lots, lots[i].Public())
	}
	chain, err := scanAnnouncementRows(publicAnnouncements(db, false).Where("a.project_id = ?", projectID).Order("a.published_seq"))
	if err != nil {
		return nil, err
	}
	for i := range chain {
		out.Chain = append(out.Chain, chain[i].public(false))
	}
	return out, nil
}

// ProjectByCode returns a project that has published announcements, with
// its chain; drafts do not exist publicly.
func ProjectByCode(ctx context.Context, s *trading.Service, code string) (*trading.PublicProject, []trading.PublicAnnouncement, error) {
	p, err := trading.LoadProject(s.DB.WithContext(ctx), "code = ?", code)
	if err != nil {
		return nil, nil, err
	}
	chain, err := scanAnnouncementRows(publicAnnouncements(s.DB.WithContext(ctx), false).Where("a.project_id = ?", p.ID).Order("a.published_seq"))
	if err != nil {
		return nil, nil, err
	}
	if len(chain) == 0 {
		return nil, nil, trading.NotFound("交易项目")
	}
	pub := p.Public()
	out := make([]trading.PublicAnnouncement, len(chain))
	for i := range chain {
		out[i] = chain[i].public(false)
	}
	return &pub, out, nil
}
