package portal

import (
	"strings"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// count is the list's total ("共 N 条"). An exact count of 100,000 announcements
// is a scan of them on every view (274 → 34 req/s, BENCHMARKS.md), so:
//   - a filter of category, sub-type, region and announcement type alone sums
//     the few rows of published_announcement_counts, which triggers keep in the
//     transaction that publishes (migration 00030): exact;
//   - any other filter (status, dates, words) counts at most
//     maxPagedRows + 1 matches, as far as numbered pages reach anyway, and
//     says so when there are more (capped): never a made-up number.
func (f *Filter) count(db *gorm.DB) (total int64, capped bool, err error) {
	if f.Status == "" && f.From.IsZero() && f.To.IsZero() && f.Query == "" {
		// Equivalent SQL: SELECT coalesce(sum(n), 0) FROM published_announcement_counts
		//   WHERE category = ? AND sub_type = ? AND region_code LIKE ? AND type = ?
		q := db.Table("published_announcement_counts").Select("coalesce(sum(n), 0)")
		if f.Category != "" {
			q = q.Where("category = ?", f.Category)
		}
		if f.SubType != "" {
			q = q.Where("sub_type = ?", f.SubType)
		}
		if f.Region != "" {
			q = q.Where("region_code LIKE ?", trading.RegionPrefix(f.Region))
		}
		if f.Type != "" {
			q = q.Where("type = ?", f.Type)
		}
		return total, false, q.Scan(&total).Error
	}
	// Equivalent SQL: SELECT count(*) FROM (SELECT 1 FROM announcements a [JOIN projects p …]
	//   WHERE a.status = 'published' AND … LIMIT 10001) x
	cq := db.Table("announcements a").Select("1").Where("a.status = ?", trading.AnnouncementPublished)
	if f.Category != "" || f.SubType != "" || f.Region != "" || strings.TrimSpace(f.Query) != "" {
		cq = cq.Joins("JOIN projects p ON p.id = a.project_id")
	}
	if err := db.Table("(?) AS x", f.where(cq).Limit(maxPagedRows+1)).Select("count(*)").Scan(&total).Error; err != nil {
		return 0, false, err
	}
	if total > maxPagedRows {
		return maxPagedRows, true, nil
	}
	return total, false, nil
}
