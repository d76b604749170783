package trading

import "strings"

// DiffLine is one line of a side-by-side comparison: the old text's line
// and the new one's; Op says whether it is the same, removed, added or
// changed (a removed line paired with an added one).
type DiffLine struct {
	Op  string // "same", "del", "add", "change"
	Old string
	New string
}

// DiffLines compares two texts line by line (longest common subsequence),
// for an amendment against the announcement it amends. Announcements are short (a few
// hundred lines), so the quadratic table is small (int32: 4 MB at the
// limit); beyond maxDiffLines lines the texts are shown as one change.
func DiffLines(oldText, newText string) []DiffLine {
	a := splitLines(oldText)
	b := splitLines(newText)
	const maxDiffLines = 1000
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		return []DiffLine{{Op: "change", Old: oldText, New: newText}}
	}
	// lcs[i][j]: the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	cells := make([]int32, (len(a)+1)*(len(b)+1))
	for i := range lcs {
		lcs[i] = cells[i*(len(b)+1) : (i+1)*(len(b)+1)]
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	var dels, adds []string
	flush := func() {
		// Removed and added lines side by side, paired as changes.
		for k := 0; k < max(len(dels), len(adds)); k++ {
			switch {
			case k < len(dels) && k < len(adds):
				out = append(out, DiffLine{Op: "change", Old: dels[k], New: adds[k]})
			case k < len(dels):
				out = append(out, DiffLine{Op: "del", Old: dels[k]})
			default:
				out = append(out, DiffLine{Op: "add", New: adds[k]})
			}
		}
		dels, adds = nil, nil
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			flush()
			out = append(out, DiffLine{Op: "same", Old: a[i], New: b[j]})
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			adds = append(adds, b[j])
			j++
		default:
			dels = append(dels, a[i])
			i++
		}
	}
	flush()
	return out
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
