package main

import (
	"io"
	"strings"
)

// ttyReader is standard input that says it is a terminal, as a user typing answers at one.
type ttyReader struct{ io.Reader }

func (ttyReader) IsTerminal() bool { return true }

// tty is a terminal on which the user types s.
func tty(s string) io.Reader { return ttyReader{strings.NewReader(s)} }
