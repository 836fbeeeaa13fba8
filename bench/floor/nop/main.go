// Command nop starts and exits: the process floor of a cold command (a
// trivial static Go binary).
package main

func main() {}
