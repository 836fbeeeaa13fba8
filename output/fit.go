package output

import "github.com/charmbracelet/x/ansi"

// minColumn is the narrowest fit cuts a column to: an ID cut to it is still
// a prefix that commands accept (5 characters of type, 8 of key, "…").
const minColumn = 14

// fit cuts the cells of the widest columns, ending each cut cell with "…",
// until the table is at most width columns wide, each column followed by pad
// spaces. The widest column is cut first, one column at a time, so that
// narrow columns (times, statuses) keep their text; no column is cut below
// minColumn or its header. A width of 0 (not a terminal, or not known)
// leaves the table as it is; so does one that nothing can be cut to fit.
func fit(header []string, rows [][]string, width, pad int) ([]string, [][]string) {
	if width <= 0 || len(header) == 0 {
		return header, rows
	}
	widths := make([]int, len(header))
	floor := make([]int, len(header))
	for i, h := range header {
		widths[i] = ansi.StringWidth(h)
		floor[i] = max(widths[i], minColumn)
	}
	for _, r := range rows {
		for i := range min(len(r), len(widths)) {
			widths[i] = max(widths[i], ansi.StringWidth(r[i]))
		}
	}
	total := 0
	for _, w := range widths {
		total += w + pad
	}
	cut := false
	for total > width {
		widest := -1
		for i, w := range widths {
			if w > floor[i] && (widest < 0 || w > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break // every column is as narrow as it may be
		}
		widths[widest]--
		total--
		cut = true
	}
	if !cut {
		return header, rows
	}
	out := make([][]string, len(rows))
	for j, r := range rows {
		out[j] = make([]string, len(r))
		for i, c := range r {
			if i < len(widths) {
				c = ansi.Truncate(c, widths[i], "…")
			}
			out[j][i] = c
		}
	}
	return header, out
}
