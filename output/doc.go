// Package output renders what commands print: styled text and tables on a
// terminal (lipgloss, honouring NO_COLOR and --color), tab-separated lines in
// pipes, and one JSON object per line with --json. Every field of a table,
// a record or a row is escaped (Escape) outside JSON, so text another agent
// chose is one field of one line and never acts on a terminal. It also formats
// diagnostics ("n2n: error: …", "n2n: hint: …", or a JSON error object) and
// reads passphrases from /dev/tty without echo.
//
// An *IO value is the only way commands reach stdin, stdout and stderr. It is
// safe for concurrent use: each call writes whole lines under a lock.
package output
