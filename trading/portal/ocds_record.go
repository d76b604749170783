package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// The compiled record (OCDS record package): a project's releases merged
// by the OCDS merge routine, newest last, into one compiledRelease that
// states where the process stands. Served at
// /api/v1/projects/{code}/ocds/record next to the release package.

// RecordPackage is an OCDS 1.1 record package with the one record of a
// project.
type RecordPackage struct {
	URI           string        `json:"uri"`
	Version       string        `json:"version"`
	Extensions    []string      `json:"extensions,omitempty"`
	PublishedDate time.Time     `json:"publishedDate"`
	Publisher     OCDSPublisher `json:"publisher"`
	Packages      []string      `json:"packages"`
	Records       []OCDSRecord  `json:"records"`
}

// OCDSRecord is the record of one contracting process: links to its
// releases and their merge.
type OCDSRecord struct {
	OCID            string              `json:"ocid"`
	Releases        []OCDSLinkedRelease `json:"releases"`
	CompiledRelease map[string]any      `json:"compiledRelease"`
}

// OCDSLinkedRelease points at a release inside the release package.
type OCDSLinkedRelease struct {
	URL  string    `json:"url"`
	Date time.Time `json:"date"`
	Tag  []string  `json:"tag"`
}

// OCDSRecordPackage compiles the release package pkg (one project) into
// its record package; uri is where the record is served.
func OCDSRecordPackage(pkg *ReleasePackage, uri string) (*RecordPackage, error) {
	if pkg == nil || len(pkg.Releases) == 0 {
		return nil, fmt.Errorf("%w: no releases to compile", ErrOCDSInput)
	}
	rels := slices.Clone(pkg.Releases)
	slices.SortStableFunc(rels, func(a, b OCDSRelease) int { return a.Date.Compare(b.Date) })
	rec := OCDSRecord{OCID: rels[0].OCID}
	compiled := map[string]any{}
	for _, r := range rels {
		if r.OCID != rec.OCID {
			return nil, fmt.Errorf("%w: releases of %s and %s in one record", ErrOCDSInput, rec.OCID, r.OCID)
		}
		rec.Releases = append(rec.Releases, OCDSLinkedRelease{URL: pkg.URI + "#" + r.ID, Date: r.Date, Tag: slices.Clone(r.Tag)})
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber() // amounts stay exact
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			return nil, err
		}
		delete(m, "tag") // a compiled release has its own
		mergeOCDS(compiled, m)
	}
	compiled["id"] = rec.OCID + "-compiled"
	compiled["tag"] = []string{"compiled"}
	rec.CompiledRelease = compiled
	return &RecordPackage{URI: uri, Version: pkg.Version, Extensions: pkg.Extensions, PublishedDate: pkg.PublishedDate,
		Publisher: pkg.Publisher, Packages: []string{pkg.URI}, Records: []OCDSRecord{rec}}, nil
}

// mergeOCDS merges release src into the compiled dst, by the OCDS merge
// rules: objects merge field by field; an array of objects that all have
// an id merges item by item on the id (identifier merge), new items
// appended; any other value, arrays included, replaces the old one; null
// removes it.
func mergeOCDS(dst, src map[string]any) {
	for k, v := range src {
		switch sv := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			d, ok := dst[k].(map[string]any)
			if !ok {
				d = map[string]any{}
			}
			mergeOCDS(d, sv)
			dst[k] = d
		case []any:
			old, _ := dst[k].([]any)
			if identified(sv) && (old == nil || identified(old)) {
				dst[k] = mergeByID(old, sv)
			} else {
				dst[k] = sv
			}
		default:
			dst[k] = v
		}
	}
}

func identified(a []any) bool {
	if len(a) == 0 {
		return false
	}
	for _, x := range a {
		m, ok := x.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["id"]; !ok {
			return false
		}
	}
	return true
}

func mergeByID(old, src []any) []any {
	out := slices.Clone(old)
	for _, x := range src {
		m := x.(map[string]any)
		i := slices.IndexFunc(out, func(o any) bool { return fmt.Sprint(o.(map[string]any)["id"]) == fmt.Sprint(m["id"]) })
		if i < 0 {
			n := map[string]any{}
			mergeOCDS(n, m)
			out = append(out, n)
			continue
		}
		n := out[i].(map[string]any)
		mergeOCDS(n, m)
	}
	return out
}
