package trading

import (
	"context"
	"fmt"
	"strings"
)

// The centre's area (GGZY_AREA): the administrative division (GB/T 2260,
// migration 00023) whose regions the centre offers in its region choices,
// the portal's filter among them. Projects and announcements outside it stay
// where they are; only the choices shrink.

// DefaultArea is Fujian province, the divisions shipped as data.
const DefaultArea = "350000"

// SetArea sets the centre's area; an unknown code is refused, naming it.
func (s *Service) SetArea(ctx context.Context, code string) error {
	code = strings.TrimSpace(code)
	var n int64
	if err := s.DB.WithContext(ctx).Model(&Region{}).Where("code = ?", code).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("GGZY_AREA: %q is not an administrative division code in the regions table (GB/T 2260, migration 00023: Fujian 35xxxx)", code)
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
func RegionTree(regions []Region) []RegionGroup {
	var out []RegionGroup
	index := map[string]int{}
	for _, r := range regions {
		switch {
		case strings.HasSuffix(r.Code, "0000"): // the province
			out = append(out, RegionGroup{Region: r})
		case strings.HasSuffix(r.Code, "00"): // a city
			index[r.Code[:4]] = len(out)
			out = append(out, RegionGroup{Region: r})
		default: // a county-level division, under its city when listed
			if i, ok := index[r.Code[:4]]; ok {
				out[i].Children = append(out[i].Children, r)
			} else {
				out = append(out, RegionGroup{Region: r})
			}
		}
	}
	return out
}
