package main

import "fmt"

// warn prints one warning line on stderr, naming the flag it is about. A warning never changes
// the exit code: the command did what was asked, and the line says what to look at.
func warn(a *app, flag, msg string) {
	fmt.Fprintf(a.stderr, "warning: %s: %s\n", flag, msg)
}
