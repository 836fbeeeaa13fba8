// Command n2n sends end-to-end encrypted messages and makes
// capability-secured calls between agents identified by public keys.
package main

import (
	"os"

	"github.com/n2n-dev/n2n/cmd"
)

func main() { os.Exit(cmd.Main()) }
