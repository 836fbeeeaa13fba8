// Package cmd is the n2n command line: one file per command, each a small
// options struct and a run function that calls the layers below and prints
// through output. exit.go maps every error to the documented exit status in
// one place. Nothing else in the program prints or exits.
package cmd
